"""Fleet trends: per agent and repository over time, from reviewed sessions, with the pass-rate spike rule.

::

    from agentguard.fleet import FleetTrends, Journal, TrendConfig, session_trends

    trends = FleetTrends(Journal(".agentguard/monitor/monitor.db"), TrendConfig(bucket_s=86400))
    snapshot = trends.snapshot()
    for series in snapshot.series:           # one per (agent, repository)
        print(series.agent, series.repo, [b.pass_rate for b in series.buckets])
    print([f.message for f in snapshot.spikes])

    # or over any recorded sessions, e.g. the local store:
    from agentguard.traces import assemble, read_file
    snapshot = session_trends(assemble(read_file(".agentguard/agentguard.db", issues=[])))

Each session becomes one :class:`SessionFacts` (:func:`session_facts`): its agent (``gen_ai.agent.name``,
else the service name) and repository (``vcs.repository.name``, ``vcs.repository.url.full``, else the
last part of ``agentguard.scope.root``); its own test runs (the commands and outcomes the detectors
read: :func:`agentguard.detect.is_test_command`, :func:`agentguard.detect.test_outcome`) with the last
run's outcome as the session's; which files it changed and how many of them are source outside tests;
its model turns and refusals, its cost, whether it deferred (a ``deferral`` finding other than a proper
escalation) and whether it ran a command with raised privileges (``sudo``, ``su``, ``doas``, Codex's
escalated sandbox) on a call no approver granted.

Sessions are counted in the bucket (``bucket_s``, a day by default, aligned to UTC) of their start.

**The spike rule** (``reward_hacking.pass_rate_spike``, a fleet-level finding): in a bucket, for one
agent in one repository, compare the share of sessions whose tests passed with the pooled share of
the ``baseline_buckets`` buckets before it. It is a spike when both have at least ``min_sessions``
sessions with a test outcome, the rise is at least ``min_rise``, and the two shares' Wilson intervals
(``z``) do not overlap, so two or three lucky sessions never make one. It is flagged when the
sessions that did *not* change source outside tests carry the rise on their own: their pass share,
with the same three tests, is a spike over the baseline too (over the baseline's own sessions without
source changes when those are ``min_sessions`` or more). A rise that comes with source changes is work;
one without is the agent optimising the evaluation (editing tests, skipping them, patching the runner).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from ..action import Action
from ..detect import (
    DetectorSet,
    LLMTurn,
    ToolCall,
    ToolResult,
    classify_path,
    default_detectors,
    is_test_command,
    test_outcome,
)
from ..normalise import normalise
from ..scan import replay
from ..telemetry import semconv as sc
from ..traces import Session, Span, session_events
from ._journal import Finding, Journal

SPIKE_CODE: Final = "reward_hacking.pass_rate_spike"
TRENDS_REVIEWER: Final = "trends"
"""The reviewer name of fleet-level findings."""
UNKNOWN: Final = "(unknown)"
_PRIVILEGE_WRAPPERS: Final = frozenset({"sudo", "su", "doas", "runuser", "pkexec", "sudoedit"})
_REPO_ATTRIBUTES: Final = ("vcs.repository.name", "vcs.repository.url.full", sc.SCOPE_ROOT)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendConfig:
    """Bucket size and the spike rule's thresholds (see the module docstring)."""

    bucket_s: int = 86400
    baseline_buckets: int = 7
    min_sessions: int = 5
    min_rise: float = 0.3
    z: float = 1.96
    severity: str = "high"

    def __post_init__(self) -> None:
        if self.bucket_s <= 0 or self.baseline_buckets <= 0 or self.min_sessions <= 0:
            raise ValueError("bucket_s, baseline_buckets and min_sessions must be positive")
        if not 0.0 < self.min_rise <= 1.0 or self.z <= 0:
            raise ValueError("min_rise must be in (0, 1] and z positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionFacts:
    """What the trends count of one session."""

    session_id: str
    agent: str
    repo: str
    start_ns: int
    test_runs: int = 0
    test_passes: int = 0
    tests_passed: bool | None = None
    """The last test run's outcome; ``None`` when the session ran no test with a readable outcome."""
    files_changed: int = 0
    source_changed: int = 0
    """Files changed that are source code outside tests (not test files or test configuration)."""
    llm_calls: int = 0
    refusals: int = 0
    cost_usd: float | None = None
    deferred: bool = False
    escalations: int = 0
    unapproved_escalations: int = 0

    @property
    def source_share(self) -> float:
        """The share of the changed files that are source outside tests (0 when nothing changed)."""
        return self.source_changed / self.files_changed if self.files_changed else 0.0


def _first(spans: Sequence[Span], keys: Sequence[str]) -> str | None:
    for key in keys:
        for s in spans:
            for where in (s.attributes, s.resource):
                value = where.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return None


def _repo_name(value: str) -> str:
    text = value.rstrip("/")
    if text.endswith(".git"):
        text = text[:-4]
    return text.rsplit("/", 1)[-1].rsplit(":", 1)[-1] or value


def _escalated(action: Action) -> bool:
    args = action.arguments
    if (
        args.get("with_escalated_permissions") is True
        or args.get("sandbox_permissions") == "require_escalated"
    ):
        return True
    if action.kind != "shell" or not action.command:
        return False
    shell = normalise(action).shell
    return shell is not None and any(
        c.program in _PRIVILEGE_WRAPPERS or _PRIVILEGE_WRAPPERS.intersection(c.wrappers)
        for c in shell.commands
    )


def _granted_spans(spans: Sequence[Span]) -> set[str]:
    return {
        s.span_id
        for s in spans
        for e in s.events
        if e.name == sc.EVENT_POLICY_DECISION and e.attributes.get(sc.APPROVAL_GRANTED) is True
    }


def session_facts(session: Session, findings: Iterable[tuple[str, str]] = ()) -> SessionFacts:
    """The facts of one assembled session; ``findings`` are its review's ``(code, category)`` pairs."""
    spans = session.spans
    agent = _first(spans, (sc.GEN_AI_AGENT_NAME,)) or _first(spans, ("service.name",)) or UNKNOWN
    repo_value = _first(spans, _REPO_ATTRIBUTES)
    tests: dict[str, bool] = {}
    runs = passes = llm = refusals = escalations = unapproved = 0
    last: bool | None = None
    changed: set[str] = set()
    granted = _granted_spans(spans)
    for ev in session_events(session):
        if isinstance(ev, ToolCall):
            command = ev.action.command
            tests[ev.span_id] = bool(command) and ev.action.kind == "shell" and is_test_command(command or "")
            if _escalated(ev.action):
                escalations += 1
                unapproved += ev.span_id not in granted
        elif isinstance(ev, ToolResult):
            if tests.get(ev.span_id) or (
                ev.span_id not in tests and is_test_command(ev.action.command or "")
            ):
                result = test_outcome(ev.output, ev.error)
                if result is not None:
                    runs += 1
                    passes += result == "pass"
                    last = result == "pass"
            if ev.error is None and ev.action.kind == "file_write":
                path = (ev.change.path if ev.change is not None else None) or ev.action.path
                if path:
                    changed.add(path)
        elif isinstance(ev, LLMTurn):
            llm += 1
            refusals += ev.refusal
    costs = [v for s in spans if isinstance(v := s.attributes.get(sc.COST_USD), int | float)]
    source = sum(1 for p in changed if (i := classify_path(p)).source and not (i.test or i.test_config))
    return SessionFacts(
        session_id=session.id,
        agent=agent,
        repo=_repo_name(repo_value) if repo_value else UNKNOWN,
        start_ns=session.start,
        test_runs=runs,
        test_passes=passes,
        tests_passed=last,
        files_changed=len(changed),
        source_changed=source,
        llm_calls=llm,
        refusals=refusals,
        cost_usd=float(sum(costs)) if costs else None,
        deferred=any(cat == "deferral" and code != "deferral.escalation" for code, cat in findings),
        escalations=escalations,
        unapproved_escalations=unapproved,
    )


# -- aggregation -------------------------------------------------------------------------------------
@dataclass(slots=True)
class Bucket:
    """One agent's sessions in one repository in one time bucket."""

    start_s: int
    sessions: int = 0
    tested: int = 0
    passed: int = 0
    tested_no_source: int = 0
    passed_no_source: int = 0
    source_share_sum: float = 0.0
    changed: int = 0
    llm_calls: int = 0
    refusals: int = 0
    cost_usd: float = 0.0
    priced: int = 0
    deferred: int = 0
    unapproved_escalations: int = 0
    session_ids: list[str] = field(default_factory=list)

    def add(self, f: SessionFacts) -> None:
        self.sessions += 1
        self.session_ids.append(f.session_id)
        if f.tests_passed is not None:
            self.tested += 1
            self.passed += f.tests_passed
            if f.source_changed == 0:
                self.tested_no_source += 1
                self.passed_no_source += f.tests_passed
        if f.files_changed:
            self.changed += 1
            self.source_share_sum += f.source_share
        self.llm_calls += f.llm_calls
        self.refusals += f.refusals
        if f.cost_usd is not None:
            self.priced += 1
            self.cost_usd += f.cost_usd
        self.deferred += f.deferred
        self.unapproved_escalations += f.unapproved_escalations > 0

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.tested if self.tested else None

    @property
    def source_share(self) -> float | None:
        """The mean, over the sessions that changed files, of the share that was source outside tests."""
        return self.source_share_sum / self.changed if self.changed else None

    @property
    def refusal_rate(self) -> float | None:
        return self.refusals / self.llm_calls if self.llm_calls else None

    @property
    def cost_per_session(self) -> float | None:
        return self.cost_usd / self.priced if self.priced else None

    @property
    def deferral_rate(self) -> float | None:
        return self.deferred / self.sessions if self.sessions else None

    @property
    def escalation_rate(self) -> float | None:
        """The share of sessions with a privileged command no approver granted."""
        return self.unapproved_escalations / self.sessions if self.sessions else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_ms": self.start_s * 1000,
            "sessions": self.sessions,
            "tested": self.tested,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "source_share": self.source_share,
            "refusal_rate": self.refusal_rate,
            "cost_per_session": self.cost_per_session,
            "deferral_rate": self.deferral_rate,
            "escalation_rate": self.escalation_rate,
        }


@dataclass(slots=True)
class Series:
    """One agent in one repository: its buckets, oldest first, every bucket of the range present."""

    agent: str
    repo: str
    buckets: list[Bucket]

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "repo": self.repo, "buckets": [b.to_dict() for b in self.buckets]}


@dataclass(slots=True)
class TrendSnapshot:
    """Every series over one common range of buckets, and the spikes found in them."""

    bucket_s: int
    start_s: int
    series: list[Series]
    spikes: list[Finding]
    sessions: int

    def latest(self) -> dict[tuple[str, str], Bucket]:
        """Each series' most recent bucket with sessions (what the monitor's gauges report)."""
        out: dict[tuple[str, str], Bucket] = {}
        for s in self.series:
            filled = [b for b in s.buckets if b.sessions]
            if filled:
                out[(s.agent, s.repo)] = filled[-1]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket_ms": self.bucket_s * 1000,
            "start_ms": self.start_s * 1000,
            "n": len(self.series[0].buckets) if self.series else 0,
            "sessions": self.sessions,
            "series": [s.to_dict() for s in self.series],
            "spikes": [f.to_dict() for f in self.spikes],
        }


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` (``(0, 1)`` for ``n == 0``)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _rise(k: int, n: int, base_k: int, base_n: int, cfg: TrendConfig) -> bool:
    if n < cfg.min_sessions or base_n < cfg.min_sessions:
        return False
    if k / n - base_k / base_n < cfg.min_rise:
        return False
    return wilson(k, n, cfg.z)[0] > wilson(base_k, base_n, cfg.z)[1]


def _confidence(k: int, n: int, base_k: int, base_n: int) -> float:
    """The normal CDF of the two-proportion z score (how unlikely the rise is by chance)."""
    pooled = (k + base_k) / (n + base_n)
    spread = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n + 1 / base_n))
    score = (k / n - base_k / base_n) / spread
    return round(0.5 * (1 + math.erf(score / math.sqrt(2))), 3)


def _day(start_s: int, bucket_s: int) -> str:
    fmt = "%Y-%m-%d" if bucket_s % 86400 == 0 else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(start_s, UTC).strftime(fmt)


def fleet_key(agent: str, repo: str, start_s: int, bucket_s: int) -> str:
    """The session id a fleet-level finding is stored under (one per agent, repository and bucket)."""
    return f"fleet:{agent}@{repo}:{_day(start_s, bucket_s)}"


def spikes(series: Series, cfg: TrendConfig, *, now: float | None = None) -> list[Finding]:
    """The pass-rate spikes with no matching source change in one series (see the module docstring)."""
    out: list[Finding] = []
    at = time.time() if now is None else now
    for i, bucket in enumerate(series.buckets):
        base = series.buckets[max(0, i - cfg.baseline_buckets) : i]
        base_n, base_k = sum(b.tested for b in base), sum(b.passed for b in base)
        if not _rise(bucket.passed, bucket.tested, base_k, base_n, cfg):
            continue
        ns_n, ns_k = sum(b.tested_no_source for b in base), sum(b.passed_no_source for b in base)
        ref_n, ref_k = (ns_n, ns_k) if ns_n >= cfg.min_sessions else (base_n, base_k)
        if not _rise(bucket.passed_no_source, bucket.tested_no_source, ref_k, ref_n, cfg):
            continue
        when = _day(bucket.start_s, cfg.bucket_s)
        evidence = {
            "agent": series.agent,
            "repo": series.repo,
            "bucket_start": when,
            "bucket_s": cfg.bucket_s,
            "pass_rate": round(bucket.passed / bucket.tested, 4),
            "sessions_tested": bucket.tested,
            "baseline_pass_rate": round(base_k / base_n, 4),
            "baseline_sessions_tested": base_n,
            "without_source_change": {"tested": bucket.tested_no_source, "passed": bucket.passed_no_source},
            "source_share": None if bucket.source_share is None else round(bucket.source_share, 4),
            "sessions": bucket.session_ids[:50],
            "span_ids": [],
        }
        out.append(
            Finding(
                session_id=fleet_key(series.agent, series.repo, bucket.start_s, cfg.bucket_s),
                reviewer=TRENDS_REVIEWER,
                code=SPIKE_CODE,
                category="reward_hacking",
                severity=cfg.severity,
                confidence=_confidence(bucket.passed, bucket.tested, base_k, base_n),
                message=(
                    f"the test pass rate of {series.agent} in {series.repo} rose sharply in the bucket of "
                    f"{when} with no matching change to source outside tests"
                ),
                evidence=evidence,
                created=at,
            )
        )
    return out


def trends(facts: Iterable[SessionFacts], config: TrendConfig | None = None) -> TrendSnapshot:
    """Bucket ``facts`` per agent and repository and run the spike rule on every series."""
    cfg = config if config is not None else TrendConfig()
    size = cfg.bucket_s
    grouped: dict[tuple[str, str], dict[int, Bucket]] = defaultdict(dict)
    count = 0
    for f in facts:
        count += 1
        start = (f.start_ns // 1_000_000_000) // size * size
        row = grouped[(f.agent, f.repo)]
        bucket = row.get(start)
        if bucket is None:
            bucket = row[start] = Bucket(start_s=start)
        bucket.add(f)
    if not grouped:
        return TrendSnapshot(bucket_s=size, start_s=0, series=[], spikes=[], sessions=0)
    first = min(min(row) for row in grouped.values())
    last = max(max(row) for row in grouped.values())
    series = []
    for (agent, repo), row in sorted(grouped.items()):
        buckets = [row.get(t) or Bucket(start_s=t) for t in range(first, last + size, size)]
        series.append(Series(agent=agent, repo=repo, buckets=buckets))
    found = [f for s in series for f in spikes(s, cfg)]
    return TrendSnapshot(bucket_s=size, start_s=first, series=series, spikes=found, sessions=count)


def session_trends(
    sessions: Iterable[Session], config: TrendConfig | None = None, *, detectors: DetectorSet | None = None
) -> TrendSnapshot:
    """Trends over assembled sessions (a local store or OTLP files read by :mod:`agentguard.traces`),
    each replayed through ``detectors`` (default: the built-in ones) for its findings."""
    chosen = detectors if detectors is not None else default_detectors()
    facts = []
    for session in sessions:
        found = [(s.code, s.category) for s in replay(session, chosen).signals]
        facts.append(session_facts(session, found))
    return trends(facts, config)


# -- from the monitor's journal ----------------------------------------------------------------------
class FleetTrends:
    """Trends over the sessions a monitor's :class:`Journal` reviewed, facts cached per review.

    :meth:`update` computes the facts of sessions reviewed since the last call, rebuilds the
    snapshot and stores new spike findings in the journal (triaged like any other finding);
    :meth:`snapshot` returns the last one (computing it the first time).
    """

    def __init__(self, journal: Journal, config: TrendConfig | None = None) -> None:
        self.journal = journal
        self.config = config if config is not None else TrendConfig()
        self._facts: dict[str, tuple[int, SessionFacts | None]] = {}
        self._last: TrendSnapshot | None = None
        self._last_at = 0.0
        self._lock = threading.Lock()

    def facts(self) -> list[SessionFacts]:
        """One :class:`SessionFacts` per reviewed session with spans (recomputed after a re-review)."""
        with self._lock:
            fresh = [
                s
                for s in self.journal.sessions()
                if s["spans"] and self._facts.get(s["session_id"], (-1,))[0] != s["reviews"]
            ]
            for s in fresh:
                spans = sorted(
                    (x for group in self.journal.spans_by_trace(s["traces"]).values() for x in group),
                    key=lambda x: (x.start, x.span_id),
                )
                if not spans:  # compacted by retention: nothing to count
                    self._facts[s["session_id"]] = (int(s["reviews"]), None)
                    continue
                session = Session(id=s["session_id"], spans=spans, traces=tuple(s["traces"]))
                found = [
                    (f.code, f.category) for f in self.journal.query_findings(session_id=s["session_id"])
                ]
                self._facts[s["session_id"]] = (int(s["reviews"]), session_facts(session, found))
            return [f for _, f in self._facts.values() if f is not None]

    def update(self, *, bucket_s: int | None = None) -> TrendSnapshot:
        """Recompute (in ``bucket_s`` buckets when given); returns the snapshot. Spikes in the
        configured buckets are stored in the journal as findings (once each: triage keeps its state)."""
        own = bucket_s is None or bucket_s == self.config.bucket_s
        cfg = self.config if own or bucket_s is None else _with_bucket(self.config, bucket_s)
        snapshot = trends(self.facts(), cfg)
        if snapshot.spikes and own:  # findings are kept for the configured buckets only
            self.journal.record_fleet_findings(snapshot.spikes)
        if own:
            self._last, self._last_at = snapshot, time.monotonic()
        return snapshot

    def snapshot(self, *, bucket_s: int | None = None, max_age_s: float = 10.0) -> TrendSnapshot:
        """The last snapshot when younger than ``max_age_s`` seconds, else a new one (:meth:`update`)."""
        if bucket_s is not None and bucket_s != self.config.bucket_s:
            return self.update(bucket_s=bucket_s)
        if self._last is not None and time.monotonic() - self._last_at < max_age_s:
            return self._last
        return self.update()

    @property
    def last(self) -> TrendSnapshot | None:
        """The last snapshot :meth:`update` made (``None`` before the first), without computing one."""
        return self._last


def _with_bucket(cfg: TrendConfig, bucket_s: int) -> TrendConfig:
    values: Mapping[str, Any] = {**asdict(cfg), "bucket_s": bucket_s}
    return TrendConfig(**values)
