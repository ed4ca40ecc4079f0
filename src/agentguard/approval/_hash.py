"""The identity of an action for approvals: a hash of everything that decides its effect, and a summary.

A grant is bound to this hash, so it covers exactly the actions whose hash is equal. Two spellings of
the same file or host hash the same::

    >>> from agentguard.action import Action
    >>> a = Action(kind="file_write", tool="write", path="./src/../src/a.py", cwd="/repo", content="x")
    >>> b = Action(kind="file_write", tool="write", path="src/a.py", cwd="/repo", content="x")
    >>> action_hash(a) == action_hash(b)
    True

and any change of what the action does changes it::

    >>> action_hash(a) == action_hash(Action(kind="file_write", tool="write", path="src/a.py", cwd="/repo"))
    False

What goes in:

- the kind and the tool;
- the paths the tool itself names, resolved by :func:`agentguard.normalise.normalise` (``~``, ``..``,
  repeated slashes, symlinks), with their access (read, write, delete), and for a command the
  working directory it runs in, resolved the same way;
- each URL as :func:`agentguard.normalise.parse_url` reads it (scheme, host, port, userinfo), plus
  its path, query and fragment exactly as written;
- the command text and the content exactly as written (only the command's surrounding blank lines
  and spaces are dropped): indentation inside a here-doc or an inline script changes what runs;
- the model of an LLM call;
- every other argument, by name and value (``method``, ``body``, ``stdin``, ``env``, ``headers``...):
  an argument agentguard does not understand may change the effect, so it is never left out.

Arguments whose value is the path, URL or working directory already included are represented by
their normalised form. The call id and the run never go in.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final
from urllib.parse import urlsplit

from ..action import Action
from ..normalise import normalise, parse_url
from ..telemetry import redact

_HASH_VERSION: Final = 2
_SUMMARY_LIMIT: Final = 64 * 1024


def action_hash(action: Action) -> str:
    """A hex SHA-256 of the action's identity (see the module docstring)."""
    canonical = json.dumps(
        [_HASH_VERSION, action.kind, action.tool, _identity(action)],
        sort_keys=True,
        separators=(",", ":"),
        default=repr,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def summarise(action: Action, width: int | None = None) -> str:
    """What a human needs to see to decide: the whole action, redacted.

    The command, path, URL or model first, then every other argument that is part of its identity
    (method, body, env...) as JSON. ``width`` cuts the result to one line of at most that many
    characters; without it the text is whole (up to 64 KiB) and keeps its line breaks.
    """
    main = action.command or action.path or action.url or action.model
    shown = {v for v in (action.command, action.content, action.model) if v is not None}
    extra = {k: v for k, v in _other_arguments(action).items() if not (isinstance(v, str) and v in shown)}
    if action.content is not None and action.command is None:
        extra.setdefault("content", action.content)
    if main is None:
        text = _json(extra) if extra else action.tool
    else:
        text = main + (" " + _json(extra) if extra else "")
    text = redact(text)
    if width is not None:
        one_line = " ".join(text.split())
        return one_line if len(one_line) <= width else one_line[: max(width - 3, 0)] + "..."
    if len(text) > _SUMMARY_LIMIT:
        text = text[:_SUMMARY_LIMIT] + f"...[{len(text) - _SUMMARY_LIMIT} more chars]"
    return text


def _identity(action: Action) -> dict[str, Any]:
    identity: dict[str, Any] = {}
    facts = normalise(_targets_only(action))
    if action.path is not None or facts.paths:
        identity["paths"] = sorted({(p.access, p.resolved) for p in facts.paths})
    if action.path is not None and not facts.paths:
        identity["path"] = action.path  # the normaliser could not resolve it: the text as written
    if action.command is not None:
        identity["cwd"] = facts.cwd  # relative paths in the command start there
    if action.url is not None:
        identity["url"] = _url_identity(action.url)
    if action.command is not None:
        identity["command"] = action.command.strip()
    if action.content is not None:
        identity["content"] = action.content
    if action.model is not None:
        identity["model"] = action.model.strip()
    identity["arguments"] = _other_arguments(action)
    return identity


def _targets_only(action: Action) -> Action:
    """The action without its command: the tool's own paths, resolved, and no shell analysis."""
    return Action(
        kind=action.kind,
        tool=action.tool,
        arguments=action.arguments,
        path=action.path,
        cwd=action.cwd,
    )


def _url_identity(url: str) -> list[Any]:
    fact = parse_url(url, default_scheme="https")
    try:
        parts = urlsplit(url.strip())
        rest = [parts.path, parts.query, parts.fragment]
    except ValueError:
        rest = [url]
    if fact is None:
        return [url, *rest]
    return [fact.scheme, fact.host, fact.port, fact.had_userinfo, list(fact.alt_hosts), *rest]


def _other_arguments(action: Action) -> dict[str, Any]:
    """Arguments other than those whose value is the path, URL or cwd (included in normalised form)."""
    represented = {v for v in (action.path, action.url, action.cwd) if v is not None}
    return {
        str(name): value
        for name, value in action.arguments.items()
        if not (isinstance(value, str) and value in represented)
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)
