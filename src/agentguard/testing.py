"""Test helpers for users and for our own tests: a guard wired to in-memory exporters.

>>> import agentguard as ag
>>> from agentguard.testing import CapturingGuard
>>> cap = CapturingGuard()
>>> @ag.guarded(guard=cap.guard)
... def agent() -> int:
...     return 1
>>> agent()
1
>>> [s.name for s in cap.spans()]
['invoke_agent agent']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler

from .guard import Guard


class CapturingGuard:
    """A :class:`~agentguard.Guard` whose spans, metrics and log records are kept in memory.

    ``sampled=False`` builds a tracer provider that samples every span out (metrics still flow).
    Other keyword arguments go to :class:`~agentguard.Guard`.
    """

    def __init__(self, *, sampled: bool = True, **guard_kwargs: Any) -> None:
        sampler: Sampler = ALWAYS_ON if sampled else ALWAYS_OFF
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(sampler=sampler)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))
        self.guard = Guard(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            logger_provider=self.logger_provider,
            **guard_kwargs,
        )

    def spans(self) -> list[ReadableSpan]:
        """Finished spans, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called ``name`` (raises if there is not exactly one)."""
        found = [s for s in self.spans() if s.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one span {name!r}, found {[s.name for s in self.spans()]}")
        return found[0]

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Metric name -> list of (attributes, value); value is the sum for counters, the
        (count, sum) pair for histograms."""
        data: MetricsData | None = self.metric_reader.get_metrics_data()
        out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    points: Iterable[Any] = metric.data.data_points
                    rows = out.setdefault(metric.name, [])
                    for p in points:
                        value = (p.count, p.sum) if hasattr(p, "count") else p.value
                        rows.append((dict(p.attributes or {}), value))
        return out

    def logs(self) -> list[ReadableLogRecord]:
        """Log records emitted (``gen_ai.evaluation.result`` for each detector signal), in order."""
        return list(self.log_exporter.get_finished_logs())

    def clear(self) -> None:
        self.exporter.clear()
        self.log_exporter.clear()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()
