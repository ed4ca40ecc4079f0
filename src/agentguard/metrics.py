"""The metric instruments agentguard records, created once per meter.

Labels stay low-cardinality (kind, tool, model, provider, outcome); run ids, paths and other
high-cardinality values go on spans only. Metrics are recorded whether or not the span is sampled.
"""

from __future__ import annotations

from opentelemetry import metrics

from . import semconv as sc


class Instruments:
    """All of agentguard's metric instruments for one meter."""

    __slots__ = (
        "cost",
        "decisions",
        "llm_calls",
        "operation_duration",
        "refusals",
        "run_duration",
        "runs",
        "signals",
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
        self.runs = meter.create_counter(sc.METRIC_RUNS, unit="{run}", description="Guarded agent runs.")
        self.run_duration = meter.create_histogram(
            sc.METRIC_RUN_DURATION,
            unit="s",
            description="Duration of guarded agent runs.",
            explicit_bucket_boundaries_advisory=list(sc.RUN_DURATION_BUCKETS),
        )
        self.cost = meter.create_counter(
            sc.METRIC_COST, unit="{USD}", description="Cost of LLM calls in US dollars, from token usage."
        )
        self.refusals = meter.create_counter(
            sc.METRIC_REFUSALS, unit="{refusal}", description="LLM responses that refused the request."
        )
        self.llm_calls = meter.create_counter(sc.METRIC_LLM_CALLS, unit="{call}", description="LLM calls.")
        self.tool_calls = meter.create_counter(
            sc.METRIC_TOOL_CALLS, unit="{call}", description="Tool calls by kind and tool."
        )
        self.decisions = meter.create_counter(
            sc.METRIC_DECISIONS, unit="{decision}", description="Policy decisions by outcome and rule."
        )
        self.signals = meter.create_counter(
            sc.METRIC_SIGNALS, unit="{signal}", description="Detector signals by category and severity."
        )
