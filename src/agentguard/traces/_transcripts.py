"""Agent transcripts as scan input: which format a file is in, and its span records.

:func:`sniff` reads a file's first JSON line: a Claude Code session transcript, a Codex rollout, or
neither (``None``: OTLP or something else). :func:`read_transcript` gives the span records of a
transcript, a Claude Code session's sub-agent transcripts included (they join its session).
:data:`FORMATS` registers both as scan input. A sub-agent transcript read on its own and again with
its session gives the same span records (same ids), which session assembly counts once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from . import _claude_code, _codex
from ._files import FileFormat, Issues, ReadIssue
from ._readers import AttributeFilter
from ._record import Span

Format = Literal["claude_code", "codex"]


def _lines(path: Path) -> Iterator[Mapping[str, Any]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, Mapping):
                yield line


def sniff(path: Path) -> Format | None:
    """The transcript format of ``path`` (from its first JSON object line), or ``None``."""
    if path.name.endswith(".gz") or path.suffix not in (".jsonl", ".json"):
        return None
    try:
        for line in _lines(path):
            if "resourceSpans" in line or "resourceLogs" in line:
                return None
            if _codex.looks_like(line):
                return "codex"
            if _claude_code.looks_like(line):
                return "claude_code"
            return None
    except OSError:
        return None
    return None


def read_transcript(path: Path, kind: Format) -> list[Span]:
    """The span records of one transcript file (and, for a Claude Code session, its sub-agents)."""
    if kind == "codex":
        return _codex.read_lines(_lines(path), str(path))
    spans = _claude_code.read_lines(_lines(path), str(path))
    if not _claude_code.is_subagent_file(path):
        for sub in _claude_code.subagent_files(path):
            spans.extend(_claude_code.read_lines(_lines(sub), str(sub)))
    return spans


def _reader(kind: Format) -> Any:
    def read(path: Path, issues: Issues, attributes: AttributeFilter) -> Iterator[Span]:
        try:
            spans = read_transcript(path, kind)
        except OSError as exc:
            issues.append(ReadIssue(str(path), 0, f"cannot read: {exc}", fatal=True))
            return
        yield from spans

    return read


FORMATS = (
    FileFormat(name="claude_code", claims=lambda p: sniff(p) == "claude_code", read=_reader("claude_code")),
    FileFormat(name="codex", claims=lambda p: sniff(p) == "codex", read=_reader("codex")),
)
"""The transcript formats, for :func:`agentguard.traces.register_format`."""
