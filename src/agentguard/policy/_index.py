"""Rules indexed by action kind (and, when a rule declares them, tool names).

A rule that declares ``kinds = frozenset({"shell"})`` is never called for a file write; one that also
declares ``tools = frozenset({"Bash"})`` is only called for that tool. The candidate list for a
``(kind, tool)`` pair is computed once, in policy order, so a policy of a thousand narrow rules costs
what its few relevant rules cost. Declarative rules (``rules.match``) are not called at all: they go
into a :class:`~._match.MatchIndex`, keyed by program, host, path and tool.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import NamedTuple

from ..action import ACTION_KINDS
from ._base import Rule, kinds_of, rule_id_of
from ._match import Match, MatchIndex

_CACHE_MAX = 4096


class Entry(NamedTuple):
    rule: Rule
    rule_id: str
    position: int
    tools: frozenset[str] | None


class RuleIndex:
    """``candidates(kind, tool)``: the rules that apply, in the order they were given."""

    __slots__ = ("_by_kind", "_cache", "_calls", "_lock", "entries", "matches", "positions")

    def __init__(self, rules: Sequence[Rule]) -> None:
        entries: list[Entry] = []
        by_kind: dict[str, list[Entry]] = {kind: [] for kind in ACTION_KINDS}
        matches: list[tuple[int, Match]] = []
        for position, rule in enumerate(rules):
            if not callable(rule):
                raise TypeError(f"a rule must be callable (action, run) -> Decision | None, not {rule!r}")
            if isinstance(rule, Match):
                entries.append(Entry(rule=rule, rule_id=rule.rule_id, position=position, tools=None))
                matches.append((position, rule))
                continue
            tools = getattr(rule, "tools", None)
            entry = Entry(
                rule=rule,
                rule_id=rule_id_of(rule),
                position=position,
                tools=frozenset(tools) if tools is not None and not callable(tools) else None,
            )
            entries.append(entry)
            for kind in kinds_of(rule) or ACTION_KINDS:
                by_kind[kind].append(entry)
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.matches: MatchIndex | None = MatchIndex(matches) if matches else None
        """The declarative rules, indexed (``None`` when there are none)."""
        self.positions: dict[str, int] = {}
        """Each rule id's first position: votes of both kinds of rule are listed in policy order."""
        for e in entries:
            self.positions.setdefault(e.rule_id, e.position)
        self._by_kind = {kind: tuple(found) for kind, found in by_kind.items()}
        self._cache: dict[tuple[str, str], tuple[Entry, ...]] = {}
        self._calls: dict[tuple[str, str], tuple[tuple[Rule, str], ...]] = {}
        self._lock = threading.Lock()

    def calls(self, kind: str, tool: str) -> tuple[tuple[Rule, str], ...]:
        """``candidates`` as ``(rule, rule_id)`` pairs: what the policy's loop unpacks per call."""
        found = self._calls.get((kind, tool))
        if found is not None:
            return found
        found = tuple((e.rule, e.rule_id) for e in self.candidates(kind, tool))
        with self._lock:
            if len(self._calls) >= _CACHE_MAX:
                self._calls.clear()
            self._calls[(kind, tool)] = found
        return found

    def candidates(self, kind: str, tool: str) -> tuple[Entry, ...]:
        key = (kind, tool)
        found = self._cache.get(key)
        if found is not None:
            return found
        found = tuple(e for e in self._by_kind.get(kind, ()) if e.tools is None or tool in e.tools)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = found
        return found
