"""Readers: from a session's span records to the detector event stream, one reader per convention.

A :class:`Reader` reads the spans written in one convention (agentguard's own, OpenInference,
traceloop, ...) and returns ``(time, order, event)`` tuples; :func:`session_events` runs every
registered reader over a session and merges what they return in time order (``order`` breaks ties
within a span: a tool call before its decision before its result). Readers declare the span attributes
they read, so the codec decodes only those::

    from agentguard.traces import Reader, register_reader
    from agentguard.detect import ToolCall

    def read_mine(session):
        for span in session.spans:
            if "my.tool" in span.attributes:
                yield span.start, 1, ToolCall(span_id=span.span_id, action=...)

    register_reader(Reader(name="mine", read=read_mine, attributes=frozenset({"my.tool"})))

Registering a reader under a name already taken replaces it. A reader that raises loses its own events
for that session (logged once); the others still count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from ._session import Session

if TYPE_CHECKING:
    from ..detect import Event

_log = logging.getLogger(__name__)

TimedEvent = tuple[int, int, "Event"]
"""``(time in ns, order within the span, event)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reader:
    """One convention's reader (see the module docstring)."""

    name: str
    read: Callable[[Session], Iterable[TimedEvent]]
    attributes: frozenset[str] = frozenset()
    """Span attribute keys it reads (event attributes are always decoded)."""
    prefixes: tuple[str, ...] = ()
    """And span attribute keys starting with these (``llm.input_messages.``...)."""
    all_attributes: bool = False
    """Whether it needs every span attribute (no filtering at all)."""


@dataclass(frozen=True, slots=True)
class AttributeFilter:
    """The span attributes the codec decodes: ``keys`` and keys starting with ``prefixes``; ``keys``
    ``None`` means all of them."""

    keys: frozenset[str] | None
    prefixes: tuple[str, ...] = ()


_lock = threading.Lock()
_registry: dict[str, Reader] = {}
_failed: set[str] = set()


def register_reader(reader: Reader) -> None:
    """Add ``reader`` (replacing one of the same name); it reads every session scanned from now on."""
    with _lock:
        _registry[reader.name] = reader


def unregister_reader(name: str) -> None:
    """Remove the reader called ``name`` (nothing happens when there is none)."""
    with _lock:
        _registry.pop(name, None)


def readers() -> tuple[Reader, ...]:
    """The registered readers, in registration order (the built-ins first)."""
    from . import _builtin_readers

    _builtin_readers.register()
    with _lock:
        return tuple(_registry.values())


def attribute_filter(chosen: Sequence[Reader] | None = None) -> AttributeFilter:
    """What the given readers (default: all registered) and session assembly read."""
    from ._assembly import ASSEMBLY_ATTRIBUTES, ASSEMBLY_PREFIXES

    rs = readers() if chosen is None else tuple(chosen)
    if any(r.all_attributes for r in rs):
        return AttributeFilter(None)
    keys = set(ASSEMBLY_ATTRIBUTES)
    prefixes = list(ASSEMBLY_PREFIXES)
    for r in rs:
        keys.update(r.attributes)
        prefixes.extend(p for p in r.prefixes if p not in prefixes)
    return AttributeFilter(frozenset(keys), tuple(prefixes))


_TIME_ORDER = itemgetter(0, 1)


def session_events(session: Session, chosen: Sequence[Reader] | None = None) -> list[Event]:
    """Every reader's events for ``session``, in time order (ties: span order, then reader order)."""
    timed: list[TimedEvent] = []
    for reader in readers() if chosen is None else chosen:
        try:
            timed.extend(reader.read(session))
        except Exception:  # a reader's bug costs its own events, never the scan
            if reader.name not in _failed:
                _failed.add(reader.name)
                _log.warning("trace reader %r failed; its events are skipped", reader.name, exc_info=True)
    timed.sort(key=_TIME_ORDER)  # stable: events at the same (time, order) keep their span order
    return [ev for _, _, ev in timed]
