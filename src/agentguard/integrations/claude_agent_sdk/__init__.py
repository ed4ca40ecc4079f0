"""Claude Agent SDK integration (``pip install 'agentguard[claude-agent-sdk]'``).

::

    from claude_agent_sdk import ClaudeAgentOptions
    from agentguard.integrations.claude_agent_sdk import ClaudeAgentGuard

    agent_guard = ClaudeAgentGuard(policy=policy)
    options = ClaudeAgentOptions(can_use_tool=agent_guard.can_use_tool, hooks=agent_guard.hooks())

The SDK drives the Claude Code CLI, which runs the tools and talks to Anthropic's API; this
integration answers the CLI's permission requests and tool-use hooks with the policy's decisions.
Its tests drive the callbacks through the SDK's own types and control protocol (a scripted
``Transport`` standing in for the CLI), since the API is not reachable from the test machines.
"""

from __future__ import annotations

from .._require import require

require("claude_agent_sdk", extra="claude-agent-sdk")

from ._guard import ClaudeAgentGuard, ToolFailed  # noqa: E402
from ._scripted import Outcome, ScriptedCall, ScriptedCLI  # noqa: E402

__all__ = ["ClaudeAgentGuard", "Outcome", "ScriptedCLI", "ScriptedCall", "ToolFailed"]
