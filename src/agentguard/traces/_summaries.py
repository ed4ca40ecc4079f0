"""Session attribution in two passes, for inputs read in parallel (the Ray scan): each reader
summarises its spans per trace, one place joins the summaries into sessions.

>>> from agentguard.traces import SessionIndex, Span, summarise
>>> a = summarise([Span(trace_id="a" * 32, span_id="1" * 16, name="invoke_agent",
...                     attributes={"gen_ai.conversation.id": "conv-1"})])
>>> b = summarise([Span(trace_id="b" * 32, span_id="2" * 16, parent_id="1" * 16, name="tools/call")])
>>> index = SessionIndex()
>>> index.add(a); index.add(b)
>>> sorted(index.wanted())                       # the span ids whose traces decide a join
['1111111111111111']
>>> index.resolve({"1" * 16: {"a" * 32}})        # the traces holding them, from a second pass
{'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': 'conv-1', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb': 'conv-1'}

The rule is :class:`~agentguard.traces.SessionAssembler`'s (the module docstring of
:mod:`agentguard.traces._assembly`): the same conversation or run id, a span whose parent is a span
of another trace (and of no span of its own trace), a joining link to a span the linked trace holds.
A trace may be summarised in several parts (split across files); the parts add up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ._assembly import UnionFind, joining_links, key_nodes, session_id, session_key
from ._record import Span


@dataclass(slots=True)
class TraceSummary:
    """What session attribution needs of some spans of one trace."""

    trace_id: str
    nodes: list[str] = field(default_factory=list)
    """The conversation and run nodes its spans name (see :func:`~agentguard.traces.key_nodes`)."""
    parents: list[str] = field(default_factory=list)
    """Parent span ids of its spans that are none of these spans' own ids."""
    links: list[tuple[str, str]] = field(default_factory=list)
    """``(other trace, span id)`` of its joining links."""
    span_ids: list[str] = field(default_factory=list)


def summarise(spans: Iterable[Span]) -> TraceSummary:
    """The summary of ``spans``, all of one trace (the first span's)."""
    summary: TraceSummary | None = None
    nodes: set[str] = set()
    own: set[str] = set()
    parents: set[str] = set()
    last: tuple[list[str], str | None] = ([], None)
    for span in spans:
        if summary is None:
            summary = TraceSummary(span.trace_id)
        own.add(span.span_id)
        if span.parent_id:
            parents.add(span.parent_id)
        if span.attributes:
            key = session_key(span.attributes)
            if (key[0] or key[1] is not None) and key != last:
                last = key
                nodes.update(key_nodes(*key))
        if span.links:
            summary.links.extend(joining_links(span))
    if summary is None:
        raise ValueError("summarise() needs at least one span")
    summary.nodes = sorted(nodes)
    summary.parents = sorted(parents - own)
    summary.span_ids = sorted(own)
    return summary


class SessionIndex:
    """Trace summaries joined into sessions: :meth:`add` every summary, ask the traces holding the
    :meth:`wanted` span ids, then :meth:`resolve`."""

    __slots__ = ("_links", "_parents", "groups")

    def __init__(self) -> None:
        self.groups = UnionFind()
        self._parents: dict[str, set[str]] = {}
        self._links: list[tuple[str, str, str]] = []

    def add(self, summary: TraceSummary) -> None:
        trace_id = summary.trace_id
        groups = self.groups
        groups.find(trace_id)
        for node in summary.nodes:
            groups.union(trace_id, node)
        if summary.parents:
            self._parents.setdefault(trace_id, set()).update(summary.parents)
        for other, span_id in summary.links:
            self._links.append((trace_id, other, span_id))

    def wanted(self) -> set[str]:
        """The span ids whose holding traces :meth:`resolve` needs."""
        out: set[str] = set()
        for parents in self._parents.values():
            out.update(parents)
        out.update(span_id for _, _, span_id in self._links)
        return out

    def resolve(self, holders: Mapping[str, Collection[str]]) -> dict[str, str]:
        """Each trace's session id, given the traces holding each :meth:`wanted` span id."""
        groups = self.groups
        for trace_id, parents in self._parents.items():
            for parent in parents:
                held = holders.get(parent, ())
                if trace_id in held:  # a span of its own trace (read in another part)
                    continue
                for other in held:
                    groups.union(trace_id, other)
        for trace_id, other, span_id in self._links:
            if other in holders.get(span_id, ()):
                groups.union(trace_id, other)
        members: dict[str, list[str]] = {}
        find = groups.find
        for node in list(groups.parent):
            members.setdefault(find(node), []).append(node)
        out: dict[str, str] = {}
        for nodes in members.values():
            traces = [n for n in nodes if "\0" not in n]
            if traces:
                sid = session_id(nodes)
                for t in traces:
                    out[t] = sid
        return out
