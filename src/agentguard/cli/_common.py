"""Helpers shared by the CLI's commands: the one-line error, and plain-text tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Literal, TextIO

Align = Literal["<", ">"]


class CommandError(Exception):
    """An expected failure: printed as one line on stderr, exit status ``status`` (no traceback)."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def can_encode(text: str, stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stdout) can print ``text`` (e.g. "—" on an ASCII terminal)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def truncate(text: str, width: int, ellipsis: str = "…") -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    one_line = " ".join(text.split())
    if len(one_line) <= width:
        return one_line
    return one_line[: max(0, width - len(ellipsis))] + ellipsis


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[Align]) -> str:
    """Columns padded to their widest cell, two spaces apart, trailing spaces stripped."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])
