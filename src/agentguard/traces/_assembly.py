"""Session assembly: span records in any order, from any number of files, grouped into sessions.

>>> from agentguard.traces import Span, assemble
>>> spans = [Span(trace_id="a" * 32, span_id="1" * 16, parent_id="2" * 16, name="chat"),
...          Span(trace_id="a" * 32, span_id="2" * 16, name="invoke_agent",
...               attributes={"gen_ai.conversation.id": "conv-1"})]
>>> [(s.id, len(s.spans)) for s in assemble(spans)]
[('conv-1', 2)]

The rule (:func:`session_key` reads the ids):

- every span of a trace belongs to the trace's session, whichever span carries the conversation id
  (``gen_ai.conversation.id``, OpenInference ``session.id``, ``langfuse.session.id``, traceloop
  association properties named like a session, conversation, thread or chat id);
- traces sharing a conversation id, or an agentguard run id (``agentguard.run.id``), are one session;
- a trace joined to another by trace context (a span whose parent is a span of the other trace, or a
  server or consumer root span linking to a span of it) joins its session.

A session's id is its conversation id (the smallest, should several meet), else its run id, else its
smallest trace id; its spans come in start order. Nothing depends on the order the spans arrive in or
how they are split across files: spans are spooled (to disk past a threshold, see
:class:`~agentguard.traces._spool.Spool`) until the input ends, then sessions are built one at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any, Final

from .._lazyre import lazy_compile
from ..telemetry import semconv as sc
from ._record import Span
from ._session import Session
from ._spool import DEFAULT_MEMORY_SPANS, Row, Spool

CONVERSATION_ATTRIBUTES: Final = (sc.GEN_AI_CONVERSATION_ID, "session.id", "langfuse.session.id")
"""Span attributes that name a conversation, in every convention read."""
TRACELOOP_ASSOCIATION: Final = "traceloop.association.properties."
_SESSION_LIKE: Final = lazy_compile(r"(?:session|conversation|thread|chat)(?:[._-]?id)?", re.IGNORECASE)
ASSEMBLY_ATTRIBUTES: Final = frozenset({*CONVERSATION_ATTRIBUTES, sc.RUN_ID})
ASSEMBLY_PREFIXES: Final = (TRACELOOP_ASSOCIATION,)
_JOINING_KINDS: Final = frozenset({2, 5})  # SERVER, CONSUMER: the receiving side of a propagated context
_RUN_ID: Final = sc.RUN_ID
_CONVERSATION: Final = "c"
_RUN: Final = "r"


def _id(value: Any) -> str | None:
    if type(value) is str:
        return value or None
    if value is None or isinstance(value, bool | list | dict):
        return None
    return str(value)


def _session_like(key: str) -> bool:
    return key.startswith(TRACELOOP_ASSOCIATION) and bool(
        _SESSION_LIKE.fullmatch(key[len(TRACELOOP_ASSOCIATION) :])
    )


_MAX_KNOWN: Final = 50_000
_known_keys: set[str] = set()
"""Attribute keys already classified (bounded): most spans repeat a small vocabulary of keys."""
_session_keys: set[str] = set()
"""The known keys that are traceloop association properties naming a session."""


def _association_ids(attributes: dict[str, Any]) -> list[str]:
    if not _known_keys.issuperset(attributes):
        for key in attributes:
            if key not in _known_keys and isinstance(key, str):
                if len(_known_keys) < _MAX_KNOWN:
                    _known_keys.add(key)
                    if _session_like(key):
                        _session_keys.add(key)
                elif _session_like(key):  # the cache is full: classify this one directly
                    _session_keys.add(key)
    if _session_keys.isdisjoint(attributes):
        return []
    return [v for k in _session_keys.intersection(attributes) if (v := _id(attributes[k])) is not None]


def session_key(attributes: dict[str, Any]) -> tuple[list[str], str | None]:
    """The conversation ids and the run id a span's attributes name (empty list / ``None`` if none)."""
    found: list[str] = []
    for key in CONVERSATION_ATTRIBUTES:
        value = attributes.get(key)
        if value is not None and (value if type(value) is str else (value := _id(value))):
            found.append(value)
    if not _known_keys.issuperset(attributes) or not _session_keys.isdisjoint(attributes):
        found.extend(_association_ids(attributes))
    run = attributes.get(_RUN_ID)
    return found, (run or None) if type(run) is str else _id(run)


class UnionFind:
    """Union-find over string nodes (trace ids and prefixed keys share one namespace); the smaller
    string becomes the root, so the result does not depend on the order of the unions."""

    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            parent[root] = parent[parent[root]]
            root = parent[root]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


class SessionAssembler:
    """Add spans (with the number of the source they came from), then iterate :meth:`sessions`.

    ``sources`` names the sources by number. ``memory_spans`` spans are held in memory; past that the
    spool moves to a temporary SQLite file in ``spill_dir``.
    """

    def __init__(
        self,
        *,
        sources: Sequence[str] = (),
        memory_spans: int = DEFAULT_MEMORY_SPANS,
        spill_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.sources = list(sources)
        self.spool = Spool(memory_spans=memory_spans, directory=spill_dir)
        self.groups = UnionFind()
        self._links: list[tuple[str, str, str]] = []
        self._last: tuple[str, list[str], str | None] = ("", [], None)

    @property
    def spans(self) -> int:
        return self.spool.count

    def add(self, span: Span, source: int = 0) -> None:
        self.spool.add(span, source)
        trace_id = span.trace_id
        groups = self.groups
        if trace_id not in groups.parent:
            groups.parent[trace_id] = trace_id
        attrs = span.attributes
        if attrs:
            conversations, run = session_key(attrs)
            if conversations or run is not None:
                key = (trace_id, conversations, run)
                if key != self._last:  # the spans of a trace mostly repeat the same ids
                    self._last = key
                    for node in key_nodes(conversations, run):
                        groups.union(trace_id, node)
        if span.links:
            for other, span_id in joining_links(span):
                self._links.append((trace_id, other, span_id))

    def _join_by_context(self) -> None:
        for trace_id, other in self.spool.cross_trace_parents():
            self.groups.union(trace_id, other)
        if self._links:
            holders = self.spool.traces_holding(span_id for _, _, span_id in self._links)
            for trace_id, other, span_id in self._links:
                if holders.get(span_id) == other:
                    self.groups.union(trace_id, other)

    def sessions(self) -> Iterator[Session]:
        """Every session, once the input has ended (then the spool is closed)."""
        try:
            self._join_by_context()
            members: dict[str, list[str]] = {}
            find = self.groups.find
            for node in list(self.groups.parent):
                members.setdefault(find(node), []).append(node)
            for nodes in sorted(members.values(), key=min):
                traces = sorted(n for n in nodes if "\0" not in n)
                if traces:
                    yield self._session(nodes, traces)
        finally:
            self.spool.close()

    def _session(self, nodes: list[str], traces: list[str]) -> Session:
        return build_session(session_id(nodes), traces, self.spool.fetch(traces), self.sources)

    def close(self) -> None:
        self.spool.close()


_ROW_ORDER: Final = itemgetter(0, 1, 2, 3)


def key_nodes(conversations: Iterable[str], run: str | None) -> list[str]:
    """The union-find nodes a span's conversation ids and run id (:func:`session_key`) join its
    trace to; a trace's own node is its trace id."""
    nodes = [f"{_CONVERSATION}\0{c}" for c in conversations]
    if run is not None:
        nodes.append(f"{_RUN}\0{run}")
    return nodes


def joining_links(span: Span) -> list[tuple[str, str]]:
    """``(other trace, span id)`` for each link of ``span`` that joins its trace to the other trace's
    session when that trace holds the span: links of a root span, or of a server or consumer span
    (the receiving side of a propagated context), to another trace."""
    if not span.links or (span.parent_id and span.kind not in _JOINING_KINDS):
        return []
    return [(x.trace_id, x.span_id) for x in span.links if x.trace_id and x.trace_id != span.trace_id]


def session_id(nodes: Iterable[str]) -> str:
    """A session's id from the nodes of its component: the smallest conversation id, else the
    smallest run id, else the smallest trace id."""
    conversations: list[str] = []
    runs: list[str] = []
    traces: list[str] = []
    for n in nodes:
        if n.startswith(_CONVERSATION + "\0"):
            conversations.append(n[2:])
        elif n.startswith(_RUN + "\0"):
            runs.append(n[2:])
        else:
            traces.append(n)
    return min(conversations) if conversations else min(runs) if runs else min(traces)


def build_session(sid: str, traces: Sequence[str], rows: list[Row], sources: Sequence[str] = ()) -> Session:
    """The session ``sid`` of ``traces`` from its spool rows (in any order; sorted here): spans in
    start order, the same span read twice kept once, ``sources`` naming the source numbers."""
    rows.sort(key=_ROW_ORDER)
    spans: list[Span] = []
    used: set[int] = set()
    prev: tuple[int, str, str] | None = None
    for start, span_id, trace_id, source, span in rows:
        key = (start, span_id, trace_id)
        if key == prev:  # the same span read twice (one file given twice, a store and its export)
            continue
        prev = key
        spans.append(span)
        used.add(source)
    names = tuple(sources[i] if i < len(sources) else str(i) for i in sorted(used))
    return Session(id=sid, spans=spans, traces=tuple(sorted(traces)), sources=names)


def assemble(
    spans: Iterable[Span],
    *,
    memory_spans: int = DEFAULT_MEMORY_SPANS,
    spill_dir: str | os.PathLike[str] | None = None,
) -> Iterator[Session]:
    """The sessions of ``spans`` (see the module docstring)."""
    asm = SessionAssembler(memory_spans=memory_spans, spill_dir=spill_dir)
    for span in spans:
        asm.add(span)
    return asm.sessions()
