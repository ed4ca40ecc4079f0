"""Helpers shared by the CLI's commands: exit codes, the one-line error, colour, numbers and tables.

Exit codes are the same for every command: :data:`EXIT_OK` (0), :data:`EXIT_ERROR` (1: the command
ran and failed, or found what ``--fail-on`` asked about), :data:`EXIT_USAGE` (64, ``EX_USAGE`` of
``sysexits.h``: the command line itself is wrong) and :data:`EXIT_INTERRUPTED` (130). ``check`` and
``hook`` add their documented decision codes (2 deny, 3 ask), which no usage error can be mistaken for.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal, TextIO

if TYPE_CHECKING:
    import argparse

Align = Literal["<", ">"]

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 64
EXIT_INTERRUPTED: Final = 130

# ANSI SGR codes per severity and per decision, shared by every command that colours them.
SEVERITY_SGR: Final = {"critical": "1;31", "high": "31", "medium": "33", "low": "36", "info": "2"}
OUTCOME_SGR: Final = {"deny": "1;31", "ask": "1;33", "allow": "32"}


class CommandError(Exception):
    """An expected failure: printed as one line on stderr, exit status ``status`` (no traceback)."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def use_color(args: argparse.Namespace | None = None, stream: TextIO | None = None) -> bool:
    """Whether to colour ``stream`` (default stdout): a terminal, no ``--no-color``, no ``NO_COLOR``.

    ``NO_COLOR`` set to anything but the empty string turns colour off (https://no-color.org).
    """
    if args is not None and getattr(args, "no_color", False):
        return False
    if os.environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream or sys.stdout, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


def paint(text: str, sgr: str | None, color: bool) -> str:
    """``text`` in the ANSI style ``sgr`` (e.g. ``"1;31"``) when ``color``, else unchanged."""
    return f"\033[{sgr}m{text}\033[0m" if color and sgr else text


def plural(n: int, singular: str, plural_: str | None = None) -> str:
    """``"1 refusal"``, ``"2 refusals"``, ``"0 refusals"`` (thousands separated)."""
    word = singular if n == 1 else (plural_ or singular + "s")
    return f"{n:,} {word}"


def format_usd(usd: float) -> str:
    """A cost with two significant digits below a cent (``$0.000041``), cents above (``$12.34``).

    A small cost is never printed as ``$0.0000``; zero is ``$0``.
    """
    if usd == 0:
        return "$0"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    if abs(usd) >= 0.01:
        return f"${usd:.4f}"
    decimals = min(12, 1 - math.floor(math.log10(abs(usd))))
    return f"${usd:.{decimals}f}"


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
