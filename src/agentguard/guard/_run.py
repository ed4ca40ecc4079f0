"""Per-run state, held in a context variable, and opening and closing a run.

A run is opened by :func:`agentguard.guarded`, or by ``with guard.run(...)`` / ``async with
guard.run(...)`` (:class:`RunScope`) where a decorator does not fit. Everything the agent does
inside it (LLM calls, tool calls, in the same thread, in asyncio tasks it starts and in threads it
starts) sees the same :class:`RunState` through :func:`current_run`; two runs in flight at once
never see each other's.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from .. import _safe
from .._threads import ensure_thread_propagation
from ..detect import online as _detect
from ..spend import Budget
from ..telemetry import redact
from ..telemetry import semconv as sc
from ._step import record_error

if TYPE_CHECKING:
    from ..action import Action, Scope
    from ..approval import AnyApprover
    from ..detect import LiveDetection as Detection
    from ._guard import Guard, PolicyLike

_current: ContextVar[RunState | None] = ContextVar("agentguard_run", default=None)


@dataclass(slots=True, eq=False, kw_only=True)
class RunState:
    """What the guard knows about one run of an agent. Counters are safe to update from many threads."""

    run_id: str
    name: str
    task: str | None
    scope: Scope | None
    guard: Guard
    conversation_id: str | None
    """The conversation this run belongs to, when the caller named one (``gen_ai.conversation.id``);
    a nested run without one takes its parent's."""
    span: trace.Span
    policy: PolicyLike | None = None
    """The run's own policy (``guarded(policy=...)``), else the guard's."""
    approver: AnyApprover | None = None
    """The run's own approver (``guarded(approver=...)``), else the guard's."""
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
    detection: Detection | None = None
    """The run's detector session, created on first use."""
    detection_off: bool = False
    """True once the run found its guard has no detectors (no session is ever created)."""
    budget: Budget = field(default_factory=Budget)
    """The run's spend ledger: budget rules reserve against it before LLM calls (thread-safe)."""
    ended: bool = False
    provider: str | None = None
    """The provider of the run's first LLM call, also ``gen_ai.provider.name`` on the run's span."""
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


def open_run(
    guard: Guard,
    *,
    name: str,
    task: str | None = None,
    scope: Scope | None = None,
    policy: PolicyLike | None = None,
    approver: AnyApprover | None = None,
    conversation_id: str | None = None,
) -> RunState:
    """Start a run: its id, its ``invoke_agent {name}`` span (not yet current), its state.

    Pair with :func:`close_run`; :func:`agentguard.guarded` and ``guard.run(...)`` do both.
    """
    if guard.propagate_to_threads:
        ensure_thread_propagation()
    run_id = uuid.uuid4().hex
    parent = current_run()
    if conversation_id is None and parent is not None:
        conversation_id = parent.conversation_id
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
        sc.GEN_AI_AGENT_NAME: name,
        sc.RUN_ID: run_id,
    }
    if conversation_id:
        attributes[sc.GEN_AI_CONVERSATION_ID] = conversation_id
    if task:
        attributes[sc.TASK] = redact(task)
    if scope is not None:
        attributes[sc.SCOPE_ROOT] = scope.root
        attributes[sc.SCOPE_READ] = scope.read
        attributes[sc.SCOPE_WRITE] = scope.write
        attributes[sc.SCOPE_HOSTS] = scope.hosts
    try:
        span = guard.tracer.start_span(
            f"{sc.OP_INVOKE_AGENT} {name}", kind=SpanKind.INTERNAL, attributes=attributes
        )
    except Exception as exc:
        _safe.report("run.start_span", exc)
        span = trace.INVALID_SPAN
    return RunState(
        run_id=run_id,
        name=name,
        task=task,
        scope=scope,
        guard=guard,
        conversation_id=conversation_id,
        span=span,
        policy=policy,
        approver=approver,
        parent=parent,
        history=deque(maxlen=guard.history_size),
    )


def close_run(run: RunState, error: BaseException | None, result: Any = None) -> None:
    """End the run: run-level detectors, totals on the span, status, metrics. Never raises.

    ``result`` is the agent's return value (its final message when it is a ``str``).
    """
    _detect.on_run_end(run, result, error)
    run.ended = True
    try:
        span = run.span
        if span.is_recording():
            span.set_attributes(
                {
                    sc.RUN_INPUT_TOKENS: run.input_tokens,
                    sc.RUN_OUTPUT_TOKENS: run.output_tokens,
                    sc.RUN_LLM_CALLS: run.llm_calls,
                    sc.RUN_TOOL_CALLS: run.tool_calls,
                    sc.RUN_REFUSALS: run.refusals,
                }
            )
            if run.cost_known:
                span.set_attribute(sc.RUN_COST_USD, run.cost_usd)
            if error is not None:
                record_error(span, error)
        span.end()
        labels = {sc.LABEL_AGENT: run.name, sc.LABEL_OUTCOME: "error" if error is not None else "ok"}
        instruments = run.guard.instruments
        instruments.runs.add(1, labels)
        instruments.run_duration.record(run.duration_s, labels)
    except Exception as exc:
        _safe.report("run.close", exc)


class RunScope:
    """``with guard.run(...) as run:`` / ``async with guard.run(...) as run:``: a run for the block.

    The run and its span are current inside the block; leaving it closes the run (an exception marks
    it failed and propagates). With ``join=True`` and a run already current, the block joins that run
    instead: nothing is opened or closed, and the enclosing run is what ``as`` gives. ``result`` may
    be set inside the block to the agent's final answer (what run-end detectors read).
    """

    __slots__ = ("_guard", "_join", "_kwargs", "_opened", "_otel_token", "_token", "result", "state")

    def __init__(self, guard: Guard, *, join: bool, **kwargs: Any) -> None:
        self._guard = guard
        self._join = join
        self._kwargs = kwargs
        self._opened = False
        self._token: Token[RunState | None] | None = None
        self._otel_token: Token[Context] | None = None
        self.state: RunState | None = None
        self.result: Any = None

    def __enter__(self) -> RunState:
        if self.state is not None:
            raise RuntimeError("a RunScope is entered once")
        enclosing = current_run() if self._join else None
        if enclosing is not None:
            self.state = enclosing
            return enclosing
        run = open_run(self._guard, **self._kwargs)
        self.state = run
        self._opened = True
        self._token = _current.set(run)
        self._otel_token = otel_context.attach(trace.set_span_in_context(run.span))
        return run

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        run = self.state
        if not self._opened or run is None:
            return
        otel_token, token = self._otel_token, self._token
        self._otel_token = self._token = None
        if otel_token is not None:
            otel_context.detach(otel_token)
        if token is not None:
            _current.reset(token)
        close_run(run, exc if exc is not None and not isinstance(exc, GeneratorExit) else None, self.result)

    async def __aenter__(self) -> RunState:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)
