"""What a recorded span says, whatever convention wrote it: the common ground of the readers.

Each convention's reader (``_read_genai``, ``_read_openinference``, ``_read_openllmetry``,
``_read_mcp``) turns a span record (:class:`~agentguard.traces.Span`) it recognises into one
observation:

* :class:`AgentObservation`: an agent run (task, scope, final answer, error);
* :class:`ModelObservation`: one model call (the messages it was sent and the ones it returned);
* :class:`ToolObservation`: one tool execution (name, call id, arguments, result, error).

:mod:`._assemble` turns a session's observations into the detector event stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..detect import UNCAPTURED
from ._messages import Message
from ._record import Span

ERROR = 2
"""OTLP's ``STATUS_CODE_ERROR``."""

REDACTED = frozenset({"__REDACTED__", "<redacted>", "[REDACTED]"})
"""Placeholders instrumentations write in place of content they were told not to record."""


def error_of(span: Span) -> str | None:
    return (span.status_message or "error") if span.status == ERROR else None


def content(value: Any) -> Any:
    """``value`` unless it is missing or a redaction placeholder (then ``None``)."""
    if value is None or (isinstance(value, str) and value.strip() in REDACTED):
        return None
    return value


@dataclass(slots=True, kw_only=True)
class Decision:
    """A policy decision recorded on a tool span."""

    time: int
    outcome: str
    rule_ids: tuple[str, ...] = ()
    reason: str = ""


@dataclass(slots=True, kw_only=True)
class AgentObservation:
    span: Span
    task: str | None = None
    scope_root: str | None = None
    scope_write: tuple[str, ...] = ()
    scope_hosts: tuple[str, ...] = ()
    final: str | None = None
    """The agent's recorded output; ``None`` when the span does not carry one."""
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class ModelObservation:
    span: Span
    inputs: list[Message] = field(default_factory=list)
    outputs: list[Message] = field(default_factory=list)
    refusal: bool = False


@dataclass(slots=True, kw_only=True)
class ToolObservation:
    span: Span
    name: str
    call_id: str = ""
    arguments: Mapping[str, Any] = field(default_factory=lambda: UNCAPTURED)
    result: str | None = None
    error: str | None = None
    kind: str | None = None
    """``agentguard.tool.kind`` when the span was written by agentguard's tool wrapper."""
    diff: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    mcp: bool = False
    """An MCP ``tools/call`` span (client or server side): the same call as an enclosing tool span."""


Observation = AgentObservation | ModelObservation | ToolObservation
