"""The one record of a recorded span, whatever wrote it (an OTLP file, the local store, a receiver).

>>> span = Span(trace_id="ab" * 16, span_id="cd" * 8, name="execute_tool run", start=10, end=20,
...             attributes={"gen_ai.tool.name": "run"})
>>> span.is_root, span.error, span.attributes["gen_ai.tool.name"]
(True, False, 'run')

Ids are lower-case hex (``""`` when absent), times are nanoseconds since the epoch, ``status`` is the
OTLP code (0 unset, 1 ok, 2 error) and ``kind`` the OTLP span kind (0 unspecified, 1 internal, 2
server, 3 client, 4 producer, 5 consumer). Attribute values are plain Python values (``str``,
``int``, ``float``, ``bool``, lists and dicts of them). Events and links are named tuples, so a
reader can unpack them (``for name, time, attributes in span.events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

STATUS_UNSET: Final = 0
STATUS_OK: Final = 1
STATUS_ERROR: Final = 2
STATUS_NAMES: Final[tuple[str, str, str]] = ("UNSET", "OK", "ERROR")

KIND_NAMES: Final[tuple[str, ...]] = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")


class SpanEvent(NamedTuple):
    """A span event: its name, time (ns) and attributes."""

    name: str
    time: int
    attributes: dict[str, Any]


class SpanLink(NamedTuple):
    """A link to another span (possibly in another trace), with the link's attributes."""

    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(slots=True, kw_only=True)
class Span:
    """One recorded span (see the module docstring for the units)."""

    trace_id: str
    span_id: str
    parent_id: str = ""
    name: str = ""
    kind: int = 0
    start: int = 0
    end: int = 0
    status: int = STATUS_UNSET
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    links: list[SpanLink] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""
    scope_version: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            make_span,
            (
                self.trace_id, self.span_id, self.parent_id, self.name, self.kind, self.start, self.end,
                self.status, self.status_message, self.attributes, self.events, self.links, self.resource,
                self.scope, self.scope_version,
            ),
        )  # fmt: skip

    @property
    def is_root(self) -> bool:
        """Whether the span has no parent (the first span of its trace, or of a service's part of it)."""
        return not self.parent_id

    @property
    def error(self) -> bool:
        return self.status == STATUS_ERROR

    @property
    def status_name(self) -> str:
        """``UNSET``, ``OK`` or ``ERROR``."""
        return STATUS_NAMES[self.status] if 0 <= self.status < 3 else "UNSET"

    @property
    def kind_name(self) -> str:
        """``INTERNAL``, ``SERVER``, ``CLIENT``... (``INTERNAL`` for an unspecified kind)."""
        return KIND_NAMES[self.kind] if 1 <= self.kind < len(KIND_NAMES) else "INTERNAL"


def make_span(
    trace_id: str,
    span_id: str,
    parent_id: str,
    name: str,
    kind: int,
    start: int,
    end: int,
    status: int,
    status_message: str,
    attributes: dict[str, Any],
    events: list[SpanEvent],
    links: list[SpanLink],
    resource: dict[str, Any],
    scope: str,
    scope_version: str,
) -> Span:
    """A :class:`Span` from its fields in declaration order (the codecs' per-span call)."""
    span = _new(Span)
    span.trace_id = trace_id
    span.span_id = span_id
    span.parent_id = parent_id
    span.name = name
    span.kind = kind
    span.start = start
    span.end = end
    span.status = status
    span.status_message = status_message
    span.attributes = attributes
    span.events = events
    span.links = links
    span.resource = resource
    span.scope = scope
    span.scope_version = scope_version
    return span


_new = object.__new__

FIELDS: Final[tuple[str, ...]] = tuple(Span.__dataclass_fields__)
"""The record's fields in declaration order (:func:`make_span`'s arguments)."""


def span_tuple(span: Span) -> tuple[Any, ...]:
    """The fields of ``span`` as a tuple of plain values (events and links as plain tuples)."""
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name,
        span.kind,
        span.start,
        span.end,
        span.status,
        span.status_message,
        span.attributes,
        [tuple(e) for e in span.events],
        [tuple(link) for link in span.links],
        span.resource,
        span.scope,
        span.scope_version,
    )


def span_from_tuple(values: tuple[Any, ...]) -> Span:
    """The inverse of :func:`span_tuple`."""
    (tid, sid, pid, name, kind, start, end, status, msg, attrs, events, links, res, scope, version) = values
    return make_span(
        tid, sid, pid, name, kind, start, end, status, msg, attrs,
        [SpanEvent(*e) for e in events], [SpanLink(*x) for x in links], res, scope, version,
    )  # fmt: skip
