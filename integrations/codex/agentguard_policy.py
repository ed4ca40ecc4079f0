"""An agentguard policy for the Codex CLI, checked before every tool call by its PreToolUse hook.

Copy it to your project (for example ``.codex/agentguard_policy.py``) and adjust the scope. The
scope's root ``"."`` is the repository this file is in (never the hook's ``cwd``). Try it without
Codex:

    agentguard check --policy .codex/agentguard_policy.py \
        '{"tool": "Bash", "profile": "codex", "arguments": {"command": "git push -f"}}'
"""

from agentguard import Policy, Scope
from agentguard.policy import rules

policy = Policy(
    name="codex",
    scope=Scope(
        root=".",
        read=["**"],  # anything in the project (secrets are still denied below)
        write=["src/**", "tests/**", "docs/**", "*.md", "pyproject.toml"],
        hosts=["pypi.org", "files.pythonhosted.org", "github.com"],
    ),
    rules=[
        # rm -rf outside the project, force pushes, mkfs, DROP TABLE...; opaque shell asks (a deny in Codex)
        rules.destructive_commands(opaque="ask"),
        # .env, keys, cloud credentials, env dumps, through any tool
        rules.secrets(),
        # the agent cannot loosen its own policy or its hooks
        rules.protect([".codex/**", ".git/**", "agentguard_policy.py"]),
        # no claude/gemini/aider/another codex started from a shell
        rules.no_agent_spawn(),
    ],
    default="allow",
)
