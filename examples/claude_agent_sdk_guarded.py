"""A policy as the Claude Agent SDK's `can_use_tool` callback and tool-use hooks.

Run it with `.venv/bin/python examples/claude_agent_sdk_guarded.py` (needs
`agentguard[claude-agent-sdk]`). The SDK normally drives the Claude Code CLI, which talks to
Anthropic's API; here `ScriptedCLI` plays the CLI's side of the SDK's control protocol instead (no
CLI, no model, no network), making the tool calls a coding agent would: the hooks decide each one
and the script prints what the model would have been told.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any

from claude_agent_sdk import ClaudeAgentOptions, ResultMessage, query

import agentguard as ag
from agentguard.integrations.claude_agent_sdk import ClaudeAgentGuard, ScriptedCall, ScriptedCLI

CALLS = [
    ScriptedCall(tool="Read", input={"file_path": "/work/repo/src/parser.py"}, response="def parse(): ..."),
    ScriptedCall(
        tool="Edit",
        input={
            "file_path": "/work/repo/tests/test_parser.py",
            "old_string": "assert",
            "new_string": "# assert",
        },
    ),
    ScriptedCall(tool="Bash", input={"command": "git push --force origin main"}),
    ScriptedCall(tool="Bash", input={"command": "pytest -q"}, response={"stdout": "3 passed"}),
]


def main() -> int:
    telemetry = ag.configure(service_name="agentguard-claude-agent-sdk")
    policy = ag.Policy(
        scope=ag.Scope(root="/work/repo", write=["src/**"], read=["**"]),
        rules=[ag.rules.destructive_commands(), ag.rules.protect(["tests/**", ".git/**"])],
    )
    agent_guard = ClaudeAgentGuard(policy=policy)
    options = ClaudeAgentOptions(can_use_tool=agent_guard.can_use_tool, hooks=agent_guard.hooks())
    cli = ScriptedCLI(CALLS, cwd="/work/repo")

    async def prompt() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "fix the failing parser test"}}

    @ag.guarded(name="claude-code", task="fix the failing parser test")
    async def agent() -> str:
        async for message in query(prompt=prompt(), options=options, transport=cli):
            if isinstance(message, ResultMessage):
                return str(message.result)
        return ""

    summary = asyncio.run(agent())
    for outcome in cli.outcomes:
        said = "ran" if outcome.ran else f"denied -> the model reads: {outcome.message[:80]}"
        print(f"{outcome.call.tool:5} {str(outcome.call.input)[:60]:60} {said}")
    print("result:", summary)
    telemetry.shutdown()
    from agentguard.cli import main as cli_main

    return cli_main(["runs", "--store", str(telemetry.store_path), "--limit", "1"])


if __name__ == "__main__":
    sys.exit(main())
