"""LangChain / LangGraph integration (``pip install 'agentguard[langchain]'``).

::

    from langchain.agents import create_agent
    from langgraph.checkpoint.memory import InMemorySaver
    from agentguard.integrations.langchain import AgentguardMiddleware, guard_tools

    agent = create_agent(model, tools, middleware=[AgentguardMiddleware(policy=policy)],
                         checkpointer=InMemorySaver())
    tools = guard_tools(toolkit.get_tools(), policy=policy)     # any BaseTool list

A denial is a ``ToolMessage`` with the reason and the graph goes on; an ``ask`` is answered by the
approver, or, without one and with a checkpointer, by a LangGraph ``interrupt`` (resume with
``Command(resume=True)`` or ``Command(resume=False)``).
"""

from __future__ import annotations

from .._require import require

require("langchain.agents", extra="langchain")
require("langgraph", extra="langchain")

from ._middleware import APPROVED_BY, INTERRUPT_KIND, AgentguardMiddleware  # noqa: E402
from ._tools import GuardedTool, guard_tools  # noqa: E402

__all__ = ["APPROVED_BY", "INTERRUPT_KIND", "AgentguardMiddleware", "GuardedTool", "guard_tools"]
