"""The normalised model of one thing an agent is about to do.

An :class:`Action` is built once per tool call or LLM call, before it runs, and is what the policy
decides on, what detectors read and what the run keeps in its bounded history. The tool wrapper fills
the canonical arguments (``path``, ``content``, ``command``, ``cwd``, ``url``) through the tool's
argument mapping; :mod:`agentguard.normalise` derives the facts from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ActionKind = Literal["file_read", "file_write", "shell", "network", "llm", "agent", "other"]
ACTION_KINDS: frozenset[str] = frozenset(get_args(ActionKind))

# Spellings users and other agents' tool sets use for the same kinds.
_KIND_ALIASES: dict[str, ActionKind] = {
    "read": "file_read",
    "read_file": "file_read",
    "file_read": "file_read",
    "write": "file_write",
    "write_file": "file_write",
    "edit": "file_write",
    "edit_file": "file_write",
    "file_write": "file_write",
    "shell": "shell",
    "bash": "shell",
    "exec": "shell",
    "command": "shell",
    "network": "network",
    "http": "network",
    "fetch": "network",
    "web": "network",
    "llm": "llm",
    "agent": "agent",
    "other": "other",
}


def normalise_kind(kind: str) -> ActionKind:
    """Map a kind or one of its aliases (``write_file``, ``bash``, ``fetch``...) to an action kind."""
    try:
        return _KIND_ALIASES[kind.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(ACTION_KINDS))
        raise ValueError(f"unknown tool kind {kind!r}; expected one of: {known}") from None


# Canonical argument -> the parameter names it is found under when a tool gives no mapping, in order.
# The tool wrapper fills actions with these, and `agentguard scan` rebuilds recorded actions with them.
CANONICAL_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "path": ("path", "file_path", "filepath", "file", "filename", "target", "dest", "destination"),
    "content": ("content", "contents", "text", "data", "new_content", "body"),
    "command": ("command", "cmd", "script", "commandline", "command_line"),
    "cwd": ("cwd", "workdir", "working_dir", "working_directory", "directory"),
    "url": ("url", "uri", "href", "endpoint", "link"),
}
# The canonical arguments each kind looks for.
CANONICAL_BY_KIND: dict[str, tuple[str, ...]] = {
    "file_read": ("path",),
    "file_write": ("path", "content"),
    "shell": ("command", "cwd"),
    "network": ("url",),
}


@dataclass(slots=True, kw_only=True, eq=False)
class Action:
    """One action, as the guard sees it before it runs."""

    kind: ActionKind
    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    """The call's arguments by parameter name, exactly as the agent passed them."""
    call_id: str | None = None
    """The model's tool-call id, when the call answers a tool call from a model response in the run."""
    path: str | None = None
    content: str | None = None
    command: str | None = None
    cwd: str | None = None
    url: str | None = None
    model: str | None = None
    """For ``llm`` actions: the requested model."""
    facts: Any = None
    """Derived facts (resolved paths, parsed commands, hosts), filled by the normaliser on demand."""
