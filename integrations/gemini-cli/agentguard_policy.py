"""An agentguard policy for Gemini CLI, checked before every tool call by its BeforeTool hook.

Copy it to your project (for example ``.gemini/agentguard_policy.py``) and adjust the scope. The
scope's root ``"."`` is the project: ``$GEMINI_PROJECT_DIR``, else the repository this file is in
(never the hook's ``cwd``). Try it without Gemini CLI:

    agentguard check --policy .gemini/agentguard_policy.py \
        '{"tool": "run_shell_command", "profile": "gemini_cli", "arguments": {"command": "git push -f"}}'
"""

from agentguard import Policy, Scope
from agentguard.policy import rules

policy = Policy(
    name="gemini-cli",
    scope=Scope(
        root=".",
        read=["**"],  # anything in the project (secrets are still denied below)
        write=["src/**", "tests/**", "docs/**", "*.md", "pyproject.toml"],
        hosts=["pypi.org", "files.pythonhosted.org", "github.com"],
    ),
    rules=[
        # rm -rf outside the project, force pushes, mkfs, DROP TABLE...; opaque shell asks (a deny here)
        rules.destructive_commands(opaque="ask"),
        # .env, keys, cloud credentials, env dumps, through any tool
        rules.secrets(),
        # the agent cannot loosen its own policy or its hooks
        rules.protect([".gemini/**", ".git/**", "agentguard_policy.py"]),
        # no claude/codex/aider/another gemini started from a shell
        rules.no_agent_spawn(),
    ],
    default="allow",
)
