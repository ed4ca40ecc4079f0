"""What the framework adapters share on top of the guard's steps (:mod:`agentguard.guard`).

Every adapter under :mod:`agentguard.integrations` builds an :class:`~agentguard.action.Action` for a
framework's tool call, then drives the guard's :class:`~agentguard.guard.ToolStep`::

    step = start_tool(action, guard=guard)
    decision = await step.adecide()          # policy, approver; the decision event on the span
    if decision.blocks:
        return step.denial_text()            # what the model reads instead of the tool's result
    with step.use():                         # the step's span is current while the tool runs
        result = await call_the_tool()
    step.finish(result=result)

This module adds only what a framework needs beyond ``guard.start_tool``: the action for a tool the
user did not write (:func:`action_for`), the policy's answer without asking anyone (:func:`check`,
for a framework's own approval hook), a step answered by the framework's own approval
(:func:`decide_answered`), a run opened and closed from a framework's callbacks (:func:`open_run`),
and, when a tool call already has a span of its own (an OpenInference ``TOOL`` span for the same
tool, or another GenAI instrumentation's ``execute_tool`` span), a step that enriches that span
instead of making a second one.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import _safe
from ..action import ALLOW, Action, ActionKind, Decision, normalise_kind
from ..detect import online as _detect
from ..guard import (
    Borrowed,
    Guard,
    PolicyLike,
    RunScope,
    RunState,
    ToolSpec,
    ToolStep,
    borrow,
    close_run,
    current_run,
    default_guard,
    foreign_tool_span,
)
from ..normalise import action_from_tool_call
from ..telemetry import semconv as sc

__all__ = [
    "FrameworkRun",
    "ToolStep",
    "action_for",
    "attach_span",
    "check",
    "decide_answered",
    "detach_span",
    "open_run",
    "resolve_guard",
    "start_tool",
]


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


def decide_answered(step: ToolStep, *, granted: bool, by: str, reason: str = "") -> Decision:
    """Decide ``step`` when the framework's own approval (``by``) already answered it: the policy's
    ``ask`` becomes an allow or a deny that says who answered; a deny still denies."""
    decision = check(step.action, guard=step.guard)
    if decision.outcome == "ask":
        verb = "approved" if granted else "denied"
        said = f"{verb} by {by}" + (f": {reason}" if reason else "") + f" (asked: {decision.reason})"
        decision = replace(decision, outcome="allow" if granted else "deny", reason=said)
    return step._settle(step.action, decision)


def start_tool(action: Action, *, guard: Guard | None = None, description: str | None = None) -> ToolStep:
    """Start the guard's step for one tool call, in the current run (if any).

    When the current span is another instrumentation's span of this same call, the step records on
    it (attributes, decision event, signals) and leaves ending it to its owner.
    """
    run = current_run()
    g = guard if guard is not None else (run.guard if run is not None else default_guard())
    if run is not None and action.call_id is None:
        action.call_id = run.take_tool_call_id(action.tool)
    spec = ToolSpec(name=action.tool, kind=action.kind, description=description)
    theirs = foreign_tool_span(action.tool)
    if theirs is None:
        return g.start_tool(action, run=run, spec=spec)
    attributes = dict(spec.attributes)
    if action.call_id is not None:
        attributes[sc.GEN_AI_TOOL_CALL_ID] = action.call_id
    try:
        span = borrow(theirs, attributes)
    except Exception as exc:
        _safe.report("integrations.start_tool", exc)
        span = cast(trace.Span, Borrowed(theirs))
    step = ToolStep(g, run, action, span, spec)
    if run is not None:
        _detect.on_tool_call(run, action, span)
    return step


# -- runs opened from a framework's callbacks -----------------------------------------------------------
class FrameworkRun:
    """A run opened by :func:`open_run`: current from there on in that context, until :meth:`close`."""

    __slots__ = ("_scope", "run")

    def __init__(self, scope: RunScope, run: RunState) -> None:
        self._scope = scope
        self.run = run

    def close(self, *, error: BaseException | None = None) -> None:
        """End the run (totals, detectors, metrics). A framework may end it from another context than
        the one that opened it: the run is marked ended all the same. Never raises."""
        try:
            self._scope.__exit__(type(error) if error else None, error, None)
        except Exception as exc:
            _safe.report("integrations.close_run", exc)
            if not self.run.ended:
                close_run(self.run, error)


def open_run(*, name: str, guard: Guard, conversation_id: str | None = None) -> FrameworkRun:
    """Open a run named after the framework's agent (``invoke_agent {name}``), current in this context.

    The run has no policy of its own: each step decides with its adapter's guard (which carries the
    adapter's policy and approver), so two adapters with different policies never borrow each other's.
    """
    scope = guard.run(name=name, conversation_id=conversation_id, join=False)
    return FrameworkRun(scope, scope.__enter__())


def attach_span(span: trace.Span) -> object:
    """Make ``span`` current; the token goes to :func:`detach_span`."""
    return otel_context.attach(trace.set_span_in_context(span))


def detach_span(token: object) -> None:
    with contextlib.suppress(Exception):
        otel_context.detach(token)  # type: ignore[arg-type]
