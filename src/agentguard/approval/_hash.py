"""The identity of an action for approvals: a stable hash of its normalised form, and a short summary.

Two spellings of the same action hash the same, so a grant for one covers the other::

    >>> from agentguard.action import Action
    >>> a = Action(kind="file_write", tool="write", path="./src/../src/a.py", cwd="/repo")
    >>> b = Action(kind="file_write", tool="write", path="src/a.py", cwd="/repo")
    >>> action_hash(a) == action_hash(b)
    True

What goes in: the kind, the tool, and the canonical arguments: a path resolved to an absolute real path
(against the action's ``cwd``, else the process's), a shell command with its whitespace normalised outside
quotes (and the directory it runs in), a URL with its scheme and host lower-cased, the model of an LLM
call. A file write's ``content`` is left out on purpose: a grant covers writing to that file. A tool
with none of these is identified by its raw arguments. The call id and the run never go in.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..action import Action
from ..redact import redact

_HASH_VERSION = 1
_SUMMARY_WIDTH = 200


def action_hash(action: Action) -> str:
    """A hex SHA-256 of the action's normalised form (see the module docstring)."""
    canonical = json.dumps(
        [_HASH_VERSION, action.kind, action.tool, _canonical_arguments(action)],
        sort_keys=True,
        separators=(",", ":"),
        default=repr,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def summarise(action: Action, width: int = _SUMMARY_WIDTH) -> str:
    """What a human needs to see to decide: the command, path, URL or model, redacted, one line."""
    text = action.command or action.path or action.url or action.model
    if text is None:
        text = _json(dict(action.arguments)) if action.arguments else action.tool
    text = redact(text)
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 3] + "..."


def _canonical_arguments(action: Action) -> dict[str, Any]:
    canon: dict[str, Any] = {}
    if action.path is not None:
        canon["path"] = _resolve_path(action.path, action.cwd)
    if action.command is not None:
        canon["command"] = normalise_command(action.command)
        canon["cwd"] = _resolve_path(action.cwd or ".", None)
    if action.url is not None:
        canon["url"] = _normalise_url(action.url)
    if action.model is not None:
        canon["model"] = action.model.strip()
    if not canon:
        canon["arguments"] = _json(dict(action.arguments))
    return canon


def _resolve_path(path: str, cwd: str | None) -> str:
    """Absolute and real (``~``, ``..``, symlinks) when possible; the path as written if not."""
    try:
        expanded = os.path.expanduser(path.strip())
        if not os.path.isabs(expanded):
            base = os.path.expanduser(cwd) if cwd else os.getcwd()
            expanded = os.path.join(base, expanded)
        return os.path.realpath(expanded)
    except (OSError, ValueError):  # e.g. a NUL byte, or the cwd was removed
        return path


def normalise_command(command: str) -> str:
    """Runs of blanks outside quotes become one space (one newline if they hold one); ends stripped.

    Whitespace inside quotes and after a backslash is kept: ``rm "a  b"`` and ``rm "a b"`` differ.
    """
    out: list[str] = []
    quote = ""
    blank = ""  # the pending separator while inside a run of unquoted whitespace
    i, n = 0, len(command)
    while i < n:
        ch = command[i]
        if not quote and ch in " \t\r\n":
            blank = "\n" if ch == "\n" or blank == "\n" else " "
            i += 1
            continue
        if blank:
            if out:
                out.append(blank)
            blank = ""
        if ch == "\\" and quote != "'" and i + 1 < n:
            out.append(command[i : i + 2])
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        out.append(ch)
        i += 1
    return "".join(out)


def _normalise_url(url: str) -> str:
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = userinfo + at + host.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)
