"""GenAI log events read into the model calls they belong to.

Several instrumentations put message content in OTLP log records instead of span attributes
(util-genai's ``event_only`` mode, the OpenAI instrumentations' events). Two generations are read:

* ``gen_ai.client.inference.operation.details`` (current): ``gen_ai.input.messages`` /
  ``gen_ai.output.messages`` attributes (structured values or JSON text), the operation's own
  attributes beside them;
* one record per message (older): ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message`` (body ``{content, tool_calls, id}``) and
  ``gen_ai.choice`` (body ``{index, finish_reason, message: {...}}``).

The event name is the record's ``event_name`` or its ``event.name`` attribute. A record is joined to
its model call by span id; a record whose span is not in the session becomes a model call of its own
(at the record's time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .. import semconv as sc
from ._messages import Message, message, parse_messages
from ._observations import ModelObservation, Observation

DETAILS = "gen_ai.client.inference.operation.details"
_PER_MESSAGE = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE = "gen_ai.choice"


class LogLike(Protocol):
    """The fields of a recorded log record the reader uses."""

    @property
    def trace_id(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def time(self) -> int: ...
    @property
    def event_name(self) -> str: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...
    @property
    def body(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class _LogSpan:
    """A stand-in span for log records whose span was not recorded."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start: int
    end: int
    attrs: Mapping[str, Any]
    events: Sequence[tuple[str, int, Mapping[str, Any]]] = ()
    status: int = 0
    status_message: str = ""


def event_name(record: LogLike) -> str:
    name = getattr(record, "event_name", "") or ""
    if not name or name not in _KNOWN:
        alt = record.attrs.get("event.name")
        if isinstance(alt, str) and alt:
            return alt
    return str(name)


_KNOWN = frozenset({DETAILS, CHOICE, *_PER_MESSAGE})


def read(record: LogLike) -> tuple[list[Message], list[Message]] | None:
    """The input and output messages one record carries, or ``None`` for other records."""
    name = event_name(record)
    a = record.attrs
    if name == DETAILS or (sc.GEN_AI_OUTPUT_MESSAGES in a and not name):
        return (
            parse_messages(a.get(sc.GEN_AI_INPUT_MESSAGES)),
            parse_messages(a.get(sc.GEN_AI_OUTPUT_MESSAGES), role="assistant"),
        )
    role = _PER_MESSAGE.get(name)
    body = record.body
    if role is not None:
        m = message(body if body is not None else {}, role=role)
        return ([m] if m is not None else []), []
    if name == CHOICE and isinstance(body, Mapping):
        inner = body.get("message", body)
        m = message(inner, role="assistant")
        return [], ([m] if m is not None else [])
    return None


def attach(observations: list[Observation], logs: Iterable[LogLike]) -> None:
    """Add the messages of ``logs`` to the model calls of ``observations`` (in place)."""
    by_span: dict[str, ModelObservation] = {
        o.span.span_id: o for o in observations if isinstance(o, ModelObservation)
    }
    for record in logs:
        try:
            found = read(record)
        except (TypeError, ValueError, AttributeError):
            continue
        if found is None:
            continue
        inputs, outputs = found
        target = by_span.get(record.span_id) if record.span_id else None
        if target is None:
            key = record.span_id or f"log-{id(record):x}"
            span = _LogSpan(
                trace_id=record.trace_id, span_id=key, parent_id="", name=event_name(record),
                start=record.time, end=record.time, attrs=record.attrs,
            )  # fmt: skip
            target = ModelObservation(span=span)
            observations.append(target)
            by_span[key] = target
        if inputs and (not target.inputs or event_name(record) == DETAILS):
            target.inputs = inputs if event_name(record) == DETAILS else target.inputs + inputs
        elif inputs:
            target.inputs = target.inputs + inputs
        if outputs:
            target.outputs = outputs if event_name(record) == DETAILS else target.outputs + outputs
