"""The metric instruments agentguard records, created once per meter.

Labels stay low-cardinality (kind, tool, model, provider, outcome); run ids, paths and other
high-cardinality values go on spans only. Metrics are recorded whether or not the span is sampled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from ..telemetry import semconv as sc


class TallyCounter:
    """A monotonic counter for hot paths: counts in-process, reported when metrics are collected.

    ``add`` costs a dictionary update under a lock instead of the SDK's per-measurement attribute
    hashing; the totals reach the meter through an observable counter's callback, so exporters and
    Prometheus see an ordinary cumulative counter.
    """

    __slots__ = ("_attrs", "_counts", "_lock")

    def __init__(self, meter: metrics.Meter, name: str, *, unit: str, description: str) -> None:
        self._counts: dict[Any, float] = {}
        self._attrs: dict[Any, Mapping[str, Any]] = {}
        self._lock = threading.Lock()
        meter.create_observable_counter(name, callbacks=[self._observe], unit=unit, description=description)

    def add(self, amount: float, attributes: Mapping[str, Any], key: Any = None) -> None:
        """Add ``amount`` for ``attributes``; pass a precomputed hashable ``key`` on hot paths."""
        if key is None:
            key = tuple(attributes.items())
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                self._attrs[key] = dict(attributes)
                self._counts[key] = amount
            else:
                self._counts[key] = count + amount

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            items = list(self._counts.items())
        return [Observation(value, self._attrs[key]) for key, value in items]


class Instruments:
    """All of agentguard's metric instruments for one meter."""

    __slots__ = (
        "approval_wait",
        "cost",
        "decisions",
        "llm_calls",
        "operation_duration",
        "refusals",
        "run_duration",
        "runs",
        "signals",
        "time_to_first_chunk",
        "token_usage",
        "tool_calls",
    )

    def __init__(self, meter: metrics.Meter) -> None:
        self.token_usage = meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used per GenAI operation.",
            explicit_bucket_boundaries_advisory=list(sc.TOKEN_USAGE_BUCKETS),
        )
        self.operation_duration = meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit="s",
            description="Duration of GenAI operations.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        )
        self.time_to_first_chunk = meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Time from a streamed GenAI request to its first chunk.",
            explicit_bucket_boundaries_advisory=list(sc.DURATION_BUCKETS),
        )
        self.runs = meter.create_counter(sc.METRIC_RUNS, unit="{run}", description="Guarded agent runs.")
        self.run_duration = meter.create_histogram(
            sc.METRIC_RUN_DURATION,
            unit="s",
            description="Duration of guarded agent runs.",
            explicit_bucket_boundaries_advisory=list(sc.RUN_DURATION_BUCKETS),
        )
        self.cost = TallyCounter(
            meter,
            sc.METRIC_COST,
            unit="{USD}",
            description="Cost of LLM calls in US dollars, from token usage.",
        )
        self.refusals = TallyCounter(
            meter, sc.METRIC_REFUSALS, unit="{refusal}", description="LLM responses that refused the request."
        )
        self.llm_calls = TallyCounter(meter, sc.METRIC_LLM_CALLS, unit="{call}", description="LLM calls.")
        self.tool_calls = TallyCounter(
            meter, sc.METRIC_TOOL_CALLS, unit="{call}", description="Tool calls by kind and tool."
        )
        self.decisions = meter.create_counter(
            sc.METRIC_DECISIONS, unit="{decision}", description="Policy decisions by outcome and rule."
        )
        self.approval_wait = meter.create_histogram(
            sc.METRIC_APPROVAL_WAIT,
            unit="s",
            description="How long actions waited for an approver's answer, by whether it was granted.",
            explicit_bucket_boundaries_advisory=list(sc.APPROVAL_WAIT_BUCKETS),
        )
        self.signals = meter.create_counter(
            sc.METRIC_SIGNALS, unit="{signal}", description="Detector signals by category and severity."
        )
