"""Shared helpers: interleaved repeats, medians, and a span processor that keeps nothing."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor


class DiscardingProcessor(SpanProcessor):
    """Ends spans like a real pipeline would hand them off, then drops them (memory stays flat)."""

    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


Clock = Callable[[], float]


def per_call_us(fn: Callable[[], object], calls: int, *, clock: Clock = time.perf_counter) -> float:
    """Mean microseconds per call of ``fn`` over ``calls`` calls (GC paused during the loop).

    ``clock`` is wall time by default; ``time.process_time`` counts only this process's CPU time,
    which other processes on a busy machine disturb far less (use it for single-threaded code).
    """
    gc.disable()
    try:
        start = clock()
        for _ in range(calls):
            fn()
        return (clock() - start) / calls * 1e6
    finally:
        gc.enable()


def interleaved_samples(
    cases: dict[str, Callable[[], object]],
    *,
    calls: int,
    repeats: int,
    around: Mapping[str, Callable[[], AbstractContextManager[object]]] | None = None,
    block: int | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, list[float]]:
    """Per-call microseconds of each case in each repeat, the cases run in turn within each repeat.

    ``around[name]``, when given, is entered before each timed stretch of that case (warm-up
    included) and left after it, outside the timed loop: e.g. instrument, measure, uninstrument.
    ``block`` splits each sample of ``calls`` calls into stretches of ``block`` calls, the cases
    taking turns stretch by stretch, so slow phases of a busy machine hit every case alike.
    """
    around = around or {}
    step = min(block or calls, calls)

    def stretch(name: str, fn: Callable[[], object], n: int) -> float:
        setup = around.get(name)
        if setup is None:
            return per_call_us(fn, n, clock=clock)
        with setup():
            return per_call_us(fn, n, clock=clock)

    for name, fn in cases.items():  # warm up
        stretch(name, fn, max(calls // 10, 10))
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        totals = dict.fromkeys(cases, 0.0)
        done = 0
        while done < calls:
            n = min(step, calls - done)
            for name, fn in cases.items():
                totals[name] += stretch(name, fn, n) * n
            done += n
        for name in cases:
            samples[name].append(totals[name] / calls)
    return samples


def interleaved(
    cases: dict[str, Callable[[], object]],
    *,
    calls: int,
    repeats: int,
    around: Mapping[str, Callable[[], AbstractContextManager[object]]] | None = None,
    block: int | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, float]:
    """Median per-call microseconds of each case (see :func:`interleaved_samples`)."""
    samples = interleaved_samples(
        cases, calls=calls, repeats=repeats, around=around, block=block, clock=clock
    )
    return {name: statistics.median(values) for name, values in samples.items()}
