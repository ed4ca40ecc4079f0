"""``guard(agent)``: a copy of an Agents SDK agent whose every tool call passes the policy first."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar

from agents import Agent, Handoff, RunContextWrapper, Tool, handoff

from ...guard import Guard, PolicyLike
from .._steps import action_for, resolve_guard, start_tool
from ._tools import ToolGuard, parse_arguments
from ._tracing import processor

A = TypeVar("A", bound=Agent[Any])


def guard(
    agent: A,
    *,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    kinds: Mapping[str, str] | None = None,
) -> A:
    """A guarded copy of ``agent``, its handoff agents and its agents-as-tools (the original is unchanged).

    Every function tool (``FunctionTool`` objects and MCP server tools included), shell, local-shell
    and apply-patch tool, and every handoff (an action of kind ``agent``) is decided before it runs; a
    denial is the tool's output, with the reason, and the run goes on. ``ask`` goes to ``approver``
    (or the guard's, or the enclosing run's); with none, it becomes the SDK's ``needs_approval``
    interruption, answered through ``RunState.approve``/``reject`` and resumed with ``Runner.run``.
    ``kinds`` maps tool names to action kinds (``{"run": "shell"}``) where the name and arguments do
    not say it.

    Running the guarded agent opens a run named after it (inside an ``@ag.guarded`` run it joins that
    run); LLM calls are traced by :func:`agentguard.instrument_openai`, which the caller turns on.
    """
    resolved = resolve_guard(guard, policy, approver)
    tools = ToolGuard(guard=resolved, kinds=kinds)
    return _Guarding(tools).agent(agent)


class _Guarding:
    """One ``guard()`` call: the copies made so far, so agents that hand off to each other stay one graph."""

    def __init__(self, tools: ToolGuard) -> None:
        self.tools = tools
        self.copies: dict[int, Agent[Any]] = {}

    def agent(self, agent: A) -> A:
        done = self.copies.get(id(agent))
        if done is not None:
            return done  # type: ignore[return-value]
        guarded = copy.copy(agent)
        self.copies[id(agent)] = guarded
        processor().register(agent.name, self.tools.guard)
        guarded.tools = [self.tool(t) for t in agent.tools]
        guarded.handoffs = [self.handoff(h, source=guarded) for h in agent.handoffs]
        original_mcp = agent.get_mcp_tools
        tools = self.tools

        async def get_mcp_tools(run_context: RunContextWrapper[Any]) -> list[Tool]:
            return [tools.wrap(t) for t in await original_mcp(run_context)]

        object.__setattr__(guarded, "get_mcp_tools", get_mcp_tools)
        return guarded

    def tool(self, tool: Tool) -> Tool:
        inner = getattr(tool, "_agent_instance", None)
        if isinstance(inner, Agent):
            self.agent(inner)  # registers the inner agent's name so its own run is named after it
        return self.tools.wrap(tool)

    def handoff(self, target: Agent[Any] | Handoff[Any, Any], *, source: Agent[Any]) -> Handoff[Any, Any]:
        spec = handoff(self.agent(target)) if isinstance(target, Agent) else copy.copy(target)
        invoke = spec.on_invoke_handoff
        tool_name = spec.tool_name
        to_agent = spec.agent_name
        guarding = self

        async def on_invoke_handoff(ctx: RunContextWrapper[Any], arguments: str) -> Agent[Any]:
            action = action_for(
                tool_name, {**parse_arguments(arguments), "agent": to_agent}, kinds={tool_name: "agent"}
            )
            step = start_tool(action, guard=guarding.tools.guard)
            decision = await step.adecide()
            if decision.blocks:
                step.finish()
                return source  # the handoff does not happen: the current agent carries on
            try:
                with step.use():
                    result = await invoke(ctx, arguments)
            except BaseException as exc:
                step.finish(error=exc)
                raise
            step.finish(result=getattr(result, "name", None))
            return guarding.agent(result)

        spec.on_invoke_handoff = on_invoke_handoff
        return spec
