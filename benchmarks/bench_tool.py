"""Overhead of a guarded tool call vs one bare SDK span with 10 attributes, and memory over 100k calls.

Both sides use the same SDK TracerProvider (a processor that drops ended spans); agentguard's side
also records its metrics into a real SDK MeterProvider. Overheads are per call minus a bare call.
"""

from __future__ import annotations

import gc
import os
import sys

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

import agentguard as ag

from ._common import DiscardingProcessor, interleaved

TARGET_RATIO = 1.5
MEMORY_TARGET_MB = 20.0


def _providers() -> tuple[TracerProvider, MeterProvider]:
    tp = TracerProvider()
    tp.add_span_processor(DiscardingProcessor())
    return tp, MeterProvider(metric_readers=[InMemoryMetricReader()])


def measure(calls: int = 5_000, repeats: int = 7) -> dict[str, float]:
    tp, mp = _providers()
    guard = ag.Guard(tracer_provider=tp, meter_provider=mp)
    tracer = tp.get_tracer("bench")
    attrs = {f"attr.{i}": f"value-{i}" for i in range(10)}

    def write_file(path: str, content: str) -> int:
        return len(content)

    tool = ag.tool(write_file, kind="file_write", guard=guard)

    def bare() -> None:
        write_file("src/app.py", "x = 1\n")

    def sdk_span() -> None:
        with tracer.start_as_current_span("execute_tool write_file", attributes=attrs):
            write_file("src/app.py", "x = 1\n")

    def guarded_call() -> None:
        tool("src/app.py", "x = 1\n")

    results: dict[str, float] = {}

    @ag.guarded(guard=guard)
    def agent() -> None:
        results.update(
            interleaved(
                {"bare": bare, "sdk": sdk_span, "guarded": guarded_call}, calls=calls, repeats=repeats
            )
        )

    agent()
    return results


def _rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(calls: int = 100_000) -> float:
    """RSS growth in MB over ``calls`` guarded tool calls in one run (after a warm-up)."""
    tp, mp = _providers()
    guard = ag.Guard(tracer_provider=tp, meter_provider=mp)

    @ag.tool(kind="shell", guard=guard)
    def run_cmd(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard)
    def agent() -> float:
        for _ in range(2_000):
            run_cmd("pytest -q")
        gc.collect()
        before = _rss_mb()
        for i in range(calls):
            run_cmd(f"pytest -q -k case_{i}")
        gc.collect()
        return _rss_mb() - before

    return agent()


def main() -> int:
    r = measure()
    sdk_over = r["sdk"] - r["bare"]
    ours_over = r["guarded"] - r["bare"]
    ratio = ours_over / sdk_over
    print(
        f"tool call: bare {r['bare']:.2f} µs, SDK span+10 attrs +{sdk_over:.2f} µs, "
        f"guarded tool +{ours_over:.2f} µs"
    )
    print(
        f"tool call overhead ratio (agentguard / bare SDK span): {ratio:.2f}x  "
        f"(target <= {TARGET_RATIO}x) {'OK' if ratio <= TARGET_RATIO else 'MISSED'}"
    )
    grown = memory()
    print(
        f"memory: 100,000 guarded tool calls grew RSS by {grown:.1f} MB  "
        f"(target < {MEMORY_TARGET_MB:.0f} MB) {'OK' if grown < MEMORY_TARGET_MB else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
