"""``scope_creep``: writes outside the scope the run declared (``agentguard.scope.write``).

- ``scope_creep.write_outside`` (medium): the first write in each directory outside the scope;
- ``scope_creep.spread`` (high, at the end of the run): how many writes landed outside the scope
  and across how many directories, when there were three or more.

Only runs that declare writable globs are judged.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from ..policy._globs import GlobSet
from ._engine import Detector, Session, signal
from ._events import RunEnd, RunStart, ToolCall
from ._signal import Signal

_MAX_DIRS = 64


class ScopeCreep(Detector):
    category = "scope_creep"
    call_kinds = frozenset({"file_write", "shell"})

    def __init__(self) -> None:
        self.globs: GlobSet | None = None
        self.count = 0
        self.dirs: set[str] = set()
        self.first_span: str | None = None

    def enabled(self, ev: RunStart) -> bool:
        return bool(ev.scope_write)

    def on_start(self, ev: RunStart, s: Session) -> Iterable[Signal] | None:
        if ev.scope_write:
            self.globs = GlobSet(ev.scope_write)
        return None

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        globs = self.globs
        if globs is None:
            return None
        a = ev.action
        paths: list[tuple[str | None, str]] = []  # (relative to the root or None, as shown)
        if a.kind == "file_write":
            if a.path:
                shown = s.relative(a.path)
                inside = not (shown.startswith(("/", "../")) or shown == "..")
                paths.append((shown if inside else None, shown))
        elif a.command:
            for p in s.facts(a).paths:
                if p.access in ("write", "delete") and not p.resolved.startswith("/dev/"):
                    paths.append((p.relative, p.relative if p.relative is not None else p.resolved))
        out: list[Signal] = []
        for rel, path in paths:
            if globs.match(rel, path if path.startswith("/") else None):
                continue
            self.count += 1
            self.first_span = self.first_span or ev.span_id
            directory = posixpath.dirname(path) or "."
            if directory not in self.dirs and len(self.dirs) < _MAX_DIRS:
                self.dirs.add(directory)
                out.append(
                    signal(
                        "scope_creep.write_outside",
                        "medium",
                        f"writes {path}, outside the declared scope",
                        span_ids=[ev.span_id],
                        confidence=0.8,
                        text=a.command or path,
                    )
                )
        return out

    def on_end(self, ev: RunEnd, s: Session) -> Iterable[Signal] | None:
        if self.count < 3:
            return None
        return [
            signal(
                "scope_creep.spread",
                "high",
                f"{self.count} writes outside the declared scope, across {len(self.dirs)} directories",
                span_ids=[ev.span_id, self.first_span],
                confidence=0.8,
                text=", ".join(sorted(self.dirs)[:8]),
            )
        ]
