"""Steps: the guard's side of one call, from the action to the span's end.

An adapter (``@tool``, the OpenAI instrumentation, a framework integration) turns what it sees into a
step and drives it through four calls; everything else (the span, the decision and its event and
metric, approval, budget reservation and settlement, detector events, run totals, redaction) happens
inside the step::

    import agentguard as ag

    guard = ag.Guard(policy=policy)
    with guard.run(name="agent", task="fix the parser test"):
        step = guard.start_tool(ag.Action(kind="shell", tool="run", command="pytest -q"))
        decision = step.decide()              # or: await step.adecide()
        if decision.blocks:                   # denied and enforced: the call must not run
            result = step.denial_text()       # what a model is told (the step is finished already)
        else:
            with step.use():                  # the execute_tool span is current while the tool runs
                try:
                    result = run_the_tool()
                except Exception as exc:
                    step.finish(error=exc)
                    raise
            step.finish(result=result)

The API, as the guard exposes it:

- ``guard.start_tool(action, *, run="current", spec=None, on_deny=None) -> ToolStep``: starts the
  ``execute_tool {tool}`` span (not yet current) and feeds the call to the online detectors. ``run``
  is the current run unless given (``None``: outside any run; the step still traces and decides).
  ``spec`` (:class:`ToolSpec`) carries what every call of one tool shares; build it once per tool.
- ``guard.start_llm(*, request_model, attributes=None, tool="openai.chat.completions",
  run="current", operation="chat", provider="openai") -> LlmStep`` (:mod:`agentguard.guard`):
  starts the ``{operation} {model}`` client span.
- ``guard.run(name=..., task=..., scope=..., policy=..., approver=..., conversation_id=...,
  join=False)``: a run for a ``with`` or ``async with`` block (:class:`~agentguard.guard.RunScope`);
  ``join=True`` joins the current run when there is one.
- ``step.decide() -> Decision`` / ``await step.adecide()``: policy, approval (sync or async approvers),
  budget reservation; the decision's span event, metric and detector event are recorded once. Without a
  policy it returns at once (no event, no metric). When the decision ``blocks`` the step is finished on
  the spot (span ended, reservation released); a later :meth:`finish` does nothing.
- ``step.denial_text()``: the text a model gets for a blocked call; ``step.denial()`` the
  :class:`~agentguard.Denied` exception to raise instead; ``ToolStep.blocked_result()`` does
  whichever ``on_deny`` says.
- ``with step.use():`` makes the step's span current (so nested spans are its children);
  ``step.activate()`` / ``step.deactivate()`` do the same without a context manager.
- ``ToolStep.finish(*, result=None, error=None)`` and ``LlmStep.finish(*, response=None, error=None)``
  (``response`` an :class:`LlmResponse`): result or error on the span (exception messages, stack traces
  and status descriptions through :func:`agentguard.telemetry.redact`), detector events, run totals,
  metrics, budget settlement, span end. Idempotent; never raises.

Telemetry never breaks the call: every failure inside a step is reported through
:func:`agentguard._safe.report` and swallowed. Decisions fail closed: a policy or approver that raises
denies.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Mapping
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import _safe
from ..action import ALLOW, Action, Decision, Denied
from ..detect import online as _detect
from ..telemetry import redact, to_text
from ..telemetry import semconv as sc

R = TypeVar("R")

if TYPE_CHECKING:
    from ._guard import Guard, OnDeny
    from ._run import RunState

__all__ = ["ToolSpec", "ToolStep", "error_attributes", "record_error", "start_tool"]


def error_attributes(error: BaseException) -> tuple[str, dict[str, str]]:
    """The redacted status description and ``exception`` event attributes of ``error``."""
    message = redact(str(error))
    stack = redact("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    return (
        f"{type(error).__name__}: {message}",
        {sc.EXCEPTION_MESSAGE: message, sc.EXCEPTION_STACKTRACE: stack},
    )


def record_error(span: trace.Span, error: BaseException) -> None:
    """Mark ``span`` as failed by ``error``: error type, a redacted exception event, ERROR status."""
    if not span.is_recording():
        return
    description, attributes = error_attributes(error)
    span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
    span.record_exception(error, attributes=attributes)
    span.set_status(Status(StatusCode.ERROR, description))


class _Current:
    """``with step.use():`` attaches the step's span to the context for the block."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        self._token: Token[Context] | None = None

    def __enter__(self) -> trace.Span:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        token = self._token
        if token is not None:
            self._token = None
            otel_context.detach(token)


class _Step:
    """What tool and LLM steps share: the guard, the run, the span, the decision."""

    __slots__ = ("decision", "done", "guard", "needs_decision", "run", "span", "token", "tool")

    def __init__(self, guard: Guard, run: RunState | None, tool: str, span: trace.Span) -> None:
        self.guard = guard
        self.run = run
        self.tool = tool
        self.span = span
        self.decision: Decision = ALLOW
        """The decision :meth:`decide` reached (``ALLOW`` before, and without a policy)."""
        self.done = False
        self.needs_decision = guard.policy is not None or (run is not None and run.policy is not None)
        """Whether a policy applies (the run's or the guard's); without one :meth:`decide` allows."""
        self.token: Token[Context] | None = None

    def decide(self) -> Decision:
        """Policy, approval (blocking), budget reservation; records the decision once."""
        if not self.needs_decision:
            return ALLOW
        action = self._decided_action()
        return self._settle(action, self.guard.decide(action, self.run))

    async def adecide(self) -> Decision:
        """:meth:`decide` for async callers: an ``ask`` waits without blocking the event loop."""
        if not self.needs_decision:
            return ALLOW
        action = self._decided_action()
        return self._settle(action, await self.guard.adecide(action, self.run))

    def _settle(self, action: Action, decision: Decision) -> Decision:
        self.decision = decision
        if decision is ALLOW:
            return decision
        try:
            span = self.span
            if span.is_recording():
                span.set_attribute(sc.POLICY_DECISION, decision.outcome)
                if decision.approval is not None:
                    span.set_attributes(decision.approval_attributes())
                span.add_event(sc.EVENT_POLICY_DECISION, decision.event_attributes())
            self.guard.instruments.decisions.add(1, {**decision.metric_attributes(), **self._labels()})
        except Exception as exc:
            _safe.report("step.record_decision", exc)
        if self.run is not None:
            _detect.on_decision(self.run, action, decision, self.span)
        if decision.blocks:
            self._blocked()
        return decision

    def _decided_action(self) -> Action:
        raise NotImplementedError

    def _labels(self) -> Mapping[str, Any]:
        raise NotImplementedError

    def _blocked(self) -> None:
        raise NotImplementedError

    def use(self) -> _Current:
        """A context manager that makes the step's span current for the block."""
        return _Current(self.span)

    def activate(self) -> None:
        """Make the span current until :meth:`deactivate` (the cheap form of :meth:`use`)."""
        try:
            self.token = otel_context.attach(trace.set_span_in_context(self.span))
        except Exception as exc:
            _safe.report("step.activate", exc)

    def deactivate(self) -> None:
        token = self.token
        if token is not None:
            self.token = None
            otel_context.detach(token)

    def denial(self) -> Denied:
        """The exception a blocked call raises."""
        return Denied(self.decision, tool=self.tool)

    def denial_text(self) -> str:
        """The text a model gets as the result of a blocked call: the decision, explained."""
        return f"Denied by policy: {self.decision.explain()}"


class ToolSpec:
    """What every call of one tool shares: its name, kind, span name, span attributes, metric labels.

    Build one per tool (at wrap time) and pass it to :meth:`~agentguard.Guard.start_tool`; without one
    the step builds it from the action on each call.
    """

    __slots__ = ("attributes", "key", "kind", "labels", "name", "span_name")

    def __init__(self, *, name: str, kind: str, description: str | None = None) -> None:
        self.name = name
        self.kind = kind
        self.span_name = f"{sc.OP_EXECUTE_TOOL} {name}"
        attrs: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: name,
            sc.GEN_AI_TOOL_TYPE: "function",
            sc.TOOL_KIND: kind,
        }
        if description:
            attrs[sc.GEN_AI_TOOL_DESCRIPTION] = description
        self.attributes: Mapping[str, Any] = attrs
        """Shared by every call: never mutated."""
        self.labels: Mapping[str, str] = {sc.LABEL_KIND: kind, sc.GEN_AI_TOOL_NAME: name}
        self.key = (kind, name)
        """The precomputed counter key of ``labels``."""


class ToolStep(_Step):
    """One tool call: the ``execute_tool {tool}`` span, its decision, its result."""

    __slots__ = ("action", "on_deny", "spec")

    def __init__(
        self,
        guard: Guard,
        run: RunState | None,
        action: Action,
        span: trace.Span,
        spec: ToolSpec,
        on_deny: OnDeny | None = None,
    ) -> None:
        # _Step.__init__, inlined: one Python call less on every tool call
        self.guard = guard
        self.run = run
        self.tool = action.tool
        self.span = span
        self.decision = ALLOW
        self.done = False
        self.needs_decision = guard.policy is not None or (run is not None and run.policy is not None)
        self.token = None
        self.action = action
        self.spec = spec
        self.on_deny: OnDeny = on_deny or guard.on_deny
        """What :meth:`blocked_result` does: ``raise`` :class:`~agentguard.Denied` or ``return`` the
        denial text."""

    def _decided_action(self) -> Action:
        return self.action

    def _labels(self) -> Mapping[str, Any]:
        return self.spec.labels

    def _blocked(self) -> None:
        self.finish()

    def blocked_result(self) -> str:
        """For a blocked call: the denial text when ``on_deny`` is ``return``; raises otherwise."""
        if self.on_deny == "return":
            return self.denial_text()
        raise self.denial()

    def call(self, tool: Callable[[], R], *, record: Callable[[R], Any] | None = None) -> R:
        """Run ``tool`` (the call itself, after :meth:`decide` allowed it) with the span current, then
        finish: with the error it raised (re-raised unchanged) or with its result (``record`` maps the
        result to what the span and detectors see, e.g. a framework message's text)."""
        try:
            with self.use():
                result = tool()
        except BaseException as exc:
            self.finish(error=exc)
            raise
        self.finish(result=result if record is None else record(result))
        return result

    async def acall(self, tool: Callable[[], Any], *, record: Callable[[Any], Any] | None = None) -> Any:
        """:meth:`call` for a tool that returns an awaitable (or, from a sync tool, a plain value)."""
        try:
            with self.use():
                result = tool()
                if inspect.isawaitable(result):
                    result = await result
        except BaseException as exc:
            self.finish(error=exc)
            raise
        self.finish(result=result if record is None else record(result))
        return result

    def finish(self, *, result: Any = None, error: BaseException | None = None) -> None:
        """Result or error on the span, detector events, run totals, metrics, span end; once."""
        if self.done:
            return
        self.done = True
        span = self.span
        guard = self.guard
        run = self.run
        try:
            if error is not None:
                record_error(span, error)
            elif guard.capture_content and span.is_recording():
                shown = self.denial_text() if result is None and self.decision.blocks else result
                span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, to_text(shown))
            if run is not None:
                _detect.on_tool_result(run, guard, self.action, span, result, error)
            span.end()
            if run is not None:
                run.record_action(self.action)
            spec = self.spec
            if error is None:
                guard.instruments.tool_calls.add(1, spec.labels, spec.key)
            else:
                error_type = type(error).__qualname__
                guard.instruments.tool_calls.add(
                    1, {**spec.labels, sc.ERROR_TYPE: error_type}, (*spec.key, error_type)
                )
        except Exception as exc:
            _safe.report("step.tool_finish", exc)


def start_tool(
    guard: Guard,
    action: Action,
    *,
    run: RunState | None,
    spec: ToolSpec | None = None,
    on_deny: OnDeny | None = None,
) -> ToolStep:
    """Start a tool step (see :meth:`agentguard.Guard.start_tool`)."""
    if spec is None:
        spec = ToolSpec(name=action.tool, kind=action.kind)
    attributes = spec.attributes
    if action.call_id is not None:
        attributes = {**attributes, sc.GEN_AI_TOOL_CALL_ID: action.call_id}
    try:
        span = guard.tracer.start_span(spec.span_name, kind=SpanKind.INTERNAL, attributes=attributes)
        if guard.capture_content and span.is_recording():
            span.set_attribute(sc.GEN_AI_TOOL_CALL_ARGUMENTS, to_text(dict(action.arguments)))
    except Exception as exc:
        _safe.report("step.tool_start", exc)
        span = trace.INVALID_SPAN
    step = ToolStep(guard, run, action, span, spec, on_deny)
    if run is not None:
        _detect.on_tool_call(run, action, span)
    return step
