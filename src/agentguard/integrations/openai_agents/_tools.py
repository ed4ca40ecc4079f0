"""Guarded copies of the Agents SDK's tools: every call is a tool step before it runs.

A function tool (``@function_tool`` or any ``FunctionTool``, MCP tools and agents-as-tools included)
gets an ``on_invoke_tool`` that decides first and answers a denial with its reason as the tool's
output; a shell or local-shell tool's executor and an apply-patch tool's editor are wrapped the same
way. When no approver is configured, a policy's ``ask`` becomes the SDK's own ``needs_approval``
interruption: the run stops with the call pending, and ``RunState.approve``/``reject`` answer it.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from agents import (
    ApplyPatchTool,
    FunctionTool,
    HostedMCPTool,
    LocalShellTool,
    MCPToolApprovalFunctionResult,
    MCPToolApprovalRequest,
    RunContextWrapper,
    ShellTool,
    Tool,
)
from agents.editor import ApplyPatchEditor, ApplyPatchOperation
from agents.tool_context import ToolContext
from openai.types.responses.tool_param import Mcp

from ...guard import Guard, current_run
from .._steps import ToolStep, action_for, check, decide_answered, start_tool

APPROVED_BY = "openai-agents RunState"


class ToolGuard:
    """What every guarded tool of one ``guard(agent)`` call shares."""

    __slots__ = ("guard", "kinds")

    def __init__(self, *, guard: Guard, kinds: Mapping[str, str] | None) -> None:
        self.guard = guard
        self.kinds = dict(kinds or {})

    def step(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        call_id: str | None,
        kind: str | None = None,
        description: str | None = None,
    ) -> ToolStep:
        kinds = self.kinds if kind is None or tool in self.kinds else {**self.kinds, tool: kind}
        action = action_for(tool, arguments, kinds=kinds, call_id=call_id)
        return start_tool(action, guard=self.guard, description=description)

    def has_approver(self) -> bool:
        run = current_run()
        return (run is not None and run.approver is not None) or self.guard.approver is not None

    # -- tools --------------------------------------------------------------------------------------
    def wrap(self, tool: Tool) -> Tool:
        if isinstance(tool, FunctionTool):
            return self.function_tool(tool)
        if isinstance(tool, ShellTool) and tool.executor is not None:
            guarded = copy.copy(tool)
            guarded.executor = self._shell_executor(tool.name, tool.executor, local=False)
            return guarded
        if isinstance(tool, LocalShellTool):
            guarded_local = copy.copy(tool)
            guarded_local.executor = self._shell_executor(tool.name, tool.executor, local=True)
            return guarded_local
        if isinstance(tool, ApplyPatchTool):
            guarded_patch = copy.copy(tool)
            guarded_patch.editor = _GuardedEditor(self, tool.name, tool.editor)
            return guarded_patch
        if isinstance(tool, HostedMCPTool):
            return self._hosted_mcp(tool)
        # the other hosted tools (web search, file search, code interpreter, image generation) run on the
        # model provider's side, and a computer tool's actions are driven by the SDK: no call here.
        return tool

    def _hosted_mcp(self, tool: HostedMCPTool) -> HostedMCPTool:
        """A hosted MCP tool runs on the provider's side, but the SDK asks before each call when the
        server requires approval: make it require approval always, and answer with the policy first
        (then the tool's own approval function, when it has one)."""
        own = tool.on_approval_request
        label = str(tool.tool_config.get("server_label", "") or "")

        async def on_approval_request(request: MCPToolApprovalRequest) -> MCPToolApprovalFunctionResult:
            data = request.data
            name = f"{label}.{data.name}" if label else data.name
            step = self.step(name, parse_arguments(data.arguments), call_id=data.id)
            decision = await step.adecide()
            if decision.blocks:
                step.finish()
                return {"approve": False, "reason": step.denial_text()}
            answer: MCPToolApprovalFunctionResult = {"approve": True}
            if own is not None:
                given = own(request)
                answer = await given if inspect.isawaitable(given) else given
            step.finish(result="approved" if answer.get("approve") else answer.get("reason", "rejected"))
            return answer

        guarded = copy.copy(tool)
        guarded.tool_config = cast(Mcp, {**tool.tool_config, "require_approval": "always"})
        guarded.on_approval_request = on_approval_request
        return guarded

    def function_tool(self, tool: FunctionTool) -> FunctionTool:
        if getattr(tool.on_invoke_tool, "_agentguard", False):
            return tool
        invoke = tool.on_invoke_tool
        name = tool.name
        description = tool.description or None
        kind = "agent" if getattr(tool, "_is_agent_tool", False) else None

        async def on_invoke_tool(ctx: ToolContext[Any], arguments: str) -> Any:
            step = self.step(
                name, parse_arguments(arguments), call_id=ctx.tool_call_id, kind=kind, description=description
            )
            if ctx.is_tool_approved(name, ctx.tool_call_id) is True:
                decision = decide_answered(step, granted=True, by=APPROVED_BY)
            else:
                decision = await step.adecide()
            if decision.blocks:
                step.finish()
                return step.denial_text()
            return await step.acall(lambda: invoke(ctx, arguments))

        on_invoke_tool._agentguard = True  # type: ignore[attr-defined]
        guarded = copy.copy(tool)
        guarded.on_invoke_tool = on_invoke_tool
        guarded.needs_approval = self._needs_approval(name, tool.needs_approval, kind)
        return guarded

    def _needs_approval(
        self,
        name: str,
        own: bool | Callable[[RunContextWrapper[Any], dict[str, Any], str], Awaitable[bool]],
        kind: str | None,
    ) -> Callable[[RunContextWrapper[Any], dict[str, Any], str], Awaitable[bool]]:
        """The tool's own approval rule, or'ed with the policy's ``ask`` when no approver answers it."""

        async def needs_approval(ctx: RunContextWrapper[Any], params: dict[str, Any], call_id: str) -> bool:
            if own is True:
                return True
            if callable(own) and await own(ctx, params, call_id):
                return True
            if self.has_approver():
                return False  # our approver answers the ask when the tool runs
            kinds = self.kinds if kind is None or name in self.kinds else {**self.kinds, name: kind}
            action = action_for(name, params, kinds=kinds, call_id=call_id)
            decision = check(action, guard=self.guard)
            return decision.outcome == "ask" and decision.mode == "enforce"

        return needs_approval

    def _shell_executor(
        self, name: str, executor: Callable[[Any], Any], *, local: bool
    ) -> Callable[[Any], Any]:
        async def run(request: Any) -> Any:
            data = request.data
            if local:
                action = getattr(data, "action", None)
                raw = getattr(action, "command", None)
                command = " ".join(raw) if isinstance(raw, list) else str(raw or "")
                call_id = getattr(data, "call_id", None)
                arguments: dict[str, Any] = {
                    "command": command,
                    "cwd": getattr(action, "working_directory", None),
                }
            else:
                commands = list(getattr(data.action, "commands", []) or [])
                command = "\n".join(str(c) for c in commands)
                call_id = getattr(data, "call_id", None)
                arguments = {"command": command}
            step = self.step(name, arguments, call_id=call_id, kind="shell")
            decision = await step.adecide()
            if decision.blocks:
                step.finish()
                return step.denial_text()
            return await step.acall(lambda: executor(request))

        return run


class _GuardedEditor:
    """An apply-patch editor whose every file operation is a ``file_write`` step first."""

    def __init__(self, tools: ToolGuard, name: str, editor: ApplyPatchEditor) -> None:
        self._tools = tools
        self._name = name
        self._editor = editor

    async def _apply(self, op: ApplyPatchOperation, method: Callable[[ApplyPatchOperation], Any]) -> Any:
        arguments = {"path": op.path, "content": op.diff or "", "operation": op.type}
        if op.move_to:
            arguments["destination"] = op.move_to
        step = self._tools.step(self._name, arguments, call_id=None, kind="file_write")
        decision = await step.adecide()
        if decision.blocks:
            step.finish()
            return step.denial_text()
        return await step.acall(lambda: method(op))

    async def create_file(self, operation: ApplyPatchOperation) -> Any:
        return await self._apply(operation, self._editor.create_file)

    async def update_file(self, operation: ApplyPatchOperation) -> Any:
        return await self._apply(operation, self._editor.update_file)

    async def delete_file(self, operation: ApplyPatchOperation) -> Any:
        return await self._apply(operation, self._editor.delete_file)


def parse_arguments(arguments: str) -> dict[str, Any]:
    """A tool call's JSON arguments as a dict (anything else under ``input``)."""
    try:
        parsed = json.loads(arguments) if arguments else {}
    except ValueError:
        return {"input": arguments}
    return parsed if isinstance(parsed, dict) else {"input": parsed}
