"""An MCP tool call as an :class:`~agentguard.action.Action`, read through the tool's input schema.

The argument names find most of it (``command``, ``path``, ``url`` and their usual spellings; the
reference filesystem server's tools by profile); the schema adds what names miss: a property with
``format: uri`` is the URL, one whose description speaks of a file or directory path is the path, one
that speaks of a shell command is the command. The kind follows the effect: a command is ``shell``, a
URL ``network``, a path ``file_read`` when the tool says it is read-only and ``file_write`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..._lazyre import lazy_compile
from ...action import Action
from .._steps import action_for

_PATH_WORDS = lazy_compile(r"\b(?:file|directory|folder|path)\b", re.IGNORECASE)
_COMMAND_WORDS = lazy_compile(r"\b(?:shell|command line|command|bash|script)\b", re.IGNORECASE)


def schema_roles(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """Canonical argument -> property name, from a JSON Schema's property formats and descriptions."""
    roles: dict[str, str] = {}
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return roles
    for name, prop in properties.items():
        if not isinstance(prop, Mapping) or prop.get("type") not in ("string", None):
            continue
        text = f"{prop.get('title') or ''} {prop.get('description') or ''}"
        if prop.get("format") in ("uri", "url", "iri") and "url" not in roles:
            roles["url"] = str(name)
        elif _COMMAND_WORDS.search(text) and "command" not in roles:
            roles["command"] = str(name)
        elif _PATH_WORDS.search(text) and "path" not in roles:
            roles["path"] = str(name)
    return roles


def mcp_action(
    tool: str,
    arguments: Mapping[str, Any] | None,
    *,
    schema: Mapping[str, Any] | None = None,
    read_only: bool | None = None,
    description: str | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Action:
    """The action for one ``tools/call``. ``description`` is the tool's: a tool that says it runs a
    command (or works on a file) and takes one string argument has that argument as its command (path)."""
    args = dict(arguments or {})
    action = action_for(tool, args, kinds=kinds)
    if kinds and tool in kinds:
        return action
    for canonical, prop in schema_roles(schema).items():
        value = args.get(prop)
        if isinstance(value, str) and getattr(action, canonical) is None:
            setattr(action, canonical, value)
    strings = [v for v in args.values() if isinstance(v, str)]
    if (
        description
        and len(strings) == 1
        and action.command is None
        and action.path is None
        and action.url is None
    ):
        if _COMMAND_WORDS.search(description):
            action.command = strings[0]
        elif _PATH_WORDS.search(description):
            action.path = strings[0]
    if action.kind in ("other", "agent"):
        if action.command is not None:
            action.kind = "shell"
        elif action.url is not None:
            action.kind = "network"
        elif action.path is not None:
            action.kind = "file_read" if read_only else "file_write"
    return action
