"""An agentguard policy for Claude Code, checked before every tool call by the PreToolUse hook.

Copy it to your project (for example ``.claude/agentguard_policy.py``) and adjust the scope. The
scope's root ``"."`` is the project: ``$CLAUDE_PROJECT_DIR``, else the repository this file is in
(never the hook's ``cwd``). Try it without Claude:

    agentguard check --policy .claude/agentguard_policy.py \
        '{"tool": "Bash", "arguments": {"command": "git push -f"}}'
"""

from agentguard import Policy, Scope
from agentguard.policy import rules

policy = Policy(
    name="claude-code",
    scope=Scope(
        root=".",
        read=["**"],  # anything in the project (secrets are still denied below)
        write=["src/**", "tests/**", "docs/**", "*.md", "pyproject.toml"],
        hosts=["pypi.org", "files.pythonhosted.org", "github.com", "docs.python.org"],
    ),
    rules=[
        # rm -rf outside the project, force pushes, mkfs, DROP TABLE...; opaque shell asks
        rules.destructive_commands(opaque="ask"),
        # .env, keys, cloud credentials, env dumps, through any tool
        rules.secrets(),
        # the agent cannot loosen its own policy
        rules.protect([".claude/**", ".git/**", "agentguard_policy.py"]),
        # no codex/gemini/aider/another claude started from a shell
        rules.no_agent_spawn(),
    ],
    default="allow",
    mode="enforce",  # "shadow": report in the hook's reason, leave decisions to Claude Code
)
