"""Tool profiles: other agents' tool calls as :class:`~agentguard.action.Action` values.

::

    >>> args = {"file_path": "/repo/src/x.py", "old_string": "a", "new_string": "b"}
    >>> a = action_from_tool_call("Edit", args)
    >>> a.kind, a.path
    ('file_write', '/repo/src/x.py')
    >>> action_from_tool_call("shell", {"command": ["bash", "-lc", "ls"], "workdir": "/repo"}).command
    'bash -lc ls'
    >>> a = action_from_tool_call("mcp__box__run_in_sandbox", {"cmd": "rm -rf ~"})
    >>> a.kind, a.command
    ('shell', 'rm -rf ~')

Profiles: ``claude_code`` (``Bash``, ``Write``, ``Edit``, ``MultiEdit``, ``NotebookEdit``, ``Read``,
``Glob``, ``Grep``, ``LS``, ``WebFetch``, ``WebSearch``, ``Task``...), ``codex`` (``shell`` with a list
or string command, ``apply_patch`` whose every added, updated, deleted or moved file is a target,
``exec_command``), ``gemini_cli`` (``run_shell_command``, ``write_file``, ``replace``, ``read_file``,
``read_many_files``, ``glob``, ``search_file_content``, ``web_fetch``...), ``mcp_filesystem`` (the
reference filesystem server's tools, also behind a ``mcp__server__`` prefix) and ``agentguard`` (our
own kinds and their aliases). Without ``profile`` the tool name picks one. Any other name is a
:class:`ValueError`.

A tool no profile knows (an MCP server's tool, a ``Shell`` or ``browser_navigate`` of another agent) is
mapped by the shapes of its arguments: keys and values that look like a command, a path, a URL or
content become the same canonical arguments and targets a known tool gets, and the verbs of its name
(``write``, ``delete``, ``fetch``, ``run``...) give the kind and the access. What the shapes cannot
tell (a tool with no recognisable argument, a path given to a verb we do not know, code to run) is
listed by :func:`opaque_reasons`, which the normaliser turns into opaque facts: never allowed silently.
A known tool whose arguments are missing or of the wrong type (``Bash`` without ``command``) is listed
by :func:`problems`; hooks deny such calls.

Tools that name several files (``read_multiple_files``, ``move_file``, ``apply_patch``, ``Glob``,
``Grep``, and unknown tools with several path arguments) are expanded by :func:`targets` when the
action is normalised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

from .._lazyre import lazy_compile
from ..action import ACTION_KINDS, Action, ActionKind, normalise_kind
from ._facts import Access

PROFILES = ("claude_code", "codex", "gemini_cli", "mcp_filesystem", "agentguard")

MAX_TOOL_NAME = 256
"""Longer tool names are malformed (no agent names a tool with more characters)."""
_MAX_DEPTH = 16
_MAX_LEAVES = 512
_MAX_TARGETS = 1024

Types = tuple[type, ...]
_STR: Types = (str,)
_NUM: Types = (int, float)
_BOOL: Types = (bool,)
_LIST: Types = (list, tuple)
_ARGV: Types = (str, list, tuple)
_OBJ: Types = (dict,)


_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Tool(NamedTuple):
    """A known tool: its kind, where its canonical arguments are, what it requires, its known fields."""

    kind: ActionKind
    canonical: Mapping[str, tuple[str, ...]] = _EMPTY
    required: tuple[tuple[str, ...], ...] = ()
    """Each entry: argument names of which at least one must be present."""
    fields: Mapping[str, Types] = _EMPTY
    """Every argument the tool is documented to take, with the JSON types it accepts."""


def _t(
    kind: ActionKind,
    canonical: Mapping[str, str | tuple[str, ...]] | None = None,
    required: tuple[str | tuple[str, ...], ...] = (),
    **fields: Types,
) -> _Tool:
    canon = {k: (v,) if isinstance(v, str) else v for k, v in (canonical or {}).items()}
    req = tuple((r,) if isinstance(r, str) else r for r in required)
    return _Tool(kind, canon, req, {k.replace("__", "-"): v for k, v in fields.items()})


_CLAUDE: dict[str, _Tool] = {
    "Bash": _t(
        "shell",
        {"command": "command"},
        ("command",),
        command=_STR,
        description=_STR,
        timeout=_NUM,
        run_in_background=_BOOL,
        dangerouslyDisableSandbox=_BOOL,
    ),
    "BashOutput": _t("other", None, (), bash_id=_STR, filter=_STR),
    "KillShell": _t("other", None, (), shell_id=_STR),
    "KillBash": _t("other", None, (), shell_id=_STR),
    "Write": _t(
        "file_write",
        {"path": "file_path", "content": "content"},
        ("file_path", "content"),
        file_path=_STR,
        content=_STR,
    ),
    "Edit": _t(
        "file_write",
        {"path": "file_path", "content": "new_string"},
        ("file_path", "new_string"),
        file_path=_STR,
        old_string=_STR,
        new_string=_STR,
        replace_all=_BOOL,
    ),
    "MultiEdit": _t("file_write", {"path": "file_path"}, ("file_path", "edits"), file_path=_STR, edits=_LIST),
    "NotebookEdit": _t(
        "file_write",
        {"path": "notebook_path", "content": "new_source"},
        ("notebook_path",),
        notebook_path=_STR,
        new_source=_STR,
        cell_id=_STR,
        cell_type=_STR,
        edit_mode=_STR,
    ),
    "Read": _t(
        "file_read",
        {"path": "file_path"},
        ("file_path",),
        file_path=_STR,
        offset=_NUM,
        limit=_NUM,
        pages=_STR,
    ),
    "NotebookRead": _t(
        "file_read", {"path": "notebook_path"}, ("notebook_path",), notebook_path=_STR, cell_id=_STR
    ),
    "Glob": _t("file_read", {"path": "path"}, ("pattern",), pattern=_STR, path=_STR),
    "Grep": _t(
        "file_read",
        {"path": "path"},
        ("pattern",),
        pattern=_STR,
        path=_STR,
        glob=_STR,
        type=_STR,
        output_mode=_STR,
        head_limit=_NUM,
        offset=_NUM,
        multiline=_BOOL,
        __i=_BOOL,
        __n=_BOOL,
        __A=_NUM,
        __B=_NUM,
        __C=_NUM,
    ),
    "LS": _t("file_read", {"path": "path"}, ("path",), path=_STR, ignore=_LIST),
    "WebFetch": _t("network", {"url": "url"}, ("url",), url=_STR, prompt=_STR),
    "WebSearch": _t("network", None, ("query",), query=_STR, allowed_domains=_LIST, blocked_domains=_LIST),
    "Task": _t("agent", None, (), description=_STR, prompt=_STR, subagent_type=_STR),
    "Agent": _t("agent", None, (), description=_STR, prompt=_STR, subagent_type=_STR),
    "TodoWrite": _t("other", None, (), todos=_LIST),
    "ExitPlanMode": _t("other", None, (), plan=_STR),
    "SlashCommand": _t("other", None, (), command=_STR),
    "Skill": _t("other", None, (), skill=_STR, command=_STR, args=_STR),
}
_SHELL_FIELDS: dict[str, Types] = {
    "command": _ARGV,
    "workdir": _STR,
    "timeout": _NUM,
    "timeout_ms": _NUM,
    "with_escalated_permissions": _BOOL,
    "sandbox_permissions": _STR,
    "justification": _STR,
}
_CODEX: dict[str, _Tool] = {
    # the Codex CLI's hooks name its shell tool `Bash`, with the command as one string
    "Bash": _t(
        "shell",
        {"command": "command", "cwd": "workdir"},
        ("command",),
        command=_ARGV,
        workdir=_STR,
        timeout_ms=_NUM,
        description=_STR,
    ),
    "shell": _Tool("shell", {"command": ("command",), "cwd": ("workdir",)}, (("command",),), _SHELL_FIELDS),
    "local_shell": _Tool(
        "shell", {"command": ("command",), "cwd": ("workdir",)}, (("command",),), _SHELL_FIELDS
    ),
    "container.exec": _Tool(
        "shell", {"command": ("command",), "cwd": ("workdir",)}, (("command",),), _SHELL_FIELDS
    ),
    "shell_command": _Tool(
        "shell", {"command": ("command",), "cwd": ("workdir",)}, (("command",),), _SHELL_FIELDS
    ),
    "exec_command": _t(
        "shell",
        {"command": "cmd", "cwd": "workdir"},
        ("cmd",),
        cmd=_ARGV,
        workdir=_STR,
        shell=_STR,
        login=_BOOL,
        tty=_BOOL,
        yield_time_ms=_NUM,
        max_output_tokens=_NUM,
        with_escalated_permissions=_BOOL,
        sandbox_permissions=_STR,
        justification=_STR,
    ),
    "apply_patch": _t(
        "file_write",
        {"content": ("input", "patch", "command")},
        (("input", "patch", "command"),),
        input=_STR,
        patch=_STR,
        command=_STR,
    ),
    "update_plan": _t("other", None, (), plan=_LIST, explanation=_STR),
    "view_image": _t("file_read", {"path": "path"}, ("path",), path=_STR),
}
_GEMINI: dict[str, _Tool] = {
    "run_shell_command": _t(
        "shell",
        {"command": "command", "cwd": ("dir_path", "directory")},
        ("command",),
        command=_STR,
        description=_STR,
        dir_path=_STR,
        directory=_STR,
        is_background=_BOOL,
    ),
    "write_file": _t(
        "file_write",
        {"path": "file_path", "content": "content"},
        ("file_path", "content"),
        file_path=_STR,
        content=_STR,
        modified_by_user=_BOOL,
    ),
    "replace": _t(
        "file_write",
        {"path": "file_path", "content": "new_string"},
        ("file_path", "new_string"),
        file_path=_STR,
        old_string=_STR,
        new_string=_STR,
        expected_replacements=_NUM,
        instruction=_STR,
        modified_by_user=_BOOL,
    ),
    "read_file": _t(
        "file_read",
        {"path": ("file_path", "absolute_path", "path")},
        (("file_path", "absolute_path", "path"),),
        file_path=_STR,
        absolute_path=_STR,
        path=_STR,
        offset=_NUM,
        limit=_NUM,
    ),
    "read_many_files": _t(
        "file_read",
        None,
        (("paths", "include"),),
        paths=_LIST,
        include=_LIST,
        exclude=_LIST,
        recursive=_BOOL,
        useDefaultExcludes=_BOOL,
        respect_git_ignore=_BOOL,
        file_filtering_options=_OBJ,
    ),
    "list_directory": _t(
        "file_read",
        {"path": ("dir_path", "path")},
        (("dir_path", "path"),),
        dir_path=_STR,
        path=_STR,
        ignore=_LIST,
        respect_git_ignore=_BOOL,
        file_filtering_options=_OBJ,
    ),
    "glob": _t(
        "file_read",
        {"path": ("dir_path", "path")},
        ("pattern",),
        pattern=_STR,
        dir_path=_STR,
        path=_STR,
        case_sensitive=_BOOL,
        respect_git_ignore=_BOOL,
        respect_gemini_ignore=_BOOL,
    ),
    "search_file_content": _t(
        "file_read",
        {"path": ("dir_path", "path")},
        ("pattern",),
        pattern=_STR,
        dir_path=_STR,
        path=_STR,
        include=_STR,
    ),
    "web_fetch": _t("network", {"url": "url"}, (("prompt", "url"),), prompt=_STR, url=_STR),
    "google_web_search": _t("network", None, ("query",), query=_STR),
    "save_memory": _t("other", None, ("fact",), fact=_STR),
    "write_todos": _t("other", None, (), todos=_LIST),
}
_GEMINI["grep_search"] = _GEMINI["search_file_content"]
_GEMINI["search_files"] = _GEMINI["search_file_content"]
_MCP_FS: dict[str, _Tool] = {
    "read_file": _t("file_read", {"path": "path"}, ("path",), path=_STR, head=_NUM, tail=_NUM),
    "read_text_file": _t("file_read", {"path": "path"}, ("path",), path=_STR, head=_NUM, tail=_NUM),
    "read_media_file": _t("file_read", {"path": "path"}, ("path",), path=_STR),
    "read_multiple_files": _t("file_read", None, ("paths",), paths=_LIST),
    "write_file": _t(
        "file_write", {"path": "path", "content": "content"}, ("path",), path=_STR, content=_STR
    ),
    "edit_file": _t("file_write", {"path": "path"}, ("path",), path=_STR, edits=_LIST, dryRun=_BOOL),
    "create_directory": _t("file_write", {"path": "path"}, ("path",), path=_STR),
    "list_directory": _t("file_read", {"path": "path"}, ("path",), path=_STR),
    "list_directory_with_sizes": _t("file_read", {"path": "path"}, ("path",), path=_STR, sortBy=_STR),
    "directory_tree": _t("file_read", {"path": "path"}, ("path",), path=_STR, excludePatterns=_LIST),
    "move_file": _t(
        "file_write", {"path": "destination"}, ("source", "destination"), source=_STR, destination=_STR
    ),
    "search_files": _t(
        "file_read", {"path": "path"}, ("path",), path=_STR, pattern=_STR, excludePatterns=_LIST
    ),
    "get_file_info": _t("file_read", {"path": "path"}, ("path",), path=_STR),
    "list_allowed_directories": _t("other"),
}
_TABLES: dict[str, dict[str, _Tool]] = {
    "claude_code": _CLAUDE,
    "codex": _CODEX,
    "gemini_cli": _GEMINI,
    "mcp_filesystem": _MCP_FS,
}
_PROFILE_ALIASES = {"claude": "claude_code", "gemini": "gemini_cli", "mcp": "mcp_filesystem"}
_MCP_PREFIX = lazy_compile(r"^(?:mcp__[^_]+(?:_[^_]+)*?__|[\w-]+__|[\w-]+[./:])")


def check_profile(profile: str | None) -> str | None:
    """``profile`` in its canonical spelling (``claude-code`` is ``claude_code``); :class:`ValueError`
    naming the known profiles for anything else."""
    if profile is None:
        return None
    key = profile.strip().lower().replace("-", "_")
    key = _PROFILE_ALIASES.get(key, key)
    if key not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of: {', '.join(PROFILES)}")
    return key


@lru_cache(maxsize=1024)
def _strip(tool: str) -> str:
    """The tool name without an MCP server prefix (remembered: a pure function of a few names)."""
    return _MCP_PREFIX.sub("", tool, count=1) if tool not in _CODEX else tool


def _is_server_tool(tool: str) -> bool:
    """An MCP server's tool (``mcp__server__tool``, ``server__tool``): its name is the server's choice."""
    return tool not in _CODEX and _strip(tool) != tool


def _lookup(tool: str, profile: str | None, arguments: object = None) -> tuple[str, _Tool] | None:
    if _is_server_tool(tool):
        # a server may call its tool anything: only the reference filesystem server's names are trusted,
        # and only for the profiles that may see them
        if profile in (None, "mcp_filesystem", "claude_code", "codex", "gemini_cli"):
            spec = _MCP_FS.get(_strip(tool))
            if spec is not None:
                return "mcp_filesystem", spec
        return None
    if profile is not None:
        table = _TABLES.get(profile)
        if table is not None and tool in table:
            return profile, table[tool]
        return None
    found = [(name, table[tool]) for name, table in _TABLES.items() if tool in table]
    if len(found) > 1 and isinstance(arguments, Mapping):
        # the same name in two agents' tool sets: the one whose required arguments are all present
        fitting = [f for f in found if all(any(a in arguments for a in alt) for alt in f[1].required)]
        found = fitting or found
    return found[0] if found else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        import shlex

        return shlex.join(value)
    return str(value)


# -- shapes --------------------------------------------------------------------------------------
_WORD = lazy_compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SHELL_VERBS = frozenset(
    [
        "bash",
        "shell",
        "sh",
        "zsh",
        "fish",
        "exec",
        "execute",
        "run",
        "runner",
        "terminal",
        "command",
        "cmd",
        "spawn",
        "subprocess",
        "process",
        "powershell",
        "pwsh",
        "console",
        "script",
        "invoke",
        "system",
    ]
)
_DELETE_VERBS = frozenset(
    [
        "delete",
        "remove",
        "rm",
        "unlink",
        "rmdir",
        "erase",
        "destroy",
        "drop",
        "purge",
        "trash",
        "wipe",
        "prune",
    ]
)
_WRITE_VERBS = frozenset(
    [
        "write",
        "edit",
        "create",
        "update",
        "save",
        "put",
        "append",
        "patch",
        "replace",
        "insert",
        "modify",
        "mkdir",
        "touch",
        "copy",
        "cp",
        "move",
        "mv",
        "rename",
        "apply",
        "overwrite",
        "change",
        "store",
        "set",
        "upsert",
        "make",
        "new",
        "add",
        "commit",
    ]
)
_READ_VERBS = frozenset(
    [
        "read",
        "get",
        "cat",
        "view",
        "show",
        "list",
        "ls",
        "search",
        "find",
        "glob",
        "grep",
        "open",
        "load",
        "stat",
        "info",
        "tree",
        "head",
        "tail",
        "query",
        "lookup",
        "describe",
        "inspect",
        "check",
        "count",
        "diff",
        "status",
        "preview",
    ]
)
_NET_VERBS = frozenset(
    [
        "fetch",
        "http",
        "https",
        "request",
        "browse",
        "browser",
        "navigate",
        "url",
        "web",
        "curl",
        "wget",
        "download",
        "goto",
        "visit",
        "scrape",
        "crawl",
        "post",
        "send",
        "webhook",
        "email",
        "mail",
        "upload",
        "push",
        "publish",
        "click",
        "screenshot",
        "page",
        "tab",
    ]
)
_COMMAND_KEYS = frozenset(
    ["command", "commands", "cmd", "cmdline", "commandline", "script", "argv", "shell", "bash", "sh"]
)
_CODE_KEYS = frozenset(
    ["code", "function", "expression", "js", "javascript", "python", "program", "snippet", "eval"]
)
_PATH_KEYS = frozenset(
    [
        "path",
        "paths",
        "file",
        "files",
        "filename",
        "filenames",
        "filepath",
        "filepaths",
        "dir",
        "dirs",
        "directory",
        "directories",
        "folder",
        "folders",
        "dest",
        "destination",
        "source",
        "src",
        "target",
        "root",
        "location",
        "notebook",
        "cwd",
        "workdir",
    ]
)
_SOURCE_KEYS = frozenset(["source", "src", "from", "old"])
_DEST_KEYS = frozenset(["dest", "destination", "target", "to", "new", "output"])
_URL_KEYS = frozenset(
    ["url", "urls", "uri", "uris", "href", "link", "links", "endpoint", "website", "site", "webhook"]
)
_CONTENT_KEYS = frozenset(["content", "contents", "text", "data", "body", "patch", "diff"])
_CWD_KEYS = frozenset(["cwd", "workdir"])
_URL_VALUE = lazy_compile(r"^[A-Za-z][A-Za-z0-9+.-]{1,20}://\S+$")
_URL_IN_TEXT = lazy_compile(r"\bhttps?://[^\s<>\"')\]]+", re.I)


_ALIAS_VERBS: dict[str, frozenset[str]] = {
    "file_read": frozenset({"read"}),
    "file_write": frozenset({"write"}),
    "shell": frozenset({"shell"}),
    "network": frozenset({"fetch"}),
}


def _words(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(name[:MAX_TOOL_NAME]))


def _looks_like_path(value: str) -> bool:
    if not value or len(value) > 4096 or "\n" in value or "\x00" in value:
        return False
    return value.startswith(("/", "~/", "./", "../", "file://")) or value == "~"


@dataclass(slots=True)
class _Shapes:
    """What the arguments of a tool look like: commands, paths (with their key words), URLs, content."""

    commands: list[str] = field(default_factory=list)
    paths: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)
    cwd: str | None = None
    code: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    leaves: int = 0


def _scan(value: Any, key_words: frozenset[str], key: str, shapes: _Shapes, depth: int) -> None:
    if shapes.leaves >= _MAX_LEAVES:
        return
    if depth > _MAX_DEPTH:
        shapes.problems.append(f"arguments nested deeper than {_MAX_DEPTH} levels")
        shapes.leaves = _MAX_LEAVES
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if shapes.leaves >= _MAX_LEAVES:
                return
            name = str(k)
            _scan(v, _words(name), name, shapes, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        if key_words & _COMMAND_KEYS and value and all(isinstance(v, str) for v in value):
            import shlex

            shapes.leaves += 1
            shapes.commands.append(shlex.join(value))
            return
        for v in value:
            if shapes.leaves >= _MAX_LEAVES:
                return
            _scan(v, key_words, key, shapes, depth + 1)
        return
    shapes.leaves += 1
    if not isinstance(value, str):
        return
    if key_words & _COMMAND_KEYS:
        shapes.commands.append(value)
    elif key_words & _CODE_KEYS:
        shapes.code.append(key)
    elif _URL_VALUE.match(value) and not value.lower().startswith("file://"):
        shapes.urls.append(value)
    elif key_words & _CWD_KEYS or ("working" in key_words and "directory" in key_words):
        shapes.cwd = shapes.cwd or value
    elif (key_words & _PATH_KEYS and value and "\n" not in value) or _looks_like_path(value):
        shapes.paths.append((value.removeprefix("file://"), key_words))
    elif key_words & _URL_KEYS:
        shapes.urls.append(value)
    elif key_words & _CONTENT_KEYS:
        shapes.contents.append(value)
    elif len(value) <= 4096:
        shapes.urls.extend(_URL_IN_TEXT.findall(value)[:8])


def _shapes(arguments: Mapping[str, Any], skip: Mapping[str, Types] | None = None) -> _Shapes:
    shapes = _Shapes()
    for key, value in arguments.items():
        if shapes.leaves >= _MAX_LEAVES:
            break
        name = str(key)
        if skip is not None and name in skip:
            continue
        _scan(value, _words(name), name, shapes, 1)
    return shapes


def _access(verbs: frozenset[str], key_words: frozenset[str]) -> Access | None:
    """How a tool named by ``verbs`` touches a path under a key named by ``key_words``; ``None``: unknown."""
    moves = bool(verbs & {"move", "mv", "rename"})
    if key_words & _SOURCE_KEYS and (moves or verbs & {"copy", "cp"}):
        return "delete" if moves else "read"
    if verbs & _DELETE_VERBS:
        return "delete"
    if verbs & _WRITE_VERBS or (key_words & _DEST_KEYS and verbs & (_NET_VERBS | _WRITE_VERBS)):
        return "write"
    if verbs & (_READ_VERBS | _NET_VERBS | _SHELL_VERBS):
        return "read"
    return None


class ToolArguments(dict[str, Any]):
    """A tool call's arguments exactly as the agent passed them, plus what their mapping found.

    ``targets`` are the paths the call touches besides ``Action.path``; ``reasons`` say what about the
    call cannot be known (the normaliser marks its facts opaque with them); ``problems`` say what is
    malformed.
    """

    __slots__ = ("problems", "reasons", "targets")

    def __init__(self, arguments: Mapping[str, Any]) -> None:
        super().__init__(arguments)
        self.targets: list[tuple[str, Access, bool]] = []
        self.reasons: list[str] = []
        self.problems: list[str] = []


def _type_name(types: Types) -> str:
    names = {str: "a string", int: "a number", float: "a number", bool: "true or false", list: "a list"}
    names.update({tuple: "a list", dict: "an object"})
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def _check_known(tool: str, spec: _Tool, args: Mapping[str, Any], out: ToolArguments) -> None:
    for alternatives in spec.required:
        if all(args.get(name) is None for name in alternatives):
            out.problems.append(f"{tool} call without {' or '.join(repr(a) for a in alternatives)}")
    for canonical in ("command", "path", "url"):
        for name in spec.canonical.get(canonical, ()):
            value = args.get(name)
            if (isinstance(value, str) and not value.strip()) or (
                isinstance(value, (list, tuple)) and not value
            ):
                out.problems.append(f"{tool} call with an empty {name!r}")
    for name, types in spec.fields.items():
        value = args.get(name)
        if value is None:
            continue
        if not isinstance(value, types) or (bool in types) != isinstance(value, bool):
            out.problems.append(
                f"{tool} argument {name!r} must be {_type_name(types)}, not {type(value).__name__}"
            )
        elif (
            types is _ARGV and isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value)
        ):
            out.problems.append(f"{tool} argument {name!r} must be a list of strings")


def _unknown(
    tool: str, args: Mapping[str, Any], action: Action, out: ToolArguments, alias: ActionKind | None
) -> None:
    """Map a tool no profile knows by the verbs of its name and the shapes of its arguments.

    ``alias``: the kind the name spells in agentguard's own vocabulary (``write_file``, ``bash``).
    """
    base = _strip(tool)
    verbs = _words(base) | _ALIAS_VERBS.get(alias or "other", frozenset())
    shapes = _shapes(args)
    out.problems.extend(shapes.problems)
    if shapes.commands and shapes.cwd is None:
        # a command's directory argument is where it runs
        for i, (raw, words) in enumerate(shapes.paths):
            if words & {"dir", "directory", "folder"} and not words & (_SOURCE_KEYS | _DEST_KEYS):
                shapes.cwd = raw
                del shapes.paths[i]
                break
    shell = bool(shapes.commands)
    accesses = [_access(verbs, words) for _, words in shapes.paths]
    unknown_paths = [p for (p, _), acc in zip(shapes.paths, accesses, strict=True) if acc is None]
    if shell:
        kind: ActionKind = "shell"
    elif unknown_paths:
        kind = "other"  # what it does to its paths is not known: they count as written, and it is opaque
    elif any(a in ("write", "delete") for a in accesses) or (
        verbs & (_WRITE_VERBS | _DELETE_VERBS) and not shapes.urls
    ):
        kind = "file_write"
    elif shapes.urls or verbs & _NET_VERBS:
        kind = "network"
    elif shapes.paths or verbs & _READ_VERBS:
        kind = "file_read"
    else:
        try:
            kind = normalise_kind(base)
        except ValueError:
            kind = "other"
    action.kind = alias if alias is not None and alias != "other" else kind
    if shapes.paths:
        action.path = shapes.paths[0][0]
    if shapes.commands:
        action.command = "\n".join(shapes.commands)
    if shapes.cwd is not None:
        action.cwd = shapes.cwd
    if shapes.urls:
        action.url = shapes.urls[0]
    if shapes.contents:
        action.content = shapes.contents[0]
    for (raw, _), acc in zip(shapes.paths, accesses, strict=True):
        out.targets.append((raw, acc or "write", False))
    name = base[:80]
    if unknown_paths:
        shown = ", ".join(repr(p[:80]) for p in unknown_paths[:3])
        out.reasons.append(f"tool {name!r} is not known: what it does to {shown} cannot be known")
    if shapes.code:
        out.reasons.append(f"tool {name!r} runs code given in {', '.join(repr(c) for c in shapes.code[:3])}")
    if len(dict.fromkeys(shapes.urls)) > 1:
        out.reasons.append(f"tool {name!r} names {len(shapes.urls)} URLs; only the first is checked")
    if not (shapes.commands or shapes.paths or shapes.urls or shapes.code) and kind not in ("llm", "agent"):
        out.reasons.append(f"tool {name!r} is not known and its arguments name no command, path or URL")
    if shapes.leaves >= _MAX_LEAVES:
        out.reasons.append(f"tool {name!r} has more than {_MAX_LEAVES} argument values; not all were read")


def _extra_fields(
    tool: str, spec: _Tool, args: Mapping[str, Any], action: Action, out: ToolArguments
) -> None:
    """Arguments a known tool is not documented to take: read for their shapes, never ignored."""
    if all(k in spec.fields for k in args):
        return
    shapes = _shapes(args, skip=spec.fields)
    out.problems.extend(shapes.problems)
    for raw, _ in shapes.paths:
        out.targets.append((raw, "write" if spec.kind == "file_write" else "read", False))
    if shapes.commands or shapes.code:
        names = [k for k in args if k not in spec.fields][:3]
        out.reasons.append(f"{tool} call with unexpected arguments {', '.join(map(repr, names))}")
    if shapes.urls and action.url is None:
        action.url = shapes.urls[0]


def action_from_tool_call(
    tool_name: str, arguments: Mapping[str, Any], *, cwd: str | None = None, profile: str | None = None
) -> Action:
    """Map a tool call of a known agent (or of agentguard's own kinds) to an :class:`Action`.

    ``profile`` names the agent (:data:`PROFILES`); an unknown name is a :class:`ValueError`. A tool
    the profile does not know is mapped by its argument shapes (see the module docstring).
    """
    profile = check_profile(profile)
    raw_args: Mapping[str, Any] = arguments if isinstance(arguments, Mapping) else {}
    args = ToolArguments(raw_args)
    if not isinstance(arguments, Mapping):
        args.problems.append(f"tool arguments must be an object, not {type(arguments).__name__}")
    tool = tool_name if isinstance(tool_name, str) else str(tool_name)
    if len(tool) > MAX_TOOL_NAME:
        args.problems.append(f"tool name of {len(tool)} characters (at most {MAX_TOOL_NAME})")
        tool = tool[:MAX_TOOL_NAME]
    if not tool.strip():
        args.problems.append("tool call without a tool name")
    found = _lookup(tool, profile, raw_args)
    action = Action(kind="other", tool=tool, arguments=args)
    if found is not None:
        _, spec = found
        action.kind = spec.kind
        _check_known(tool, spec, raw_args, args)
        for canonical, names in spec.canonical.items():
            for name in names:
                value = raw_args.get(name)
                if value is not None and not isinstance(value, (Mapping, bool)):
                    setattr(action, canonical, _text(value))
                    break
        _extra_fields(tool, spec, raw_args, action, args)
    else:
        alias = _agentguard_kind(tool) if profile in (None, "agentguard") else None
        _unknown(tool, raw_args, action, args, alias)
    if cwd is not None and action.cwd is None:
        action.cwd = cwd
    command = raw_args.get("command")
    if (
        action.kind == "shell"
        and isinstance(command, (list, tuple))
        and command
        and command[0] == "apply_patch"
    ):
        action.kind = "file_write"
        action.content = str(command[1]) if len(command) > 1 else ""
        action.command = None
    if action.kind not in ACTION_KINDS:
        action.kind = "other"
    args.targets.extend(_known_targets(action, found[1] if found is not None else None))
    del args.targets[_MAX_TARGETS:]
    args.reasons.extend(args.problems)
    return action


def _agentguard_kind(tool: str) -> ActionKind | None:
    """Our own kinds and their aliases as tool names (``write_file``, ``bash``, ``fetch``)."""
    try:
        return normalise_kind(tool)
    except ValueError:
        return None


def problems(action: Action) -> tuple[str, ...]:
    """What is malformed about a tool call mapped by :func:`action_from_tool_call` (empty when sound)."""
    args = action.arguments
    return tuple(args.problems) if isinstance(args, ToolArguments) else ()


def opaque_reasons(action: Action) -> tuple[str, ...]:
    """What about a mapped tool call cannot be known before it runs (empty when everything can)."""
    args = action.arguments
    return tuple(args.reasons) if isinstance(args, ToolArguments) else ()


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
        if len(out) >= _MAX_TARGETS:
            break
    return [t for t in dict.fromkeys(out) if t[0]]


def _join(base: str, pattern: str) -> str:
    if pattern.startswith(("/", "~")) or not base:
        return pattern
    return base.rstrip("/") + "/" + pattern


def _strs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value[:_MAX_TARGETS] if isinstance(v, str)]
    return []


def _known_targets(action: Action, spec: _Tool | None) -> list[tuple[str, Access, bool]]:
    """Paths a multi-file tool call names, as ``(raw, access, glob)``; empty for ordinary tools."""
    if spec is None and action.tool != "apply_patch":
        return []
    args = action.arguments if isinstance(action.arguments, Mapping) else {}
    tool = _strip(action.tool) if action.tool not in _CODEX else action.tool
    out: list[tuple[str, Access, bool]] = []
    base = str(args.get("path") or args.get("dir_path") or "")
    if tool == "read_multiple_files":
        out.extend((p, "read", False) for p in _strs(args.get("paths")))
    elif tool == "read_many_files":
        for p in (*_strs(args.get("paths")), *_strs(args.get("include"))):
            out.append((p, "read", any(c in p for c in "*?[")))
    elif tool == "move_file":
        if isinstance(args.get("source"), str):
            out.append((args["source"], "delete", False))
        if isinstance(args.get("destination"), str):
            out.append((args["destination"], "write", False))
    elif tool == "apply_patch" or (action.kind == "file_write" and action.tool == "shell"):
        out.extend(
            (p, acc, False) for p, acc in patch_targets(action.content or _text(args.get("input")) or "")
        )
    elif tool in ("Glob", "glob"):
        pattern = args.get("pattern")
        if isinstance(pattern, str) and pattern:
            out.append((_join(base, pattern), "read", True))
    elif tool == "Grep":
        # ripgrep's --glob: a pattern without a slash matches at any depth below the path
        pattern = args.get("glob")
        if isinstance(pattern, str) and pattern:
            for part in _brace_alternatives(pattern):
                out.append((_join(base, part), "read", True))
                if "/" not in part:
                    out.append((_join(base, "**/" + part), "read", True))
    elif tool in ("search_file_content", "grep_search") and isinstance(args.get("include"), str):
        for part in _brace_alternatives(args["include"]):
            out.append((_join(base, part), "read", True))
            if "/" not in part:
                out.append((_join(base, "**/" + part), "read", True))
    elif tool == "search_files" and spec is not None and args.get("path") is not None:
        out.append((str(args["path"]).rstrip("/") + "/**", "read", True))
    elif tool == "MultiEdit" and isinstance(args.get("edits"), list):
        texts = [e.get("new_string") for e in args["edits"][:_MAX_TARGETS] if isinstance(e, Mapping)]
        action.content = "\n".join(t for t in texts if isinstance(t, str)) or None
    elif tool == "web_fetch" and action.url is None and isinstance(args.get("prompt"), str):
        urls = _URL_IN_TEXT.findall(args["prompt"][:65536])
        if urls:
            action.url = urls[0]
        if len(dict.fromkeys(urls)) > 1 and isinstance(action.arguments, ToolArguments):
            action.arguments.reasons.append(f"web_fetch names {len(urls)} URLs; only the first is checked")
    return out


_BRACES = lazy_compile(r"\{([^{}]*)\}")


def _brace_alternatives(pattern: str) -> list[str]:
    """A glob's ``{a,b}`` alternatives spelled out (one level, at most 64), as ripgrep reads them."""
    match = _BRACES.search(pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [head + alt + tail for alt in match.group(1).split(",")[:64]]


def targets(action: Action) -> list[tuple[str, Access, bool]]:
    """Paths a tool call names besides ``Action.path``, as ``(raw, access, glob)``."""
    args = action.arguments
    if isinstance(args, ToolArguments):
        return list(args.targets)
    found = _lookup(action.tool, None) if isinstance(action.tool, str) else None
    return _known_targets(action, found[1] if found is not None else None)
