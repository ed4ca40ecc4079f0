"""``LosslessBatchSpanProcessor``: batches spans for an exporter without silently dropping any.

The SDK's ``BatchSpanProcessor`` drops a span when its 2,048-span queue is full and says so only in a
log line. This processor queues up to ``max_queue`` spans; a span that ends while the queue is full
makes the thread that ended it wait (at most ``block_s``) for the exporter thread to make room, so a
burst slows the agent down a little instead of losing spans. Only a span that still finds no room
after that wait, or that ends after shutdown, is dropped, and every dropped span is counted in
:attr:`LosslessBatchSpanProcessor.dropped` and reported once (``agentguard._safe.report``).

Shutdown is bounded: :meth:`shutdown` exports what is queued for at most ``timeout_s`` seconds, then
stops waiting (the exporter thread is a daemon, so an exporter stuck on a dead endpoint cannot hold
the interpreter at exit) and counts what was not sent in :attr:`LosslessBatchSpanProcessor.unsent`.

::

    from opentelemetry.sdk.trace import TracerProvider
    from agentguard.export import LocalStoreSpanExporter
    from agentguard.export._batch import LosslessBatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(LosslessBatchSpanProcessor(LocalStoreSpanExporter("spans.db")))
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Final

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context, attach, detach, set_value
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .. import _safe

logger = logging.getLogger("agentguard")

DEFAULT_MAX_QUEUE: Final = 65_536
DEFAULT_MAX_BATCH: Final = 512
DEFAULT_DELAY_S: Final = 1.0
DEFAULT_BLOCK_S: Final = 5.0
DEFAULT_SHUTDOWN_S: Final = 2.0


class LosslessBatchSpanProcessor(SpanProcessor):
    """Export finished spans in batches from one daemon thread; see the module docstring.

    ``delay_s`` is the longest a span waits before its batch is exported; a batch is exported as soon
    as ``max_batch`` spans are queued. ``name`` names the fault in the one warning it logs.
    ``on_lost(count)`` is told of spans dropped here or left unsent at shutdown (the local store
    records the total, so readers can say the store is incomplete).
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_batch: int = DEFAULT_MAX_BATCH,
        delay_s: float = DEFAULT_DELAY_S,
        block_s: float = DEFAULT_BLOCK_S,
        timeout_s: float = DEFAULT_SHUTDOWN_S,
        name: str = "export",
        on_lost: Callable[[int], None] | None = None,
    ) -> None:
        if max_queue < 1 or max_batch < 1:
            raise ValueError("max_queue and max_batch must be positive")
        self.exporter = exporter
        self._max_queue = max_queue
        self._max_batch = max_batch
        self._delay_s = delay_s
        self._block_s = block_s
        self.timeout_s = timeout_s
        self._name = name
        self._on_lost = on_lost
        self._queue: collections.deque[ReadableSpan] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._flush_requested = 0
        self._stopping = False
        self._exported = 0
        self._failed = 0
        self._dropped = 0
        self._unsent = 0
        self._thread = self._start()
        if hasattr(os, "register_at_fork"):
            # A forked child has no exporter thread: give it its own, and an empty queue.
            ref = weakref.ref(self)

            def after_fork() -> None:
                processor = ref()
                if processor is not None:
                    processor._after_fork()

            os.register_at_fork(after_in_child=after_fork)

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._work, name=f"agentguard-{self._name}", daemon=True)
        thread.start()
        return thread

    def _after_fork(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._queue.clear()
        self._in_flight = 0
        self._flush_requested = 0
        if not self._stopping:
            self._thread = self._start()

    # -- counters -----------------------------------------------------------------------------------
    @property
    def exported(self) -> int:
        """Spans the exporter accepted."""
        return self._exported

    @property
    def failed(self) -> int:
        """Spans handed to the exporter that it reported as not written."""
        return self._failed

    @property
    def dropped(self) -> int:
        """Spans never handed to the exporter: the queue stayed full, or they ended after shutdown."""
        return self._dropped

    @property
    def unsent(self) -> int:
        """Spans still queued or in flight since :meth:`shutdown` began (0 before it)."""
        with self._cond:
            if not self._stopping:
                return 0
            return max(self._unsent, len(self._queue) + self._in_flight)

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    # -- SpanProcessor ------------------------------------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context.trace_flags.sampled:
            return
        with self._cond:
            if self._stopping:
                self._drop(1, "ended after shutdown")
                return
            if len(self._queue) >= self._max_queue:
                deadline = time.monotonic() + self._block_s
                self._cond.notify_all()
                while len(self._queue) >= self._max_queue and not self._stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._drop(1, f"the queue stayed full ({self._max_queue} spans) for {self._block_s}s")
                        return
                    self._cond.wait(remaining)
                if self._stopping:
                    self._drop(1, "ended after shutdown")
                    return
            self._queue.append(span)
            if len(self._queue) >= self._max_batch:
                self._cond.notify_all()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything queued now; ``True`` when it was exported within the timeout."""
        deadline = time.monotonic() + timeout_millis / 1000
        with self._cond:
            self._flush_requested += 1
            self._cond.notify_all()
            try:
                while self._queue or self._in_flight:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        return False
                    self._cond.wait(remaining)
            finally:
                self._flush_requested -= 1
        return True

    def shutdown(self) -> None:
        """Export what is queued for at most ``timeout_s`` seconds, then stop (idempotent)."""
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(max(deadline - time.monotonic(), 0))
        with self._cond:
            left = len(self._queue) + self._in_flight
            self._queue.clear()
            self._unsent = left
            self._cond.notify_all()
        if left:
            self._tell_lost(left)
            logger.debug("agentguard: %s: %d spans not sent within %.1fs", self._name, left, self.timeout_s)
        try:
            self.exporter.shutdown()
        except Exception as exc:
            _safe.report(f"{self._name}.shutdown", exc)

    # -- the exporter thread ------------------------------------------------------------------------
    def _drop(self, count: int, why: str) -> None:
        self._dropped += count
        self._tell_lost(count)
        _safe.report(f"{self._name}.dropped", OverflowError(f"span dropped: {why}"))

    def _tell_lost(self, count: int) -> None:
        if self._on_lost is not None and count:
            try:
                self._on_lost(count)
            except Exception as exc:
                _safe.report(f"{self._name}.on_lost", exc)

    def _work(self) -> None:
        while True:
            with self._cond:
                deadline = time.monotonic() + self._delay_s
                while (
                    len(self._queue) < self._max_batch
                    and not self._stopping
                    and not (self._flush_requested and self._queue)
                ):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if not self._queue:
                    if self._stopping:
                        return
                    continue
                batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
                self._in_flight = len(batch)
                self._cond.notify_all()  # room in the queue for any thread waiting in on_end
            self._export(batch)
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()

    def _export(self, batch: list[ReadableSpan]) -> None:
        # The exporter's own HTTP requests create no spans.
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
        try:
            result = self.exporter.export(batch)
        except Exception as exc:
            result = SpanExportResult.FAILURE
            _safe.report(f"{self._name}.export", exc)
        finally:
            detach(token)
        if result is SpanExportResult.SUCCESS:
            self._exported += len(batch)
        else:
            self._failed += len(batch)
