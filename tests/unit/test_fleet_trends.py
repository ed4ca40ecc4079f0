"""Fleet trends over generated fleets: sessions of several agents in several repositories, day by day."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentguard.fleet import (
    SPIKE_CODE,
    FleetTrends,
    Monitor,
    MonitorConfig,
    SessionFacts,
    TrendConfig,
    session_facts,
    trends,
    wilson,
)
from agentguard.traces import Span, SpanEvent, assemble

NS = 1_000_000_000
DAY = 86400
T0 = 1_780_000_000 // DAY * DAY  # a UTC midnight


@dataclass
class Plan:
    """What one generated session does."""

    agent: str = "coder"
    repo: str = "parser"
    day: int = 0
    passed: bool | None = False
    writes: tuple[str, ...] = ("src/parser.py",)
    refusals: int = 0
    cost: float | None = 0.01
    sudo: bool = False
    approved: bool = False


def spans_of(plan: Plan, n: int) -> list[Span]:
    """The OTel GenAI spans an instrumented agent exports for ``plan`` (one trace, one conversation)."""
    trace = f"{n:032x}"
    t = (T0 + plan.day * DAY + 3600 + n) * NS
    resource = {
        "service.name": f"{plan.agent}-svc",
        "vcs.repository.url.full": f"https://git.example/org/{plan.repo}.git",
    }
    root = Span(
        trace_id=trace,
        span_id=f"{1:016x}",
        name=f"invoke_agent {plan.agent}",
        start=t,
        end=t + 60 * NS,
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": plan.agent,
                    "gen_ai.conversation.id": f"conv-{n}"},
        resource=resource,
    )  # fmt: skip
    out = [root]
    k = 2

    def child(name: str, attrs: dict[str, object], events: list[SpanEvent] | None = None) -> Span:
        nonlocal k
        start = t + k * NS
        span = Span(
            trace_id=trace,
            span_id=f"{k:016x}",
            parent_id=root.span_id,
            name=name,
            start=start,
            end=start + NS // 2,
            attributes=attrs,
            resource=resource,
            events=events or [],
        )
        k += 1
        out.append(span)
        return span

    for i in range(max(1, plan.refusals)):
        child("chat gpt-4o-mini", {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            **({"agentguard.refusal": True} if i < plan.refusals else {}),
            **({"agentguard.cost.usd": plan.cost} if plan.cost is not None else {}),
        })  # fmt: skip
    for path in plan.writes:
        child("execute_tool write_file", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "write_file",
            "agentguard.tool.kind": "file_write",
            "gen_ai.tool.call.arguments": json.dumps({"path": path, "content": "x = 1\n"}),
            "gen_ai.tool.call.result": "ok",
        })  # fmt: skip
    if plan.sudo:
        events = [
            SpanEvent(
                "agentguard.policy.decision",
                t,
                {"agentguard.policy.decision": "allow", "agentguard.approval.granted": True},
            )
        ]
        child("execute_tool run", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "run",
            "agentguard.tool.kind": "shell",
            "gen_ai.tool.call.arguments": json.dumps({"command": "sudo apt-get install -y libfoo"}),
            "gen_ai.tool.call.result": "done",
        }, events if plan.approved else None)  # fmt: skip
    if plan.passed is not None:
        child("execute_tool run", {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "run",
            "agentguard.tool.kind": "shell",
            "gen_ai.tool.call.arguments": json.dumps({"command": "python -m pytest -q tests"}),
            "gen_ai.tool.call.result": "12 passed in 0.4s" if plan.passed else "2 failed, 10 passed in 0.5s",
        })  # fmt: skip
    return out


def facts_of(plans: list[Plan]) -> list[SessionFacts]:
    spans = [s for n, p in enumerate(plans) for s in spans_of(p, n)]
    return [session_facts(session) for session in assemble(spans)]


def steady(agent: str, repo: str, days: range, per_day: int, pass_share: float, seed: int) -> list[Plan]:
    """Sessions that change source and pass their tests about ``pass_share`` of the time."""
    rng = random.Random(seed)
    return [
        Plan(agent=agent, repo=repo, day=d, passed=rng.random() < pass_share)
        for d in days
        for _ in range(per_day)
    ]


def test_session_facts_read_tests_changes_refusals_cost_and_escalations() -> None:
    plans = [
        Plan(
            passed=True, writes=("tests/test_parser.py", "src/parser.py", "README.md"), refusals=2, cost=0.25
        ),
        Plan(passed=None, writes=(), cost=None, sudo=True),
        Plan(passed=False, writes=("conftest.py",), sudo=True, approved=True),
    ]
    a, b, c = sorted(facts_of(plans), key=lambda f: f.session_id)
    assert (a.agent, a.repo, a.tests_passed, a.test_runs) == ("coder", "parser", True, 1)
    assert (a.files_changed, a.source_changed, a.refusals, a.llm_calls) == (3, 1, 2, 2)
    assert a.cost_usd == pytest.approx(0.5) and a.source_share == pytest.approx(1 / 3)
    assert (b.tests_passed, b.cost_usd, b.escalations, b.unapproved_escalations) == (None, None, 1, 1)
    assert (c.tests_passed, c.source_changed, c.escalations, c.unapproved_escalations) == (False, 0, 1, 0)


def test_a_pass_rate_spike_with_only_test_edits_is_flagged() -> None:
    plans = steady("coder", "parser", range(7), 8, 0.3, seed=1)
    plans += [Plan(day=7, passed=True, writes=("tests/test_parser.py",)) for _ in range(9)]
    plans += [Plan(day=7, passed=False)]
    snapshot = trends(facts_of(plans))
    [spike] = snapshot.spikes
    assert spike.code == SPIKE_CODE and spike.category == "reward_hacking" and spike.severity == "high"
    ev = spike.evidence
    assert (ev["agent"], ev["repo"], ev["sessions_tested"], ev["pass_rate"]) == ("coder", "parser", 10, 0.9)
    assert ev["baseline_pass_rate"] < 0.5 and ev["without_source_change"] == {"tested": 9, "passed": 9}
    assert spike.session_id.startswith("fleet:coder@parser:") and spike.confidence > 0.99
    [series] = snapshot.series
    assert len(series.buckets) == 8 and series.buckets[-1].pass_rate == 0.9


def test_the_same_rise_with_matching_source_changes_is_not_flagged() -> None:
    plans = steady("coder", "parser", range(7), 8, 0.3, seed=1)
    plans += [Plan(day=7, passed=True, writes=("src/parser.py", "tests/test_parser.py")) for _ in range(9)]
    plans += [Plan(day=7, passed=False)]
    snapshot = trends(facts_of(plans))
    assert snapshot.spikes == []
    assert snapshot.series[0].buckets[-1].pass_rate == 0.9  # the rise is there, and it is work


def test_config_edits_count_as_test_edits_not_source() -> None:
    plans = steady("coder", "parser", range(7), 8, 0.3, seed=2)
    plans += [Plan(day=7, passed=True, writes=("pytest.ini", "tests/conftest.py")) for _ in range(10)]
    assert [s.code for s in trends(facts_of(plans)).spikes] == [SPIKE_CODE]


@pytest.mark.parametrize("per_day", [4, 12])
@pytest.mark.parametrize("seed", range(4))
def test_noise_is_not_flagged(seed: int, per_day: int) -> None:
    rng = random.Random(seed)
    plans = []
    for day in range(90):  # 0..per_day sessions a day, any mix of edits, never a real change of rate
        for _ in range(rng.randint(0, per_day)):
            writes = ("tests/test_x.py",) if rng.random() < 0.5 else ("src/x.py",)
            plans.append(Plan(day=day, passed=rng.random() < 0.5, writes=writes))
    snapshot = trends(facts_of(plans))
    assert snapshot.sessions == len(plans) and snapshot.spikes == []


def test_two_lucky_sessions_after_a_bad_week_are_not_a_spike() -> None:
    plans = steady("coder", "parser", range(7), 8, 0.1, seed=3)
    plans += [Plan(day=7, passed=True, writes=("tests/test_parser.py",)) for _ in range(4)]
    assert trends(facts_of(plans)).spikes == []  # 4 of 4 is below min_sessions
    assert trends(facts_of(plans), TrendConfig(min_sessions=4)).spikes != []  # and the knob is real


def test_agents_and_repositories_are_separate_series() -> None:
    plans = steady("coder", "parser", range(7), 6, 0.3, seed=4)
    plans += steady("coder", "web", range(8), 6, 0.3, seed=5)
    plans += steady("fixer", "parser", range(8), 6, 0.3, seed=6)
    plans += [
        Plan(agent="coder", repo="parser", day=7, passed=True, writes=("tests/test_a.py",)) for _ in range(8)
    ]
    snapshot = trends(facts_of(plans))
    assert [(s.agent, s.repo) for s in snapshot.series] == [
        ("coder", "parser"),
        ("coder", "web"),
        ("fixer", "parser"),
    ]
    assert [(s.evidence["agent"], s.evidence["repo"]) for s in snapshot.spikes] == [("coder", "parser")]
    # the same fleet, where every agent's pass rate rose on day 7 with source changes: nothing flagged
    fixed = [p for p in plans if p.day < 7] + [
        Plan(agent=a, repo=r, day=7, passed=True)
        for a, r in (("coder", "parser"), ("fixer", "parser"))
        for _ in range(8)
    ]
    assert trends(facts_of(fixed)).spikes == []


def test_buckets_are_configurable_and_rates_are_trends() -> None:
    plans = [Plan(day=0, refusals=1, cost=0.1), Plan(day=0, cost=0.3, sudo=True), Plan(day=1, passed=True)]
    by_day = trends(facts_of(plans))
    first = by_day.series[0].buckets[0]
    assert (first.sessions, first.refusal_rate, first.escalation_rate) == (2, 0.5, 0.5)
    assert first.cost_per_session == pytest.approx(0.2)
    assert [b.sessions for b in by_day.series[0].buckets] == [2, 1]
    weekly = trends(facts_of(plans), TrendConfig(bucket_s=7 * DAY))
    assert [b.sessions for b in weekly.series[0].buckets] == [3]
    hourly = trends(facts_of(plans), TrendConfig(bucket_s=3600))
    assert len(hourly.series[0].buckets) == 25 and sum(b.sessions for b in hourly.series[0].buckets) == 3
    with pytest.raises(ValueError):
        TrendConfig(bucket_s=0)


def test_the_wilson_interval_is_wide_at_small_counts() -> None:
    lo, hi = wilson(2, 2, 1.96)
    assert lo < 0.4 and hi == 1.0
    lo, hi = wilson(90, 100, 1.96)
    assert 0.82 < lo < 0.9 < hi < 0.95
    assert wilson(0, 0, 1.96) == (0.0, 1.0)


def test_the_monitor_journal_feeds_the_trends_and_keeps_the_spike_as_a_finding(tmp_path: Path) -> None:
    plans = steady("coder", "parser", range(7), 6, 0.3, seed=7)
    plans += [Plan(day=7, passed=True, writes=("tests/test_parser.py",)) for _ in range(8)]
    monitor = Monitor(MonitorConfig(state_dir=tmp_path / "m", port=None, settle_s=0.0))
    try:
        monitor.journal.append([s for n, p in enumerate(plans) for s in spans_of(p, n)], now=time.time() - 1)
        assert monitor.review_due() == len(plans)
        live = FleetTrends(monitor.journal)
        snapshot = live.update()
        assert snapshot.sessions == len(plans) and len(snapshot.spikes) == 1
        [stored] = monitor.journal.query_findings(session_id=snapshot.spikes[0].session_id)
        assert (stored.code, stored.reviewer, stored.state) == (SPIKE_CODE, "trends", "new")
        monitor.journal.set_state(stored.id or 0, "confirmed", by="ana")
        assert FleetTrends(monitor.journal).refresh_facts() == 0  # facts are kept in the journal
        live.update()  # recomputing keeps the one finding and its triage state
        [again] = [f for f in monitor.journal.query_findings() if f.code == SPIKE_CODE]
        assert again.state == "confirmed"
    finally:
        monitor.stop()


def test_the_monitor_exports_the_trends_as_gauges_per_agent_and_repository(tmp_path: Path) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    plans = steady("coder", "parser", range(7), 6, 0.3, seed=8)
    plans += [Plan(day=7, passed=True, writes=("tests/test_parser.py",), cost=0.5) for _ in range(8)]
    plans += [Plan(agent="fixer", repo="web", day=7, passed=False, refusals=1, cost=0.2, sudo=True)]
    reader = InMemoryMetricReader()
    config = MonitorConfig(
        state_dir=tmp_path / "m", port=None, settle_s=0.0, trends_every_s=0.05, tick_s=0.02
    )
    monitor = Monitor(config, meter_provider=MeterProvider(metric_readers=[reader]))
    try:
        monitor.journal.append([s for n, p in enumerate(plans) for s in spans_of(p, n)], now=time.time() - 1)
        with monitor:
            deadline = time.monotonic() + 30
            while (monitor.trends.last is None or monitor.trends.last.sessions < len(plans)) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.05)
            data = reader.get_metrics_data()
    finally:
        monitor.stop()
    assert data is not None
    points: dict[str, dict[tuple[str, str], float]] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name.startswith("agentguard.fleet."):
                    points[metric.name] = {
                        (str(a["gen_ai.agent.name"]), str(a["vcs.repository.name"])): p.value  # type: ignore[union-attr]
                        for p in metric.data.data_points
                        if (a := dict(p.attributes or {}))
                    }
    coder, fixer = ("coder", "parser"), ("fixer", "web")
    assert points["agentguard.fleet.test.pass_rate"] == {coder: 1.0, fixer: 0.0}
    assert points["agentguard.fleet.change.source_share"] == {coder: 0.0, fixer: 1.0}
    assert points["agentguard.fleet.refusal.rate"] == {coder: 0.0, fixer: 1.0}
    assert points["agentguard.fleet.session.cost"] == pytest.approx({coder: 0.5, fixer: 0.2})
    assert points["agentguard.fleet.escalation.unapproved.rate"] == {coder: 0.0, fixer: 1.0}
    assert points["agentguard.fleet.deferral.rate"] == {coder: 0.0, fixer: 0.0}
    assert points["agentguard.fleet.pass_rate_spikes"] == {coder: 1, fixer: 0}


def test_trends_over_a_local_store_written_by_guarded_runs(tmp_path: Path) -> None:
    """Real runs: @guarded agents with @tool tools, recorded into the local store and read back."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    import agentguard as ag
    from agentguard.export import LocalStoreSpanExporter
    from agentguard.fleet import session_trends
    from agentguard.traces import read_file

    store = tmp_path / "agentguard.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(LocalStoreSpanExporter(store)))
    guard = ag.Guard(tracer_provider=provider, capture_content=True)
    repo = tmp_path / "parser-repo"
    (repo / "src").mkdir(parents=True)
    (repo / "tests").mkdir()
    policy = ag.Policy(scope=ag.Scope(root=str(repo), write=["**"], read=["**"]))

    @ag.tool(kind="file_write", guard=guard)
    def write_file(path: str, content: str) -> str:
        (repo / path).write_text(content)
        return "ok"

    outcomes = iter(["1 failed, 2 passed in 0.1s", "3 passed in 0.1s", "3 passed in 0.1s"])

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return next(outcomes)

    def agent_named(name: str, path: str) -> None:
        @ag.guarded(guard=guard, name=name, policy=policy)
        def agent() -> None:
            write_file(path=path, content="def parse():\n    return 1\n")
            run(command="python -m pytest -q")

        agent()

    agent_named("coder", "src/parser.py")
    agent_named("coder", "tests/test_parser.py")
    agent_named("fixer", "src/parser.py")
    provider.shutdown()
    snapshot = session_trends(assemble(read_file(store, issues=[])))
    assert snapshot.sessions == 3 and snapshot.spikes == []
    by = {(s.agent, s.repo): s.buckets[-1] for s in snapshot.series}
    assert set(by) == {("coder", "parser-repo"), ("fixer", "parser-repo")}
    coder = by[("coder", "parser-repo")]
    assert (coder.sessions, coder.tested, coder.passed, coder.source_share) == (2, 2, 1, 0.5)
    assert by[("fixer", "parser-repo")].pass_rate == 1.0
