"""``no_agent_spawn()``: an agent may not start another coding agent (which no policy would govern).

Matched on the program that finally runs in any shell position (pipelines, ``bash -c``, ``sudo``,
``env``, ``xargs``), including through package runners (``npx @openai/codex``, ``pipx run aider-chat``,
``uvx llm``, ``pnpm dlx``, ``bunx``) and ``python -m aider``. Tool calls of kind ``agent`` are denied
too when ``agent_tools=True``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from ..._lazyre import lazy_compile
from .._base import NON_LLM_KINDS, BuiltinRule, facts_of

if TYPE_CHECKING:
    from ...action import Action, Decision
    from ...guard import RunState

AGENT_PROGRAMS: frozenset[str] = frozenset(
    {
        "codex", "claude", "claude-code", "gemini", "gemini-cli", "aider", "aider-chat", "cursor-agent",
        "opencode", "opencode-ai", "goose", "amp", "copilot", "github-copilot-cli", "llm", "cn", "qwen",
        "qwen-code", "crush", "kiro-cli", "cline", "plandex", "openhands", "auggie", "droid", "kimi",
        "sgpt", "shell-gpt", "interpreter", "open-interpreter", "gpt-engineer", "gpte", "devin", "q",
        "cursor", "roo", "roo-code", "kilo", "kilocode", "mentat", "gptme", "smol-dev", "sweep",
        "swe-agent", "sweagent", "mini-swe-agent", "mini", "devika", "aichat", "mods", "fabric", "tgpt",
        "chatgpt", "chatgpt-cli", "gh-copilot", "jules", "codebuff", "forge", "trae", "junie", "augment",
        "qodo", "cody", "tabnine", "letta", "ccr", "claude-code-router", "happy", "happy-coder",
        "ollama", "lms", "continue-cli", "cn-cli", "kiro", "warp-cli", "amazon-q", "codex-cli",
        "gemini-code", "openai-codex", "aider-install", "cline-cli", "agent", "coder", "rovo", "rovodev",
    }
)  # fmt: skip
"""Program (or package) names of coding agents and LLM command-line clients."""

_SCOPED_PACKAGES: frozenset[str] = frozenset(
    {
        "@anthropic-ai/claude-code", "@openai/codex", "@google/gemini-cli", "@sourcegraph/amp",
        "@qwen-code/qwen-code", "@charmland/crush", "@github/copilot", "@augmentcode/auggie",
        "@kilocode/cli", "@continuedev/cli", "@vibe-kit/grok-cli", "@builder.io/ai-shell",
        "@musistudio/claude-code-router", "@just-every/code", "@factory/cli", "@cursor/agent",
    }
)  # fmt: skip
"""Scoped npm packages of coding agents whose last part alone (``cli``, ``code``) names nothing."""
_CONTAINER_RUNNERS = frozenset({"docker", "podman", "nerdctl", "finch"})
_LAUNCHERS = frozenset(
    {"npx", "pnpx", "bunx", "uvx", "pipx", "pnpm", "npm", "yarn", "bun", "uv", "deno", "dlx"}
)
_INTERPRETERS = frozenset({"node", "nodejs", "deno", "bun", "tsx", "ts-node"})
_PYTHON = lazy_compile(r"^(?:python|pypy)[0-9.]*$")
_VERSION = lazy_compile(r"@[^/@]*$")


_PLAIN = lazy_compile(r"[a-z0-9._-]+\Z")


@lru_cache(maxsize=4096)
def package_name(word: str) -> str:
    """``@openai/codex@latest`` → ``codex``; ``aider-chat==0.50`` → ``aider-chat``;
    ``/usr/bin/claude`` → ``claude``."""
    if _PLAIN.match(word):
        return word
    name = word.strip()
    name = re.split(r"[=<>~!\[]", name, maxsplit=1)[0]
    if name.startswith("@"):
        name = name[1:]
        name = _VERSION.sub("", name)
    else:
        name = name.split("@", 1)[0]
    return name.rsplit("/", 1)[-1].lower()


class NoAgentSpawn(BuiltinRule):
    rule_id = "no_agent_spawn"
    kinds = NON_LLM_KINDS

    def __init__(
        self, *, programs: Iterable[str] = (), allow: Iterable[str] = (), agent_tools: bool = False
    ) -> None:
        self.programs = (AGENT_PROGRAMS | frozenset(programs)) - frozenset(allow)
        self.agent_tools = agent_tools
        # every name _agent() looks further at (besides Pythons); any other program is not an agent
        self._relevant = self.programs | _LAUNCHERS | _INTERPRETERS | _CONTAINER_RUNNERS | {"gh"}

    def _in_path(self, word: str) -> str | None:
        """An agent named by any part of a package path or image name: ``node
        /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js``, ``ghcr.io/openai/codex``."""
        parts = [p for p in word.strip().lower().split("/") if p]
        for i, part in enumerate(parts):
            if part.startswith("@") and i + 1 < len(parts) and f"{part}/{parts[i + 1]}" in _SCOPED_PACKAGES:
                return f"{part}/{parts[i + 1]}"
            name = package_name(part)
            if name in self.programs and name not in ("node_modules", "bin", "lib", "agent", "mini"):
                return name
        return None

    def _agent(self, program: str, args: tuple[str, ...], subcommand: str | None) -> str | None:
        name = package_name(program)
        if name not in self._relevant and not name.startswith(("python", "pypy")):
            return None
        if name == "continue":
            return None  # the shell builtin
        if name in self.programs:
            return name
        if name == "gh" and subcommand == "copilot":
            return "gh copilot"
        if name in _LAUNCHERS or (name in _CONTAINER_RUNNERS and subcommand in ("run", "create", "exec")):
            for a in args:
                if a.startswith("-"):
                    continue
                candidate = self._in_path(a.split(":", 1)[0] if name in _CONTAINER_RUNNERS else a)
                if candidate is not None:
                    return candidate
        if name in _INTERPRETERS or _PYTHON.match(name):
            script = next((a for a in args if not a.startswith("-")), None)
            if script is not None and "/" in script:
                found = self._in_path(script)
                if found is not None:
                    return found
            if script is not None and "-m" not in args and "-c" not in args and "-e" not in args:
                stem = package_name(script).rsplit(".", 1)
                base = stem[0] if len(stem) == 2 and stem[1] in ("js", "mjs", "cjs", "py", "ts") else script
                if package_name(base) in self.programs:
                    return package_name(base)
        if _PYTHON.match(name) and "-m" in args:
            i = args.index("-m")
            if i + 1 < len(args) and package_name(args[i + 1]) in self.programs:
                return package_name(args[i + 1])
        return None

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        if self.agent_tools and action.kind == "agent":
            return self.deny(f"tool {action.tool!r} starts another agent")
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        relevant = self._relevant
        for c in facts.commands:
            name = package_name(c.program)
            found = (
                self._agent(c.program, c.args, c.subcommand)
                if name in relevant or name.startswith(("python", "pypy"))
                else None  # what _agent says of any other name, without the call
            )
            if found is None and "/" in c.program:
                found = self._in_path(c.program)
            if found is None and c.wrappers:
                for w in c.wrappers:
                    if package_name(w) in self.programs:
                        found = package_name(w)
                        break
            if found is not None:
                return self.deny(f"starts another coding agent ({found})")
        return None
