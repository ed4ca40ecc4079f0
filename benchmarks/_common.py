"""Shared helpers: interleaved repeats, medians, and a span processor that keeps nothing."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor


class DiscardingProcessor(SpanProcessor):
    """Ends spans like a real pipeline would hand them off, then drops them (memory stays flat)."""

    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


def per_call_us(fn: Callable[[], object], calls: int) -> float:
    """Mean microseconds per call of ``fn`` over ``calls`` calls (GC paused during the loop)."""
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls * 1e6
    finally:
        gc.enable()


def interleaved(cases: dict[str, Callable[[], object]], *, calls: int, repeats: int) -> dict[str, float]:
    """Median per-call microseconds of each case, the cases run in turn within each repeat."""
    for fn in cases.values():  # warm up
        per_call_us(fn, max(calls // 10, 10))
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(per_call_us(fn, calls))
    return {name: statistics.median(values) for name, values in samples.items()}
