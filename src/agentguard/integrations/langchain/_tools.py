"""``guard_tools(tools)``: guarded copies of any LangChain ``BaseTool`` (toolkits, MCP adapters, yours).

Each returned tool has the original's name, description and argument schema; a call is decided
before the original runs, and a denial is the tool's output (a ``ToolMessage`` with the reason,
``status="error"``, when the tool was called with a model's tool call), so an agent loop goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field

from ...guard import Guard, PolicyLike
from .._steps import ToolStep, action_for, resolve_guard, start_tool


class GuardedTool(BaseTool):
    """A ``BaseTool`` whose calls pass the policy before ``tool`` runs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: BaseTool
    guard: Guard
    kinds: dict[str, str] = Field(default_factory=dict)

    def _run(self, *args: Any, **kwargs: Any) -> Any:  # every call goes through invoke/ainvoke
        raise NotImplementedError

    def _step(self, tool_input: Any) -> tuple[ToolStep, str | None]:
        call_id: str | None = None
        arguments: Mapping[str, Any]
        if isinstance(tool_input, Mapping) and tool_input.get("type") == "tool_call":
            call_id = tool_input.get("id")
            arguments = tool_input.get("args") or {}
        elif isinstance(tool_input, Mapping):
            arguments = tool_input
        else:
            arguments = {"input": tool_input}
        action = action_for(self.name, arguments, kinds=self.kinds, call_id=call_id)
        return start_tool(action, guard=self.guard, description=self.description or None), call_id

    def _denied(self, step: ToolStep, call_id: str | None) -> Any:
        step.finish()
        if call_id is None:
            return step.denial_text()
        return ToolMessage(content=step.denial_text(), tool_call_id=call_id, name=self.name, status="error")

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        step, call_id = self._step(input)
        if step.decide().blocks:
            return self._denied(step, call_id)
        return step.call(lambda: self.tool.invoke(input, config, **kwargs), record=_recorded)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        step, call_id = self._step(input)
        if (await step.adecide()).blocks:
            return self._denied(step, call_id)
        return await step.acall(lambda: self.tool.ainvoke(input, config, **kwargs), record=_recorded)


def _recorded(result: Any) -> Any:
    """What the span and detectors see of a tool's result: a ToolMessage's content."""
    return result.content if isinstance(result, ToolMessage) else result


def guard_tools(
    tools: Iterable[BaseTool],
    *,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    kinds: Mapping[str, str] | None = None,
) -> list[BaseTool]:
    """Guarded copies of ``tools`` (the originals are unchanged); already guarded tools are kept."""
    resolved = resolve_guard(guard, policy, approver)
    out: list[BaseTool] = []
    for tool in tools:
        if isinstance(tool, GuardedTool):
            out.append(tool)
            continue
        out.append(
            GuardedTool(
                name=tool.name,
                description=tool.description,
                args_schema=tool.args_schema,
                return_direct=tool.return_direct,
                response_format=tool.response_format,
                tool=tool,
                guard=resolved,
                kinds=dict(kinds or {}),
            )
        )
    return out
