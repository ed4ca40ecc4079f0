"""A recorded session: every span of the traces that form one conversation, with where they came from.

Sessions are what :func:`agentguard.traces.assemble` yields and what a reader
(:class:`agentguard.traces.Reader`) reads. Spans are in start order (ties by span id), whatever order
the files had them in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ._record import Span


@dataclass(slots=True, kw_only=True)
class Session:
    """One session's spans.

    ``id`` is the conversation id when a span of the session carries one, else the agentguard run id,
    else the id of its first trace. ``traces`` lists its trace ids (sorted), ``sources`` the files (or
    stores) its spans were read from, in the order they were given.
    """

    id: str
    spans: list[Span] = field(default_factory=list)
    traces: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The first source (what a one-file scan reports)."""
        return self.sources[0] if self.sources else ""

    @property
    def start(self) -> int:
        """The first span's start (spans are in start order), 0 for an empty session."""
        return self.spans[0].start if self.spans else 0

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def by_id(self) -> dict[str, Span]:
        """The spans by span id (a reader walking parents builds it once)."""
        return {s.span_id: s for s in self.spans}
