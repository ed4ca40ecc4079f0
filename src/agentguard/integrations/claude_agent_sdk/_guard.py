"""A policy as the Claude Agent SDK's ``can_use_tool`` callback and ``PreToolUse``/``PostToolUse`` hooks.

::

    from claude_agent_sdk import ClaudeAgentOptions, query
    from agentguard.integrations.claude_agent_sdk import ClaudeAgentGuard

    agent_guard = ClaudeAgentGuard(policy=policy, approver=ag.ConsoleApprover())
    options = ClaudeAgentOptions(can_use_tool=agent_guard.can_use_tool, hooks=agent_guard.hooks())

The tools run inside the Claude Code CLI, not in this process: the ``PreToolUse`` hook decides each
call (the tool profile is the Claude Code hook's: ``Bash`` is a shell command, ``Write``/``Edit`` file
writes, ``WebFetch`` a URL, ``mcp__server__tool`` by its arguments) and opens its step; the
``PostToolUse``/``PostToolUseFailure`` hooks finish it with the tool's response or error, so the span
covers the call. A denial is ``permissionDecision: "deny"`` with the reason, which the CLI gives the
model. An ``ask`` is answered by the approver; with none, the hook answers ``"ask"`` and the CLI's own
permission flow (``can_use_tool``) takes it. ``can_use_tool`` alone decides too, for calls the CLI
asks about.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from claude_agent_sdk import (
    HookContext,
    HookInput,
    HookJSONOutput,
    HookMatcher,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
)
from claude_agent_sdk.types import HookEvent, PreToolUseHookSpecificOutput

from ...guard import Guard, PolicyLike, current_run
from ...telemetry import semconv as sc
from .._steps import ToolStep, action_for, check, resolve_guard, start_tool

_MAX_OPEN = 256


class ClaudeAgentGuard:
    """One policy (with its approver and guard) as the SDK's permission callback and hooks."""

    def __init__(
        self,
        *,
        policy: PolicyLike | None = None,
        approver: Any = None,
        guard: Guard | None = None,
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        self.guard = resolve_guard(guard, policy, approver)
        self._kinds = dict(kinds or {})
        self._open: OrderedDict[str, ToolStep] = OrderedDict()
        self._lock = threading.Lock()

    def _step(
        self,
        tool: str,
        tool_input: Mapping[str, Any],
        *,
        call_id: str | None,
        cwd: str | None,
        agent: str | None,
    ) -> ToolStep:
        action = action_for(tool, tool_input, kinds=self._kinds, call_id=call_id)
        if cwd and action.cwd is None:
            action.cwd = cwd
        step = start_tool(action, guard=self.guard)
        if agent and step.span.is_recording():
            step.span.set_attribute(sc.GEN_AI_AGENT_NAME, agent)
        return step

    def _has_approver(self) -> bool:
        run = current_run()
        return (run is not None and run.approver is not None) or self.guard.approver is not None

    # -- can_use_tool -------------------------------------------------------------------------------
    async def can_use_tool(
        self, tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        """The SDK's ``can_use_tool``: the policy decides (an ``ask`` waits for the approver; with
        none it is a denial). The call's step stays open for ``PostToolUse`` when the hooks are set."""
        call_id = context.tool_use_id
        step = self._take(call_id) if call_id else None
        if step is None:  # else the PreToolUse hook handed its ask over: decide that step now
            step = self._step(tool_name, tool_input, call_id=call_id, cwd=None, agent=context.agent_id)
        decision = await step.adecide()
        if decision.blocks:
            step.finish()
            return PermissionResultDeny(message=step.denial_text())
        self._keep(call_id, step)
        return PermissionResultAllow()

    # -- hooks --------------------------------------------------------------------------------------
    async def pre_tool_use(
        self, input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        """The ``PreToolUse`` hook: decide the call before the CLI runs it."""
        data: Mapping[str, Any] = input_data
        if data.get("hook_event_name") != "PreToolUse":
            return {}
        call_id = tool_use_id or data.get("tool_use_id")
        tool = str(data.get("tool_name", ""))
        tool_input = data.get("tool_input") or {}
        agent = data.get("agent_type") or data.get("agent_id")
        step = self._step(tool, tool_input, call_id=call_id, cwd=data.get("cwd"), agent=agent)
        if not self._has_approver():
            asked = check(step.action, guard=self.guard)
            if asked.outcome == "ask" and asked.mode == "enforce":
                self._keep(call_id, step)  # undecided: the CLI's permission flow (can_use_tool) asks
                return _pre_tool_use("ask", asked.reason)
        decision = await step.adecide()
        if decision.blocks:
            step.finish()
            return _pre_tool_use("deny", step.denial_text())
        self._keep(call_id, step)
        return (
            _pre_tool_use("allow", decision.reason) if decision.outcome == "allow" and decision.reason else {}
        )

    async def post_tool_use(
        self, input_data: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        """The ``PostToolUse``/``PostToolUseFailure`` hook: finish the call's step with its outcome."""
        data: Mapping[str, Any] = input_data
        call_id = tool_use_id or data.get("tool_use_id")
        step = self._take(call_id) if call_id else None
        if step is None:
            return {}
        if data.get("hook_event_name") == "PostToolUseFailure":
            step.finish(error=ToolFailed(str(data.get("error", ""))))
        else:
            step.finish(result=data.get("tool_response"))
        return {}

    def hooks(self) -> dict[HookEvent, list[HookMatcher]]:
        """``ClaudeAgentOptions(hooks=...)``: the pre and post tool-use hooks, for every tool."""
        return {
            "PreToolUse": [HookMatcher(matcher=None, hooks=[self.pre_tool_use])],
            "PostToolUse": [HookMatcher(matcher=None, hooks=[self.post_tool_use])],
            "PostToolUseFailure": [HookMatcher(matcher=None, hooks=[self.post_tool_use])],
        }

    # -- open steps, by tool-use id -------------------------------------------------------------------
    def _keep(self, call_id: str | None, step: ToolStep) -> None:
        if not call_id:
            step.finish()
            return
        with self._lock:
            self._open[call_id] = step
            while len(self._open) > _MAX_OPEN:  # never answered (the CLI stopped): end the oldest
                _, stale = self._open.popitem(last=False)
                stale.finish()

    def _take(self, call_id: str) -> ToolStep | None:
        with self._lock:
            return self._open.pop(call_id, None)


class ToolFailed(Exception):
    """A tool call the Claude Code CLI reported as failed (``PostToolUseFailure``)."""


def _pre_tool_use(decision: Literal["allow", "deny", "ask"], reason: str) -> HookJSONOutput:
    specific: PreToolUseHookSpecificOutput = {
        "hookEventName": "PreToolUse",
        "permissionDecision": decision,
        "permissionDecisionReason": reason,
    }
    return {"hookSpecificOutput": specific}
