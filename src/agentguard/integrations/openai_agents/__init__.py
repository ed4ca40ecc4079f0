"""OpenAI Agents SDK integration (``pip install 'agentguard[openai-agents]'``).

::

    import agentguard as ag
    from agents import Agent, Runner
    from agentguard.integrations.openai_agents import guard

    ag.instrument_openai()                       # the LLM spans, tokens and cost
    agent = guard(Agent(name="fixer", tools=[...]), policy=policy)
    result = await Runner.run(agent, "fix the failing test")

Every tool call of the guarded agent (function tools, ``FunctionTool`` objects, MCP server tools,
shell / local-shell / apply-patch tools, agents-as-tools) and every handoff is decided by the policy
before it runs; a denial reaches the model as the tool's output with the reason. Running the agent
opens an ``invoke_agent {agent}`` run by itself, and a handoff's target gets its own agent span.
"""

from __future__ import annotations

from .._require import require

require("agents", extra="openai-agents")

from ._guard import guard  # noqa: E402
from ._tracing import AgentRunProcessor, processor  # noqa: E402

__all__ = ["AgentRunProcessor", "guard", "processor"]
