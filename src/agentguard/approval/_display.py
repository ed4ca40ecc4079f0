r"""Showing an agent's text to a human without letting it steer the terminal.

>>> visible("rm -rf ~ \x1b[8mhidden\x1b[0m")
'rm -rf ~ \\x1b[8mhidden\\x1b[0m'
"""

from __future__ import annotations

import unicodedata
from typing import Final


def visible(text: str | None) -> str:
    """``text`` with every control, format or separator character as an escape (newlines too).

    Terminal escape sequences, carriage returns, bidirectional overrides and zero-width characters
    are what an agent could use to make a command look like another one; written as escapes they
    are shown, not obeyed.
    """
    if text is None:
        return ""
    out: list[str] = []
    for ch in text:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in _HIDDEN_CATEGORIES):
            out.append(ch)
        else:
            out.append(
                ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
            )
    return "".join(out)


_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
