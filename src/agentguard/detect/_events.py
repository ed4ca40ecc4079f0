"""The normalised event stream every detector reads, online (fed by the guard) and offline (replayed
from recorded spans by :mod:`agentguard.scan`).

A run is ``RunStart``, then for each tool call a ``ToolCall`` (before it runs), perhaps a
``PolicyEvent`` and a ``ToolResult``; for each model response an ``LLMTurn``; and ``RunEnd``. Every
event names the span it belongs to, so a signal lands on the span that caused it.

File writes carry a :class:`FileChange`: the old and new content of the file, reconstructed from the
full-context unified diff the tool wrapper records (``agentguard.file.diff``) so that online and
offline detectors see exactly the same text.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..action import Action
from ..telemetry import to_text

MAX_DIFF_SOURCE_BYTES = 64 * 1024

UNCAPTURED: Any = MappingProxyType({})
"""The arguments of a recorded tool call whose span does not carry them (content capture was off):
unknown, which detectors must not read as "no arguments" (every call would look the same)."""
"""Files larger than this are not read before a write (no diff is recorded for them)."""


@dataclass(slots=True)
class FileChange:
    """A file write: ``old`` is ``None`` for a new file (or one too large to read before the write)."""

    path: str
    old: str | None
    new: str | None
    diff: str | None = None


@dataclass(slots=True, kw_only=True)
class RunStart:
    span_id: str
    task: str | None = None
    scope_root: str | None = None
    scope_write: tuple[str, ...] = ()
    scope_hosts: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class ToolCall:
    """A tool call about to run (online: before the policy decides)."""

    span_id: str
    action: Action


@dataclass(slots=True, kw_only=True)
class PolicyEvent:
    span_id: str
    action: Action
    outcome: str
    rule_ids: tuple[str, ...] = ()
    reason: str = ""


@dataclass(slots=True, kw_only=True)
class ToolResult:
    """A tool call's outcome. ``output`` is the result as captured text (redacted, bounded)."""

    span_id: str
    action: Action
    result: Any = None
    error: str | None = None
    change: FileChange | None = None
    _output: str | None = field(default=None, repr=False)
    _has_output: bool = field(default=False, repr=False)

    @property
    def output(self) -> str:
        """The result as text, computed once (the same text the span's ``gen_ai.tool.call.result`` holds)."""
        if not self._has_output:
            self._output = "" if self.result is None else to_text(self.result)
            self._has_output = True
        return self._output or ""

    def digest(self) -> int:
        """A hash of the result (and error), cheap for plain values: equal results, equal digests."""
        result = self.result
        if not self._has_output and (result is None or type(result) in (str, int, float, bool)):
            return hash((result, self.error))
        return hash((self.output, self.error))

    @classmethod
    def from_text(
        cls, *, span_id: str, action: Action, output: str | None, error: str | None, change: FileChange | None
    ) -> ToolResult:
        r = cls(span_id=span_id, action=action, error=error, change=change)
        r._output = "" if output is None or output == "null" else output
        r._has_output = True
        return r


@dataclass(slots=True, kw_only=True)
class LLMTurn:
    """One model response: its text, the tool calls it asked for ``(name, arguments)``, a refusal."""

    span_id: str
    text: str = ""
    tool_calls: tuple[tuple[str, str], ...] = ()
    refusal: bool = False


@dataclass(slots=True, kw_only=True)
class RunEnd:
    span_id: str
    final: str | None = None
    """The agent's final message (its return value when a str), else ``None``."""
    error: str | None = None


Event = RunStart | ToolCall | PolicyEvent | ToolResult | LLMTurn | RunEnd


# -- diffs -------------------------------------------------------------------------------------------
def make_diff(path: str, old: str, new: str) -> str:
    """A unified diff of the whole file (every line is context), redacted and bounded like content."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    context = max(len(old_lines), len(new_lines)) + 1
    lines = difflib.unified_diff(old_lines, new_lines, f"a/{path}", f"b/{path}", n=context)
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return to_text("".join(out))


def split_diff(diff: str) -> tuple[str, str]:
    """The old and new text a full-context unified diff stands for (partial if it was truncated)."""
    old: list[str] = []
    new: list[str] = []
    last: list[list[str]] = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("--- ", "+++ ", "@@")):
            continue
        tag, body = line[:1], line[1:]
        if tag == " ":
            old.append(body)
            new.append(body)
            last = [old, new]
        elif tag == "-":
            old.append(body)
            last = [old]
        elif tag == "+":
            new.append(body)
            last = [new]
        elif tag == "\\":
            for side in last:
                if side and side[-1].endswith("\n"):
                    side[-1] = side[-1][:-1]
    return "".join(old), "".join(new)


def change_from_diff(path: str, diff: str) -> FileChange:
    old, new = split_diff(diff)
    return FileChange(path=path, old=old, new=new, diff=diff)


def change_from_arguments(action: Action) -> FileChange | None:
    """A file write known only from its arguments: Edit-style (old/new strings) or whole content."""
    args = action.arguments
    path = action.path or ""
    if "old_string" in args:
        old_s, new_s = args.get("old_string"), args.get("new_string")
        if isinstance(old_s, str) and isinstance(new_s, str):
            return FileChange(path, old_s, new_s)
    content = action.content
    if content is None:
        return None
    return FileChange(path, None, content)
