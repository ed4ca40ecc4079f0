"""The one seam between the framework adapters and the guard: tool steps and runs.

Every adapter under :mod:`agentguard.integrations` builds an :class:`~agentguard.action.Action` for a
framework's tool call, then::

    step = start_tool(action, guard=guard)
    decision = await step.adecide()          # policy, approver; the decision event on the span
    if decision.blocks:
        return step.denial_text()            # what the model reads instead of the tool's result
    with step.use():                         # the step's span is current while the tool runs
        result = await call_the_tool()
    step.finish(result=result)

and opens a run, when none is current, with :func:`open_run` / :func:`close_run`. Nothing else in the
adapters decides, records telemetry or feeds detectors; this module does it through the guard's
``decide`` / ``adecide`` and the same span, decision event, metrics and detector hooks as
:func:`agentguard.tool`.

A tool call that already has a span of its own (an OpenInference ``TOOL`` span for the same tool, or an
``execute_tool`` span of another GenAI instrumentation) is enriched: the decision, facts and signals
go onto that span and no second span is made.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections import deque
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import Token
from dataclasses import replace
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import _safe
from .. import semconv as sc
from ..action import Action, ActionKind, normalise_kind
from ..content import to_text
from ..decision import ALLOW, Decision
from ..detect import _online as _detect
from ..guard import Guard, PolicyLike, default_guard
from ..normalise import action_from_tool_call
from ..run import RunState, current_run
from ..run import _current as _run_var

__all__ = [
    "ToolStep",
    "action_for",
    "check",
    "close_run",
    "open_run",
    "resolve_guard",
    "start_tool",
]

# OpenInference marks its spans with this attribute; "TOOL" is a tool call.
_OPENINFERENCE_KIND = "openinference.span.kind"
_OPENINFERENCE_TOOL_NAME = "tool.name"


def resolve_guard(guard: Guard | None, policy: PolicyLike | None, approver: Any) -> Guard:
    """The guard an adapter uses: ``guard`` (or the default one), with ``policy``/``approver`` when given.

    A given policy or approver makes a shallow copy of the guard that shares its providers and
    instruments, so the adapter's settings never change the guard other code uses.
    """
    base = guard if guard is not None else default_guard()
    if policy is None and approver is None:
        return base
    derived = copy.copy(base)
    if policy is not None:
        derived.policy = policy
    if approver is not None:
        derived.approver = approver
    return derived


def action_for(
    tool: str,
    arguments: Mapping[str, Any] | None,
    *,
    kinds: Mapping[str, str] | None = None,
    call_id: str | None = None,
    profile: str | None = None,
) -> Action:
    """The action for a framework's tool call: the tool profiles map known tools, the argument names
    the rest (``command``/``cmd`` → command, ``path``/``file_path`` → path, ``url`` → URL).

    ``kinds`` maps tool names to kinds (``{"run": "shell"}``) for tools whose name says nothing.
    """
    args = dict(arguments) if isinstance(arguments, Mapping) else {}
    action = action_from_tool_call(tool, args, profile=profile)
    if kinds and tool in kinds:
        kind = normalise_kind(kinds[tool])
        if kind != action.kind:
            action = _with_kind(action, kind)
    action.call_id = call_id
    return action


def _with_kind(action: Action, kind: ActionKind) -> Action:
    """``action`` as another kind, its canonical arguments found again for that kind."""
    remapped = action_from_tool_call(kind, action.arguments, profile="agentguard")
    remapped.tool = action.tool
    remapped.kind = kind
    return remapped


class ToolStep:
    """One tool call from its action to its span's end. Built by :func:`start_tool`."""

    __slots__ = ("_adopted", "_done", "_labels", "action", "decision", "guard", "run", "span")

    def __init__(
        self, *, guard: Guard, run: RunState | None, action: Action, span: trace.Span, adopted: bool
    ) -> None:
        self.guard = guard
        self.run = run
        self.action = action
        self.span = span
        self.decision: Decision = ALLOW
        self._adopted = adopted
        self._done = False
        self._labels = {sc.LABEL_KIND: action.kind, sc.GEN_AI_TOOL_NAME: action.tool}

    # -- the decision -------------------------------------------------------------------------------
    def decide(self) -> Decision:
        """Decide the call (an enforced ``ask`` waits for the approver). Fails closed."""
        try:
            decision = self.guard.decide(self.action, self.run)
        except Exception as exc:
            decision = Decision.deny(f"decision failed: {type(exc).__name__}: {exc}", rule_id="guard.error")
        return self._decided(decision)

    async def adecide(self) -> Decision:
        """:meth:`decide` for async callers: an ``ask`` never blocks the event loop."""
        try:
            decision = await self.guard.adecide(self.action, self.run)
        except Exception as exc:
            decision = Decision.deny(f"decision failed: {type(exc).__name__}: {exc}", rule_id="guard.error")
        return self._decided(decision)

    def decide_answered(self, *, granted: bool, by: str, reason: str = "") -> Decision:
        """Decide the call when the framework's own approval (``by``) already answered it: the
        policy's ``ask`` becomes an allow or a deny that says who answered; a deny still denies."""
        decision = check(self.action, guard=self.guard)
        if decision.outcome == "ask":
            verb = "approved" if granted else "denied"
            said = f"{verb} by {by}" + (f": {reason}" if reason else "") + f" (asked: {decision.reason})"
            decision = replace(decision, outcome="allow" if granted else "deny", reason=said)
        return self._decided(decision)

    def _decided(self, decision: Decision) -> Decision:
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
            self.guard.instruments.decisions.add(1, {**decision.metric_attributes(), **self._labels})
        except Exception as exc:
            _safe.report("integrations.decision", exc)
        if self.run is not None:
            _detect.on_decision(self.run, self.action, decision, self.span)
        return decision

    @property
    def blocks(self) -> bool:
        """True when the decision stops the call (a deny in ``enforce`` mode)."""
        return self.decision.blocks

    def denial_text(self) -> str:
        """The tool result a denied call gives the model: the decision with its reason."""
        return f"Denied by policy: {self.decision.explain()}"

    # -- the call -----------------------------------------------------------------------------------
    def use(self) -> AbstractContextManager[trace.Span]:
        """Make the step's span current while the tool runs (its own spans and LLM calls nest under it)."""
        return trace.use_span(
            self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def finish(self, *, result: Any = None, error: BaseException | None = None) -> None:
        """End the step: result or error on the span, detectors, run history, metrics. Runs once."""
        if self._done:
            return
        self._done = True
        try:
            span, guard, run = self.span, self.guard, self.run
            if span.is_recording():
                if error is not None:
                    span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
                    if not self._adopted:
                        span.record_exception(error)
                        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
                elif guard.capture_content and not self.blocks:
                    span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, to_text(result))
            if run is not None:
                _detect.on_tool_result(run, guard, self.action, span, result, error)
            if not self._adopted:
                span.end()
            if run is not None:
                run.record_action(self.action)
            labels = (
                self._labels if error is None else {**self._labels, sc.ERROR_TYPE: type(error).__qualname__}
            )
            guard.instruments.tool_calls.add(1, labels)
        except Exception as exc:
            _safe.report("integrations.finish", exc)


def check(action: Action, *, guard: Guard | None = None) -> Decision:
    """The policy's answer for ``action`` without asking anyone and without recording it: what a
    framework's own approval hook needs to know (does this call need approval?). Fails closed."""
    run = current_run()
    g = guard if guard is not None else (run.guard if run is not None else default_guard())
    policy = run.policy if run is not None and run.policy is not None else g.policy
    if policy is None:
        return ALLOW
    try:
        decision = policy.check(action, run)
    except Exception as exc:
        return Decision.deny(f"policy raised {type(exc).__name__}: {exc}", rule_id="policy.error")
    if not isinstance(decision, Decision):
        return Decision.deny("policy returned no Decision", rule_id="policy.error")
    return decision


def start_tool(
    action: Action, *, guard: Guard | None = None, description: str | None = None, tool_type: str = "function"
) -> ToolStep:
    """Start the step of one tool call: its span (or the framework's own span, enriched), detectors."""
    run = current_run()
    g = guard if guard is not None else (run.guard if run is not None else default_guard())
    if run is not None and action.call_id is None:
        action.call_id = run.take_tool_call_id(action.tool)
    attrs: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
        sc.GEN_AI_TOOL_NAME: action.tool,
        sc.GEN_AI_TOOL_TYPE: tool_type,
        sc.TOOL_KIND: action.kind,
    }
    if description:
        attrs[sc.GEN_AI_TOOL_DESCRIPTION] = description
    if action.call_id is not None:
        attrs[sc.GEN_AI_TOOL_CALL_ID] = action.call_id
    adopted = False
    try:
        span = _framework_span(action.tool)
        if span is not None:
            adopted = True
            span.set_attributes(attrs)
        else:
            span = g.tracer.start_span(
                f"{sc.OP_EXECUTE_TOOL} {action.tool}", kind=SpanKind.INTERNAL, attributes=attrs
            )
        if g.capture_content and span.is_recording():
            span.set_attribute(sc.GEN_AI_TOOL_CALL_ARGUMENTS, to_text(dict(action.arguments)))
    except Exception as exc:
        _safe.report("integrations.start_tool", exc)
        span = trace.INVALID_SPAN
    if run is not None:
        _detect.on_tool_call(run, action, span)
    return ToolStep(guard=g, run=run, action=action, span=span, adopted=adopted)


def _framework_span(tool: str) -> trace.Span | None:
    """The current span when it is another instrumentation's span of this same tool call."""
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    attributes = getattr(span, "attributes", None)
    if not isinstance(attributes, Mapping):
        return None
    if attributes.get(_OPENINFERENCE_KIND) == "TOOL":
        name = attributes.get(_OPENINFERENCE_TOOL_NAME)
        return span if name in (None, tool) else None
    if (
        attributes.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL
        and sc.POLICY_DECISION not in attributes
    ):
        return span if attributes.get(sc.GEN_AI_TOOL_NAME) in (None, tool) else None
    return None


# -- runs ---------------------------------------------------------------------------------------------
class OpenRun:
    """A run an adapter opened; :func:`close_run` ends it."""

    __slots__ = ("_otel_token", "_token", "run")

    def __init__(
        self, run: RunState, token: Token[RunState | None] | None, otel_token: object | None
    ) -> None:
        self.run = run
        self._token = token
        self._otel_token = otel_token


def open_run(
    *,
    name: str,
    guard: Guard,
    task: str | None = None,
    conversation_id: str | None = None,
    activate: bool = True,
) -> OpenRun:
    """Open a run named after the framework's agent (``invoke_agent {name}``) and, with ``activate``,
    make it current in this context. The guard's policy and approver are the run's."""
    run_id = uuid.uuid4().hex
    conversation = conversation_id or run_id
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
        sc.GEN_AI_AGENT_NAME: name,
        sc.GEN_AI_CONVERSATION_ID: conversation,
        sc.RUN_ID: run_id,
    }
    if task:
        attributes[sc.TASK] = task
    try:
        span = guard.tracer.start_span(
            f"{sc.OP_INVOKE_AGENT} {name}", kind=SpanKind.INTERNAL, attributes=attributes
        )
    except Exception as exc:
        _safe.report("integrations.open_run", exc)
        span = trace.INVALID_SPAN
    run = RunState(
        run_id=run_id,
        name=name,
        task=task,
        scope=None,
        guard=guard,
        conversation_id=conversation,
        span=span,
        policy=guard.policy,
        approver=guard.approver,
        parent=current_run(),
        history=deque(maxlen=guard.history_size),
    )
    if not activate:
        return OpenRun(run, None, None)
    # the run is made current by hand, not through a context manager, because frameworks end it
    # from a callback (a trace's end) rather than from the block that started it
    return OpenRun(run, _run_var.set(run), attach_span(span))


def close_run(opened: OpenRun, *, error: BaseException | None = None, result: Any = None) -> None:
    """End a run from :func:`open_run`: run detectors, totals on its span, metrics. Never raises."""
    from ..guarded import _close

    if opened._otel_token is not None:
        detach_span(opened._otel_token)
    if opened._token is not None:
        # ended from another context than it was opened in: the run is marked ended all the same
        with contextlib.suppress(ValueError):
            _run_var.reset(opened._token)
    _close(opened.run, error, result)


def attach_span(span: trace.Span) -> object:
    """Make ``span`` current; the token goes to :func:`detach_span`."""
    return otel_context.attach(trace.set_span_in_context(span))


def detach_span(token: object) -> None:
    try:
        otel_context.detach(token)  # type: ignore[arg-type]
    except Exception as exc:
        _safe.report("integrations.detach", exc)
