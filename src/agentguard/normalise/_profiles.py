"""Tool profiles: other agents' tool calls as :class:`~agentguard.action.Action` values.

::

    >>> args = {"file_path": "/repo/src/x.py", "old_string": "a", "new_string": "b"}
    >>> a = action_from_tool_call("Edit", args)
    >>> a.kind, a.path
    ('file_write', '/repo/src/x.py')
    >>> action_from_tool_call("shell", {"command": ["bash", "-lc", "ls"], "workdir": "/repo"}).command
    'bash -lc ls'

Profiles: ``claude_code`` (``Bash``, ``Write``, ``Edit``, ``MultiEdit``, ``NotebookEdit``, ``Read``,
``Glob``, ``Grep``, ``LS``, ``WebFetch``, ``WebSearch``, ``Task``), ``codex`` (``shell`` with a list or
string command, ``apply_patch`` whose every added, updated, deleted or moved file is a target,
``exec_command``), ``mcp_filesystem`` (the reference filesystem server's tools, also behind a
``mcp__server__`` prefix) and ``agentguard`` (our own kinds and their aliases). Without ``profile``
the tool name picks one. Tools that name several files (``read_multiple_files``, ``move_file``,
``apply_patch``, ``Glob``) are expanded by :func:`targets` when the action is normalised.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ..action import ACTION_KINDS, Action, ActionKind, normalise_kind
from ._facts import Access

PROFILES = ("claude_code", "codex", "mcp_filesystem", "agentguard")

# tool -> (kind, {canonical: argument name})
_CLAUDE: dict[str, tuple[ActionKind, dict[str, str]]] = {
    "Bash": ("shell", {"command": "command"}),
    "BashOutput": ("other", {}),
    "KillShell": ("other", {}),
    "Write": ("file_write", {"path": "file_path", "content": "content"}),
    "Edit": ("file_write", {"path": "file_path", "content": "new_string"}),
    "MultiEdit": ("file_write", {"path": "file_path"}),
    "NotebookEdit": ("file_write", {"path": "notebook_path", "content": "new_source"}),
    "Read": ("file_read", {"path": "file_path"}),
    "NotebookRead": ("file_read", {"path": "notebook_path"}),
    "Glob": ("file_read", {"path": "path"}),
    "Grep": ("file_read", {"path": "path"}),
    "LS": ("file_read", {"path": "path"}),
    "WebFetch": ("network", {"url": "url"}),
    "WebSearch": ("network", {}),
    "Task": ("agent", {}),
    "Agent": ("agent", {}),
    "TodoWrite": ("other", {}),
    "ExitPlanMode": ("other", {}),
}
_CODEX: dict[str, tuple[ActionKind, dict[str, str]]] = {
    "shell": ("shell", {"command": "command", "cwd": "workdir"}),
    "local_shell": ("shell", {"command": "command", "cwd": "workdir"}),
    "container.exec": ("shell", {"command": "command", "cwd": "workdir"}),
    "exec_command": ("shell", {"command": "cmd", "cwd": "workdir"}),
    "apply_patch": ("file_write", {"content": "input"}),
    "update_plan": ("other", {}),
    "view_image": ("file_read", {"path": "path"}),
}
_MCP_FS: dict[str, tuple[ActionKind, dict[str, str]]] = {
    "read_file": ("file_read", {"path": "path"}),
    "read_text_file": ("file_read", {"path": "path"}),
    "read_media_file": ("file_read", {"path": "path"}),
    "read_multiple_files": ("file_read", {}),
    "write_file": ("file_write", {"path": "path", "content": "content"}),
    "edit_file": ("file_write", {"path": "path"}),
    "create_directory": ("file_write", {"path": "path"}),
    "list_directory": ("file_read", {"path": "path"}),
    "list_directory_with_sizes": ("file_read", {"path": "path"}),
    "directory_tree": ("file_read", {"path": "path"}),
    "move_file": ("file_write", {"path": "destination"}),
    "search_files": ("file_read", {"path": "path"}),
    "get_file_info": ("file_read", {"path": "path"}),
    "list_allowed_directories": ("other", {}),
}
_TABLES = {"claude_code": _CLAUDE, "codex": _CODEX, "mcp_filesystem": _MCP_FS}
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "path": ("path", "file_path", "filepath", "file", "filename", "target", "dest", "destination"),
    "content": ("content", "contents", "text", "data", "new_content", "body"),
    "command": ("command", "cmd", "script", "commandline", "command_line"),
    "cwd": ("cwd", "workdir", "working_dir", "working_directory", "directory"),
    "url": ("url", "uri", "href", "endpoint", "link"),
}
_MCP_PREFIX = re.compile(r"^(?:mcp__[^_]+(?:_[^_]+)*?__|[\w-]+__|[\w-]+[./:])")


@lru_cache(maxsize=1024)
def _strip(tool: str) -> str:
    """The tool name without an MCP server prefix (remembered: a pure function of a few names)."""
    return _MCP_PREFIX.sub("", tool, count=1) if tool not in _CODEX else tool


def _lookup(tool: str, profile: str | None) -> tuple[str, ActionKind, dict[str, str]] | None:
    if profile is not None:
        table = _TABLES.get(profile)
        if table is None:
            return None
        for name in (tool, _strip(tool)):
            if name in table:
                return profile, *table[name]
        return None
    if tool in _CLAUDE:
        return "claude_code", *_CLAUDE[tool]
    if tool in _CODEX:
        return "codex", *_CODEX[tool]
    stripped = _strip(tool)
    if tool in _MCP_FS or stripped in _MCP_FS:
        return "mcp_filesystem", *_MCP_FS[tool if tool in _MCP_FS else stripped]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return shlex.join(value)
    return str(value)


def action_from_tool_call(
    tool_name: str, arguments: Mapping[str, Any], *, cwd: str | None = None, profile: str | None = None
) -> Action:
    """Map a tool call of a known agent (or of agentguard's own kinds) to an :class:`Action`.

    An unknown tool becomes kind ``other`` with whatever canonical arguments its names suggest, so
    its command, path or URL still gets facts.
    """
    args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
    found = _lookup(tool_name, profile)
    if found is None and profile in (None, "agentguard"):
        try:
            kind: ActionKind = normalise_kind(_strip(tool_name))
        except ValueError:
            kind = "other"
        mapping = {canon: next((n for n in names if n in args), "") for canon, names in _CANDIDATES.items()}
        mapping = {k: v for k, v in mapping.items() if v}
    elif found is None:
        kind, mapping = "other", {}
    else:
        _, kind, mapping = found
    action = Action(kind=kind, tool=tool_name, arguments=args)
    for canonical, name in mapping.items():
        value = _text(args.get(name))
        if value is not None:
            setattr(action, canonical, value)
    if cwd is not None and action.cwd is None:
        action.cwd = cwd
    command = args.get("command")
    if kind == "shell" and isinstance(command, (list, tuple)) and command and command[0] == "apply_patch":
        action.kind = "file_write"
        action.content = str(command[1]) if len(command) > 1 else ""
        action.command = None
    if action.kind not in ACTION_KINDS:
        action.kind = "other"
    return action


def patch_targets(patch: str) -> list[tuple[str, Access]]:
    """Every file a Codex ``apply_patch`` envelope (or a unified diff) adds, updates, deletes or moves."""
    out: list[tuple[str, Access]] = []
    last_update: str | None = None
    for line in patch.splitlines()[:100_000]:
        if line.startswith("*** Add File: "):
            out.append((line[14:].strip(), "write"))
        elif line.startswith("*** Update File: "):
            last_update = line[17:].strip()
            out.append((last_update, "write"))
        elif line.startswith("*** Delete File: "):
            out.append((line[17:].strip(), "delete"))
        elif line.startswith("*** Move to: "):
            out.append((line[13:].strip(), "write"))
            if last_update:
                out.append((last_update, "delete"))
        elif line.startswith(("+++ ", "--- ")):
            name = line[4:].split("\t", 1)[0].strip()
            if name != "/dev/null":
                name = name[2:] if name.startswith(("a/", "b/")) else name
                out.append((name, "write"))
        if len(out) >= 1024:
            break
    return [t for t in dict.fromkeys(out) if t[0]]


def targets(action: Action) -> list[tuple[str, Access, bool]]:
    """Paths a multi-file tool call names, as ``(raw, access, glob)``; empty for ordinary tools."""
    args = action.arguments if isinstance(action.arguments, Mapping) else {}
    tool = _strip(action.tool) if action.tool not in _CODEX else action.tool
    out: list[tuple[str, Access, bool]] = []
    if tool == "read_multiple_files":
        paths = args.get("paths")
        if isinstance(paths, (list, tuple)):
            out.extend((str(p), "read", False) for p in paths[:1024])
    elif tool == "move_file":
        if args.get("source") is not None:
            out.append((str(args["source"]), "delete", False))
        if args.get("destination") is not None:
            out.append((str(args["destination"]), "write", False))
    elif tool == "apply_patch" or (action.kind == "file_write" and action.tool == "shell"):
        out.extend(
            (p, acc, False) for p, acc in patch_targets(action.content or _text(args.get("input")) or "")
        )
    elif tool == "Glob":
        base = str(args.get("path") or "")
        pattern = str(args.get("pattern") or "")
        if pattern:
            joined = (
                pattern if pattern.startswith(("/", "~")) or not base else base.rstrip("/") + "/" + pattern
            )
            out.append((joined, "read", True))
    elif tool == "search_files" and args.get("path") is not None:
        out.append((str(args["path"]).rstrip("/") + "/**", "read", True))
    return out
