"""Framework integrations: one policy in every agent framework.

Each subpackage adapts one framework to the guard's tool steps, and needs its own extra:

- :mod:`agentguard.integrations.openai_agents` (``agentguard[openai-agents]``): ``guard(agent)``
- :mod:`agentguard.integrations.langchain` (``agentguard[langchain]``): ``AgentguardMiddleware``,
  ``guard_tools``
- :mod:`agentguard.integrations.mcp` (``agentguard[mcp]``): ``guard_session``, ``guard_server_tool``
- :mod:`agentguard.integrations.claude_agent_sdk` (``agentguard[claude-agent-sdk]``): ``can_use_tool``,
  ``pre_tool_use_hook``

They decide, trace and count through the guard exactly as :func:`agentguard.tool` does; a denial is
given to the model as the tool's result, with the reason, and the framework's loop goes on.
"""
