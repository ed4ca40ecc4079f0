"""The monitor service: inputs -> journal -> review when a session completes -> findings and alerts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from opentelemetry import _logs, metrics, trace

from ..detect import SEVERITIES, DetectorSet, default_detectors
from ..traces import assemble
from ._alerts import Dispatcher, Webhook
from ._journal import Compaction, Finding, Journal, ReviewRecord, Status
from ._receiver import FileFollower, Receiver
from ._review import Judge, review
from ._telemetry import MonitorTelemetry
from ._trends import FleetTrends, TrendConfig

log = logging.getLogger("agentguard.monitor")


@dataclass(kw_only=True)
class MonitorConfig:
    """How the monitor listens, when it reviews, who judges and where alerts go.

    A trace is complete when its root span has arrived and nothing more came for ``settle_s``
    seconds (exporters send a span when it ends, children before their root), or when nothing came
    for ``idle_s`` seconds (an agent that never ended its run). A session (every trace sharing a
    conversation or run id) is reviewed when all its traces are complete.
    """

    state_dir: Path = field(default_factory=lambda: Path(".agentguard") / "monitor")
    host: str = "127.0.0.1"
    port: int | None = 4319
    """``None``: no receiver (follow files only); ``0``: any free port."""
    follow: Sequence[Path] = ()
    settle_s: float = 1.0
    idle_s: float = 300.0
    tick_s: float = 0.2
    detectors: DetectorSet | None = None
    judges: Sequence[Judge] = ()
    sample: float = 0.0
    """The share of sessions the rules did not flag that the judges see as well (0..1)."""
    judge_min_severity: str = "low"
    alert_severity: str = "high"
    alert_stream: TextIO | None = None
    webhook: Webhook | None = None
    trends: TrendConfig = field(default_factory=TrendConfig)
    """Fleet trends: bucket size and the pass-rate spike rule."""
    trends_every_s: float = 60.0
    """How often the trends (metrics, spike findings) are recomputed; 0 turns them off."""
    retain_s: float | None = None
    """Keep a reviewed session's spans this long after its review (``None``: forever); see
    :meth:`Journal.compact`. Fleet trends and incident records see the retained sessions only."""
    compact_every_s: float = 60.0
    """How often, with ``retain_s``, the journal is compacted (on the review thread)."""

    def __post_init__(self) -> None:
        for name in ("judge_min_severity", "alert_severity"):
            if getattr(self, name) not in SEVERITIES:
                raise ValueError(f"{name} must be one of {', '.join(SEVERITIES)}")
        if not 0.0 <= self.sample <= 1.0:
            raise ValueError("sample must be between 0 and 1")
        if self.trends_every_s < 0:
            raise ValueError("trends_every_s must be >= 0 (0: no trends)")
        if self.settle_s < 0 or self.idle_s <= 0 or self.tick_s <= 0:
            raise ValueError("settle_s must be >= 0, idle_s and tick_s > 0")
        if self.retain_s is not None and self.retain_s <= 0:
            raise ValueError("retain_s must be > 0 seconds (None: keep everything)")
        if self.compact_every_s <= 0:
            raise ValueError("compact_every_s must be > 0")


class Monitor:
    """``agentguard monitor`` as an object: ``start()``, ``stop()``, or ``with Monitor(...) as m:``."""

    def __init__(
        self,
        config: MonitorConfig | None = None,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
    ) -> None:
        self.config = config if config is not None else MonitorConfig()
        self.journal = Journal(self.config.state_dir / "monitor.db")
        self.detectors = self.config.detectors if self.config.detectors is not None else default_detectors()
        self.trends = FleetTrends(self.journal, self.config.trends)
        self.telemetry = MonitorTelemetry(
            coverage=self._coverage,
            trends=lambda: self.trends.last,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
        )
        self.dispatcher = Dispatcher(
            self.journal, stream=self.config.alert_stream, webhook=self.config.webhook
        )
        self.followers = [FileFollower(self.journal, p) for p in self.config.follow]
        self.receiver: Receiver | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_coverage = 1.0
        self._closed = False
        self._alert_rank = SEVERITIES.index(self.config.alert_severity)
        self._next_compaction = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Monitor:
        if self.config.port is not None:
            self.receiver = Receiver(self.journal, host=self.config.host, port=self.config.port)
            t = threading.Thread(
                target=self.receiver.serve_forever, name="agentguard-monitor-receiver", daemon=True
            )
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._loop, name="agentguard-monitor-review", daemon=True)
        t.start()
        self._threads.append(t)
        if self.config.trends_every_s > 0:
            t = threading.Thread(target=self._trends_loop, name="agentguard-monitor-trends", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self.receiver is not None:
            self.receiver.shutdown()
            self.receiver.server_close()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        if not self._closed:
            self._last_coverage = self.journal.status().coverage
            self._closed = True
            self.journal.close()

    def __enter__(self) -> Monitor:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The receiver's base URL (what an OTLP/HTTP exporter's endpoint is set to)."""
        if self.receiver is None:
            raise RuntimeError("the monitor has no receiver (port=None) or is not started")
        return f"http://{self.config.host}:{self.receiver.port}"

    def _coverage(self) -> float:
        """Reviewed over received traces; after :meth:`stop`, the last value."""
        if not self._closed:
            self._last_coverage = self.journal.status().coverage
        return self._last_coverage

    def status(self) -> Status:
        return self.journal.status()

    def findings(self, session_id: str | None = None) -> list[Finding]:
        return self.journal.findings(session_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                for follower in self.followers:
                    follower.poll()
                self.review_due()
                self.dispatcher.deliver()
                self._compact_when_due()
            except Exception as exc:  # the loop must go on: log and retry next tick
                log.warning("monitor review pass failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            self._stop.wait(self.config.tick_s)

    def compact(self, now: float | None = None) -> Compaction:
        """Drop what ``retain_s`` no longer keeps (nothing without ``retain_s``)."""
        if self.config.retain_s is None:
            return Compaction()
        at = time.time() if now is None else now
        return self.journal.compact(before=at - self.config.retain_s)

    def _compact_when_due(self) -> None:
        if self.config.retain_s is None or time.monotonic() < self._next_compaction:
            return
        self._next_compaction = time.monotonic() + self.config.compact_every_s
        done = self.compact()
        if done.sessions:
            log.info("monitor retention: %d sessions, %d spans compacted", done.sessions, done.spans)

    def _trends_loop(self) -> None:
        """Recompute the trends (gauges, spike findings) every ``trends_every_s``, off the review thread."""
        while not self._stop.wait(self.config.trends_every_s):
            try:
                self.trends.update()
            except Exception as exc:  # the next pass retries
                log.warning("fleet trends failed: %s: %s", type(exc).__name__, exc, exc_info=True)

    # -- review ------------------------------------------------------------------------------------
    def review_due(self, now: float | None = None) -> int:
        """Review every session that is complete now; returns how many sessions were reviewed.

        One pass reads what is due in a few queries, reviews each session, and writes all the reviews
        in one transaction; a crash before that commit leaves them to the next pass.
        """
        cfg = self.config
        at = time.time() if now is None else now
        due = self.journal.due(now=at, settle_s=cfg.settle_s, idle_s=cfg.idle_s)
        if not due:
            return 0
        ready = [
            c
            for c in self.journal.components(due, now=at, settle_s=cfg.settle_s, idle_s=cfg.idle_s)
            if c.ready
        ]
        spans = self.journal.spans_by_trace(t for c in ready for t in (*c.open, *c.reviewed))
        records: list[ReviewRecord] = []
        reviews: list[tuple[str, float, bool, int]] = []
        for c in ready:
            pending = set(c.open)
            for session in assemble([s for t in (*c.open, *c.reviewed) for s in spans.get(t, ())]):
                traces = sorted({s.trace_id for s in session.spans} & pending)
                if not traces:
                    continue
                pending.difference_update(traces)
                result = review(
                    session,
                    detectors=self.detectors,
                    judges=cfg.judges,
                    sample=cfg.sample,
                    judge_min_severity=cfg.judge_min_severity,
                    at=at,
                )
                for model, error in result.judge_errors.items():
                    log.warning("judge %s on session %s: %s", model, session.id, error)
                verdict_at = time.time()
                ended_ns = result.ended_ns
                latency = max(0.0, verdict_at - ended_ns / 1e9) if ended_ns else 0.0
                records.append(
                    ReviewRecord(
                        session_id=session.id,
                        trace_ids=traces,
                        ended_ns=ended_ns,
                        reviewed_at=verdict_at,
                        latency_s=latency,
                        spans=len(session.spans),
                        findings=result.findings,
                        judged=result.judged,
                        alerts=[
                            _alert(f, len(session.spans))
                            for f in result.findings
                            if SEVERITIES.index(f.severity) >= self._alert_rank
                        ],
                    )
                )
                reviews.append((session.id, latency, bool(result.judged), len(session.spans)))
            if pending:  # traces nothing in a session is made of (e.g. empty batches): closed, no findings
                left = sorted(pending)
                records.append(
                    ReviewRecord(session_id=left[0], trace_ids=left, ended_ns=0, reviewed_at=time.time(),
                                 latency_s=0.0, spans=0)
                )  # fmt: skip
        new = self.journal.record_reviews(records)
        by_session = {r.session_id: found for r, found in zip(records, new, strict=True)}
        for session_id, latency, judged, n in reviews:
            self.telemetry.seen()
            self.telemetry.reviewed(latency_s=latency, judged=judged)
            if by_session.get(session_id):
                self.telemetry.findings(session_id, by_session[session_id], spans=n)
        return len(reviews)


def _alert(f: Finding, spans: int) -> dict[str, Any]:
    return {"kind": "agentguard.monitor.finding", **f.to_dict(), "session_spans": spans}
