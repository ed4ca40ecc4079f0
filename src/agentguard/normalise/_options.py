"""A small getopt for other programs' command lines: which words are options, values or operands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._words import Word

_tuple_new = tuple.__new__


class Parsed(NamedTuple):
    options: list[tuple[str, Word | None]]
    """``("-o", value)``, ``("--output", value)``, ``("-r", None)``; clustered flags split."""
    operands: list[Word]


def getopt(
    args: Sequence[Word],
    *,
    short: str = "",
    long: frozenset[str] = frozenset(),
    stop_at_operand: bool = False,
) -> Parsed:
    """Split ``args``; ``short`` lists letters taking a value, ``long`` names (no dashes) taking one.

    ``stop_at_operand`` stops at the first operand (POSIX order, used for wrappers: the rest is a
    command line of its own).
    """
    options: list[tuple[str, Word | None]] = []
    operands: list[Word] = []
    i, n = 0, len(args)
    while i < n:
        w = args[i]
        v = w.value
        if not w.static or v == "-" or not v.startswith("-"):
            operands.append(w)
            i += 1
            if stop_at_operand:
                operands.extend(args[i:])
                break
            continue
        if v == "--":
            operands.extend(args[i + 1 :])
            break
        if v.startswith("--"):
            name, eq, value = v[2:].partition("=")
            if eq:
                options.append(("--" + name, Word(value, True)))
            elif name in long and i + 1 < n:
                options.append(("--" + name, args[i + 1]))
                i += 1
            else:
                options.append(("--" + name, None))
            i += 1
            continue
        j = 1
        while j < len(v):
            letter = v[j]
            if letter in short:
                rest = v[j + 1 :]
                if rest:
                    options.append(("-" + letter, Word(rest, True)))
                elif i + 1 < n:
                    options.append(("-" + letter, args[i + 1]))
                    i += 1
                else:
                    options.append(("-" + letter, None))
                break
            options.append(("-" + letter, None))
            j += 1
        i += 1
    return _tuple_new(Parsed, (options, operands))


def has(parsed: Parsed, *names: str) -> bool:
    for name, _ in parsed[0]:  # noqa: SIM110 (a loop: any(generator) costs a frame per command)
        if name in names:
            return True
    return False


def values(parsed: Parsed, *names: str) -> list[Word]:
    options = parsed[0]
    if not options:
        return []
    return [value for name, value in options if name in names and value is not None]
