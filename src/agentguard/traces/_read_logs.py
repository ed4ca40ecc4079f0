"""GenAI log events read into the model calls they belong to.

Several instrumentations put message content in OTLP log records instead of span attributes
(util-genai's ``event_only`` mode, the OpenAI instrumentations' events). Two generations are read:

* ``gen_ai.client.inference.operation.details`` (current): ``gen_ai.input.messages`` /
  ``gen_ai.output.messages`` attributes (structured values or JSON text), the operation's own
  attributes beside them;
* one record per message (older): ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message`` (body ``{content, tool_calls, id}``) and
  ``gen_ai.choice`` (body ``{index, finish_reason, message: {...}}``).

Log records arrive as span records of kind ``KIND_LOG`` (the codec's mapping: one event with the
record's event name, time and attributes, the body under ``log.body``, the emitting span as parent).
The event name is the record's ``eventName`` or its ``event.name`` attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..telemetry import semconv as sc
from ._messages import Message, message, parse_messages
from ._observations import ModelObservation, Observation
from ._otlp_json import KIND_LOG, LOG_BODY
from ._record import Span

DETAILS = "gen_ai.client.inference.operation.details"
CHOICE = "gen_ai.choice"
_PER_MESSAGE = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_KNOWN = frozenset({DETAILS, CHOICE, *_PER_MESSAGE})


def is_log(span: Span) -> bool:
    """Whether a span record stands for a log record (the codec's ``KIND_LOG``)."""
    return span.kind == KIND_LOG


def _event(record: Span) -> tuple[str, Mapping[str, Any]]:
    if record.events:
        name, _, attrs = record.events[0]
        return name or record.name, attrs
    return record.name, record.attributes


def event_name(record: Span) -> str:
    name, attrs = _event(record)
    if name not in _KNOWN:
        alt = attrs.get("event.name")
        if isinstance(alt, str) and alt:
            return alt
    return name


def read(record: Span) -> tuple[list[Message], list[Message]] | None:
    """The input and output messages one log record carries, or ``None`` for other records."""
    name = event_name(record)
    _, a = _event(record)
    if name == DETAILS or (not name and sc.GEN_AI_OUTPUT_MESSAGES in a):
        return (
            parse_messages(a.get(sc.GEN_AI_INPUT_MESSAGES)),
            parse_messages(a.get(sc.GEN_AI_OUTPUT_MESSAGES), role="assistant"),
        )
    role = _PER_MESSAGE.get(name)
    body = a.get(LOG_BODY)
    if role is not None:
        m = message(body if body is not None else {}, role=role)
        return ([m] if m is not None else []), []
    if name == CHOICE and isinstance(body, Mapping):
        m = message(body.get("message", body), role="assistant")
        return [], ([m] if m is not None else [])
    return None


def attach(observations: list[Observation], logs: Iterable[Span]) -> None:
    """Add the messages of the log records ``logs`` to the model calls of ``observations`` (in place):
    a record joins the model call of the span it was emitted in (its ``parent_id``); records whose
    span is not a model call of the session become one (at the record's time)."""
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
        whole = event_name(record) == DETAILS
        target = by_span.get(record.parent_id) if record.parent_id else None
        if target is None:
            key = record.parent_id or record.span_id
            span = Span(
                trace_id=record.trace_id, span_id=key, name=event_name(record),
                start=record.start, end=record.end,
            )  # fmt: skip
            target = ModelObservation(span=span)
            observations.append(target)
            by_span[key] = target
        if inputs:
            target.inputs = inputs if whole else [*target.inputs, *inputs]
        if outputs:
            target.outputs = outputs if whole else [*target.outputs, *outputs]
