"""What the monitor emits about its own work, through the OpenTelemetry APIs.

- metrics: ``agentguard.monitor.sessions`` (counter, ``state`` = ``seen`` / ``reviewed`` / ``judged``),
  ``agentguard.monitor.review.latency`` (session end to verdict, seconds, explicit buckets),
  ``agentguard.monitor.coverage`` (gauge: reviewed traces over received traces),
  ``agentguard.monitor.findings`` (counter of new findings: ``agentguard.signal.category``,
  ``agentguard.signal.severity``, ``agentguard.monitor.reviewer``; ``rules`` or a judge model);
- fleet trends, gauges per agent (``gen_ai.agent.name``) and repository (``vcs.repository.name``) over
  each series' latest bucket with sessions: ``agentguard.fleet.test.pass_rate``,
  ``agentguard.fleet.change.source_share``, ``agentguard.fleet.refusal.rate``,
  ``agentguard.fleet.session.cost`` (USD per session), ``agentguard.fleet.deferral.rate``,
  ``agentguard.fleet.escalation.unapproved.rate``, and ``agentguard.fleet.pass_rate_spikes`` (spike
  findings in the current range, per agent and repository);
- one ``agentguard.monitor.review`` span per review, with an ``agentguard.signal`` event per finding;
- one ``gen_ai.evaluation.result`` log record per finding (Logs API): evaluation name = the signal code,
  score label = the severity, explanation = the message.

Every call is guarded: a failing exporter never stops a review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from opentelemetry import _logs, metrics, trace
from opentelemetry.metrics import CallbackOptions, Observation

from .. import _safe
from .._version import __version__
from ..telemetry import semconv as sc
from ._journal import Finding
from ._trends import Bucket, TrendSnapshot

_TREND_GAUGES: Final[tuple[tuple[str, str, str, Callable[[Bucket], float | None]], ...]] = (
    (sc.METRIC_FLEET_PASS_RATE, "1", "share of sessions whose last test run passed", lambda b: b.pass_rate),
    (sc.METRIC_FLEET_SOURCE_SHARE, "1", "share of changed files that are source outside tests",
     lambda b: b.source_share),
    (sc.METRIC_FLEET_REFUSAL_RATE, "1", "refusals over model turns", lambda b: b.refusal_rate),
    (sc.METRIC_FLEET_SESSION_COST, "USD", "cost per priced session", lambda b: b.cost_per_session),
    (sc.METRIC_FLEET_DEFERRAL_RATE, "1", "share of sessions that deferred", lambda b: b.deferral_rate),
    (sc.METRIC_FLEET_ESCALATION_RATE, "1", "share of sessions with an unapproved privileged command",
     lambda b: b.escalation_rate),
)  # fmt: skip

LATENCY_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0)


class MonitorTelemetry:
    """The monitor's instruments, tracer and logger (from the given or the global providers)."""

    def __init__(
        self,
        *,
        coverage: Callable[[], float],
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        trends: Callable[[], TrendSnapshot | None] | None = None,
    ) -> None:
        meter = metrics.get_meter("agentguard.monitor", __version__, meter_provider)
        self.tracer = trace.get_tracer("agentguard.monitor", __version__, tracer_provider)
        self.logger = _logs.get_logger("agentguard.monitor", __version__, logger_provider)
        self.sessions = meter.create_counter(
            sc.METRIC_MONITOR_SESSIONS, unit="{session}", description="sessions seen, reviewed and judged"
        )
        self.latency = meter.create_histogram(
            sc.METRIC_MONITOR_LATENCY,
            unit="s",
            description="time from a session's end to its verdict",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS,
        )
        self.found = meter.create_counter(
            sc.METRIC_MONITOR_FINDINGS, unit="{finding}", description="new findings of the reviews"
        )
        self._coverage = coverage

        def observe(_: CallbackOptions) -> Iterable[Observation]:
            try:
                return [Observation(self._coverage())]
            except Exception as exc:
                _safe.report("monitor.coverage", exc)
                return []

        meter.create_observable_gauge(
            sc.METRIC_MONITOR_COVERAGE, callbacks=[observe], unit="1", description="reviewed / received"
        )
        self._trends = trends
        if trends is not None:
            for name, unit, description, value in _TREND_GAUGES:
                meter.create_observable_gauge(
                    name, callbacks=[self._trend_callback(name, value)], unit=unit, description=description
                )
            meter.create_observable_gauge(
                sc.METRIC_FLEET_SPIKES,
                callbacks=[self._spike_callback],
                unit="{finding}",
                description="pass-rate spikes with no matching source change",
            )

    def _trend_callback(
        self, name: str, value: Callable[[Bucket], float | None]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_: CallbackOptions) -> Iterable[Observation]:
            try:
                snapshot = self._trends() if self._trends is not None else None
                if snapshot is None:
                    return []
                out = []
                for (agent, repo), bucket in snapshot.latest().items():
                    v = value(bucket)
                    if v is not None:
                        out.append(Observation(v, {sc.LABEL_AGENT: agent, sc.VCS_REPOSITORY_NAME: repo}))
                return out
            except Exception as exc:
                _safe.report(name, exc)
                return []

        return observe

    def _spike_callback(self, _: CallbackOptions) -> Iterable[Observation]:
        try:
            snapshot = self._trends() if self._trends is not None else None
            if snapshot is None:
                return []
            counts = {(s.agent, s.repo): 0 for s in snapshot.series}
            for f in snapshot.spikes:
                key = (str(f.evidence.get("agent")), str(f.evidence.get("repo")))
                counts[key] = counts.get(key, 0) + 1
            return [
                Observation(n, {sc.LABEL_AGENT: agent, sc.VCS_REPOSITORY_NAME: repo})
                for (agent, repo), n in counts.items()
            ]
        except Exception as exc:
            _safe.report(sc.METRIC_FLEET_SPIKES, exc)
            return []

    def seen(self, n: int = 1) -> None:
        self._add(n, "seen")

    def reviewed(self, *, latency_s: float, judged: bool) -> None:
        self._add(1, "reviewed")
        if judged:
            self._add(1, "judged")
        try:
            self.latency.record(max(latency_s, 0.0))
        except Exception as exc:
            _safe.report("monitor.latency", exc)

    def _add(self, n: int, state: str) -> None:
        try:
            self.sessions.add(n, {sc.MONITOR_STATE: state})
        except Exception as exc:
            _safe.report("monitor.sessions", exc)

    def findings(self, session_id: str, findings: Iterable[Finding], *, spans: int) -> None:
        """The review span with its signal events, one evaluation log record per finding, the counter."""
        findings = list(findings)
        try:
            for f in findings:
                self.found.add(
                    1,
                    {
                        sc.SIGNAL_CATEGORY: f.category,
                        sc.SIGNAL_SEVERITY: f.severity,
                        sc.MONITOR_REVIEWER: f.reviewer,
                    },
                )
        except Exception as exc:
            _safe.report("monitor.findings.count", exc)
        try:
            attrs: dict[str, Any] = {sc.MONITOR_SESSION_ID: session_id, sc.MONITOR_SPANS: spans}
            with self.tracer.start_as_current_span(sc.SPAN_MONITOR_REVIEW, attributes=attrs) as span:
                for f in findings:
                    span.add_event(
                        sc.EVENT_SIGNAL,
                        {
                            sc.SIGNAL_CODE: f.code,
                            sc.SIGNAL_CATEGORY: f.category,
                            sc.SIGNAL_SEVERITY: f.severity,
                            sc.SIGNAL_CONFIDENCE: f.confidence,
                            sc.SIGNAL_MESSAGE: f.message,
                            sc.MONITOR_REVIEWER: f.reviewer,
                        },
                    )
                    self.logger.emit(
                        event_name=sc.EVENT_EVALUATION_RESULT,
                        body=f.message,
                        attributes={
                            sc.GEN_AI_EVALUATION_NAME: f.code,
                            sc.GEN_AI_EVALUATION_SCORE_LABEL: f.severity,
                            sc.GEN_AI_EVALUATION_SCORE_VALUE: f.confidence,
                            sc.GEN_AI_EVALUATION_EXPLANATION: f.message,
                            sc.MONITOR_SESSION_ID: session_id,
                            sc.MONITOR_REVIEWER: f.reviewer,
                        },
                    )
        except Exception as exc:
            _safe.report("monitor.findings", exc)
