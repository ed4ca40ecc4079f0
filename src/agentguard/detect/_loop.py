"""``loop``: the same tool call with the same arguments, again and again, with nothing changing.

``loop.repeated_call`` (medium): the third identical call (same tool, same arguments) with no other
state-changing action in between and the same result each time; reported once per call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from .._lazyre import lazy_compile
from ._engine import Detector, Session, contains_any, signal
from ._events import UNCAPTURED, ToolCall, ToolResult
from ._signal import Signal

_MUTATING = lazy_compile(
    r">|\b(?:rm|mv|cp|touch|mkdir|tee|sed\s+-i|truncate|patch|chmod|install|uninstall|git\s+(?:commit|add"
    r"|checkout|reset|apply|merge|rebase|stash|pull|restore|switch))\b"
)
# Every match of _MUTATING contains one of these ("uninstall" has "install").
_MUTATING_LITERALS = (">", "rm", "mv", "cp", "touch", "mkdir", "tee", "sed", "truncate", "patch", "chmod",
                      "install", "git")  # fmt: skip
_MAX_KEYS = 64


def _mutating(command: str) -> bool:
    return contains_any(command, _MUTATING_LITERALS) and _MUTATING.search(command) is not None


_THRESHOLD = 3


def _key(tool: str, arguments: Any) -> Any:
    key = (tool, tuple(arguments.items()))
    try:
        hash(key)
    except TypeError:
        return (tool, repr(sorted(arguments.items(), key=lambda kv: str(kv[0])))[:4096])
    return key


class _Entry:
    __slots__ = ("clock", "count", "first_span", "output", "reported")

    def __init__(self, span: str, clock: int) -> None:
        self.count = 1
        self.first_span = span
        self.clock = clock
        self.output: int | None = None
        self.reported = False


class Loop(Detector):
    category = "loop"
    call_kinds = frozenset({"file_read", "shell", "network", "llm", "agent", "other"})
    result_kinds = call_kinds

    def __init__(self) -> None:
        self.calls: OrderedDict[Any, _Entry] = OrderedDict()
        self.current: Any = None
        self.mutations = 0

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        if a.arguments is UNCAPTURED:  # a recorded call without its arguments: no basis to compare
            self.current = None
            return None
        key = _key(a.tool, a.arguments)
        clock = s.writes + self.mutations
        entry = self.calls.get(key)
        if entry is None:
            entry = self.calls[key] = _Entry(ev.span_id, clock)
            if len(self.calls) > _MAX_KEYS:
                self.calls.popitem(last=False)
        elif entry.clock != clock:  # something changed state since: count from here
            entry.count = 1
            entry.first_span = ev.span_id
            entry.output = None
        else:
            entry.count += 1
            self.calls.move_to_end(key)
        if a.kind == "shell" and _mutating(a.command or ""):
            self.mutations += 1
        entry.clock = s.writes + self.mutations  # its own effect is not a change between repeats
        self.current = key
        return None

    def on_result(self, ev: ToolResult, s: Session) -> Iterable[Signal] | None:
        entry = self.calls.get(self.current)
        if entry is None or entry.count < 2:
            return None
        digest = ev.digest()
        if entry.count == 2 or entry.output != digest:
            if entry.output is not None and entry.output != digest:
                entry.count = 2  # the result changed: state changed, count from here
            entry.output = digest
            return None
        if entry.count < _THRESHOLD or entry.reported:
            return None
        entry.reported = True
        a = ev.action
        return [
            signal(
                "loop.repeated_call",
                "medium",
                f"{a.tool} called {entry.count} times with the same arguments and the same result",
                span_ids=[ev.span_id, entry.first_span],
                confidence=0.8,
                text=a.command or a.path or a.url or a.tool,
            )
        ]
