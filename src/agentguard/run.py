"""Per-run state, held in a context variable.

A run is opened by :func:`agentguard.guarded`. Everything the agent does inside it (LLM calls, tool
calls, in the same thread, in asyncio tasks it starts and in threads it starts) sees the same
:class:`RunState` through :func:`current_run`; two runs in flight at once never see each other's.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from .policy._budget import Budget

if TYPE_CHECKING:
    from .action import Action
    from .guard import Guard, PolicyLike
    from .scope import Scope

_current: ContextVar[RunState | None] = ContextVar("agentguard_run", default=None)


@dataclass(slots=True, eq=False, kw_only=True)
class RunState:
    """What the guard knows about one run of an agent. Counters are safe to update from many threads."""

    run_id: str
    name: str
    task: str | None
    scope: Scope | None
    guard: Guard
    conversation_id: str
    span: trace.Span
    policy: PolicyLike | None = None
    """The run's own policy (``guarded(policy=...)``), else the guard's."""
    approver: Any = None
    parent: RunState | None = None
    started: float = field(default_factory=time.perf_counter)
    cost_usd: float = 0.0
    cost_known: bool = False
    """True once any LLM call in the run had a known price."""
    input_tokens: int = 0
    output_tokens: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    refusals: int = 0
    history: deque[Action] = field(default_factory=lambda: deque(maxlen=256))
    """The most recent actions, oldest first (bounded)."""
    signals: list[Any] = field(default_factory=list)
    """Detector signals (:class:`agentguard.detect.Signal`), oldest first (bounded)."""
    detection: Any = None
    """The run's detector session, created on first use (``False`` when detectors are off)."""
    budget: Budget = field(default_factory=Budget)
    """The run's spend ledger: budget rules reserve against it before LLM calls (thread-safe)."""
    ended: bool = False
    _pending_tool_calls: dict[str, deque[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- updates from the instrumentation -----------------------------------------------------------
    def record_llm_call(
        self,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float | None = None,
        refusal: bool = False,
        tool_calls: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Add one LLM call's usage, cost and refusal, and the tool calls it requested (name, id)."""
        with self._lock:
            self.llm_calls += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            if cost_usd is not None:
                self.cost_usd += cost_usd
                self.cost_known = True
            if refusal:
                self.refusals += 1
            for name, call_id in tool_calls:
                pending = self._pending_tool_calls.get(name)
                if pending is None:
                    pending = self._pending_tool_calls[name] = deque(maxlen=64)
                pending.append(call_id)

    def take_tool_call_id(self, tool_name: str) -> str | None:
        """The oldest id of a call to ``tool_name`` a model requested in this run that no tool answered."""
        pending = self._pending_tool_calls.get(tool_name)
        if not pending:
            return None
        try:
            return pending.popleft()
        except IndexError:  # raced with another thread
            return None

    def record_action(self, action: Action) -> None:
        """Count a tool call and keep it in the bounded history."""
        with self._lock:
            self.tool_calls += 1
        self.history.append(action)

    @property
    def duration_s(self) -> float:
        return time.perf_counter() - self.started

    # -- activation ---------------------------------------------------------------------------------
    @contextmanager
    def activate(self) -> Iterator[RunState]:
        """Make this run, and its span, current for the block."""
        token = _current.set(self)
        otel_token = otel_context.attach(trace.set_span_in_context(self.span))
        try:
            yield self
        finally:
            otel_context.detach(otel_token)
            _current.reset(token)


def current_run() -> RunState | None:
    """The run the caller is inside, or ``None`` outside any guarded run (or after it ended)."""
    run = _current.get()
    if run is None or run.ended:
        return None
    return run
