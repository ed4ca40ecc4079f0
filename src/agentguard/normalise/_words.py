"""Shell words: the value the shell hands to ``exec`` after quote removal and expansion.

``r\\m``, ``'r'm``, ``"r"m`` and ``$'\\x72m'`` are all ``rm``; ``{src,/etc}`` is two words; ``~/x`` is
below the home directory; a word with ``$X``, ``$(...)`` or ``${...}`` is *dynamic* (its value is known
only at run time) and keeps its text as written. Quoted glob and brace characters stay literal: they are
carried through expansion as private-use stand-ins and put back at the end.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, NamedTuple

from .._lazyre import lazy_compile

if TYPE_CHECKING:
    from tree_sitter import Node

# Quoted characters that must not take part in brace, glob or tilde expansion.
_PROTECT = str.maketrans(
    {"{": "\ue000", "}": "\ue001", ",": "\ue002", "*": "\ue003", "?": "\ue004", "[": "\ue005", "~": "\ue006"}
)
_RESTORE = str.maketrans(
    {
        v: k
        for k, v in {
            "{": "\ue000",
            "}": "\ue001",
            ",": "\ue002",
            "*": "\ue003",
            "?": "\ue004",
            "[": "\ue005",
            "~": "\ue006",
        }.items()
    }
)
_SPECIAL = frozenset("\\{*?[~")
_GLOB = frozenset("*?[")
_BRACE_LIMIT = 64
_ANSI = lazy_compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.S)
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_DYNAMIC_TYPES = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "process_substitution"}
)


class Word(NamedTuple):
    """One word (a tuple: cheap to build, and words are built for every argument)."""

    value: str
    """The value after quote removal (dynamic parts as written)."""
    static: bool
    glob: bool = False
    procsub: bool = False
    """The word is (or contains) a process substitution ``<(...)``: a pipe, not a file."""


def text(node: Node, src: bytes) -> str:
    """The source text of ``node`` (slicing the source is much cheaper than ``Node.text``)."""
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def decode_ansi_c(body: str) -> str:
    """The value of ``$'...'`` (without the ``$'`` and ``'``)."""

    def sub(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        try:
            if head == "x":
                return chr(int(esc[1:], 16))
            if head in "uU":
                return chr(int(esc[1:], 16))
            if head.isdigit():
                return chr(int(esc, 8) & 0xFF)
        except (ValueError, OverflowError):
            return esc
        if head == "c" and len(esc) == 2:
            return chr(ord(esc[1]) & 0x1F)
        return _ANSI_SIMPLE.get(esc, "\\" + esc)

    return _ANSI.sub(sub, body)


def _unescape_unquoted(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            if nxt != "\n":
                out.append(nxt.translate(_PROTECT))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unescape_double(raw: str) -> str:
    if "\\" not in raw:
        return raw.translate(_PROTECT)
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n and raw[i + 1] in '$`"\\\n':
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).translate(_PROTECT)


class _Acc:
    __slots__ = ("dynamic", "parts", "procsub")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.dynamic = False
        self.procsub = False


def _collect(node: Node, acc: _Acc, home: str, src: bytes) -> None:
    t = node.type
    if t in {"word", "number", "brace_expression"}:
        acc.parts.append(_unescape_unquoted(text(node, src)))
    elif t == "raw_string":
        acc.parts.append(text(node, src)[1:-1].translate(_PROTECT))
    elif t == "ansi_c_string":
        acc.parts.append(decode_ansi_c(text(node, src)[2:-1]).translate(_PROTECT))
    elif t in ("string", "translated_string"):
        for child in node.named_children:
            if child.type == "string_content":
                acc.parts.append(_unescape_double(text(child, src)))
            else:
                _collect(child, acc, home, src)
    elif t == "concatenation":
        for child in node.children:
            _collect(child, acc, home, src)
    elif t in _DYNAMIC_TYPES:
        raw = text(node, src)
        if raw in ("$HOME", "${HOME}") and home:
            acc.parts.append(home)
            return
        acc.dynamic = True
        acc.procsub = acc.procsub or t == "process_substitution"
        acc.parts.append(raw)
    else:
        acc.dynamic = True
        acc.parts.append(text(node, src))


def _tilde(value: str, home: str) -> str:
    if not value.startswith("~"):
        return value
    head, sep, tail = value.partition("/")
    if head == "~":
        return (home or "~") + sep + tail
    if head in ("~+", "~-"):
        return value
    try:
        expanded = os.path.expanduser(head)
    except Exception:
        return value
    return expanded + sep + tail


def expand_braces(value: str, limit: int = _BRACE_LIMIT) -> tuple[list[str], bool]:
    """Bash brace expansion of unquoted ``{a,b}`` and ``{1..3}``; ``(words, complete)``."""
    start = 0
    while True:
        i = value.find("{", start)
        if i == -1:
            return [value], True
        depth, j, commas = 0, i, []
        while j < len(value):
            c = value[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            elif c == "," and depth == 1:
                commas.append(j)
            j += 1
        if j >= len(value):
            return [value], True
        body = value[i + 1 : j]
        if commas:
            bounds = [i, *commas, j]
            alts = [value[bounds[k] + 1 : bounds[k + 1]] for k in range(len(bounds) - 1)]
        else:
            seq = _sequence(body, limit)
            if seq is None:
                start = i + 1
                continue
            alts = seq
        prefix, suffix = value[:i], value[j + 1 :]
        out: list[str] = []
        complete = True
        for alt in alts:
            sub, ok = expand_braces(prefix + alt + suffix, limit - len(out))
            complete = complete and ok
            out.extend(sub)
            if len(out) >= limit:
                return out[:limit], False
        return out, complete


def _sequence(body: str, limit: int) -> list[str] | None:
    m = re.fullmatch(r"(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?", body)
    if m is None:
        return None
    a, b, step_text = m.group(1), m.group(2), m.group(3)
    step = abs(int(step_text)) if step_text else 1
    step = step or 1
    if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
        lo, hi = int(a), int(b)
        rng = range(lo, hi + 1, step) if lo <= hi else range(lo, hi - 1, -step)
        return [str(x) for x in rng[: limit + 1]]
    if a.isalpha() and b.isalpha():
        lo, hi = ord(a), ord(b)
        rng = range(lo, hi + 1, step) if lo <= hi else range(lo, hi - 1, -step)
        return [chr(x) for x in rng[: limit + 1]]
    return None


def words(node: Node, home: str, src: bytes) -> list[Word]:
    """The words one argument node expands to (several after brace expansion)."""
    t = node.type
    if t == "word":
        raw = text(node, src)
        if _SPECIAL.isdisjoint(raw):
            return [Word(raw, True)]
    acc = _Acc()
    _collect(node, acc, home, src)
    value = "".join(acc.parts)
    if acc.dynamic:
        return [Word(value.translate(_RESTORE), False, bool(_GLOB.intersection(value)), acc.procsub)]
    values, complete = expand_braces(value) if "{" in value else ([value], True)
    out = []
    for v in values:
        expanded = _tilde(v, home)
        out.append(Word(expanded.translate(_RESTORE), complete, bool(_GLOB.intersection(expanded))))
    return out


def literal(value: str) -> Word:
    """A word from an already-split argv (``env -S``, Codex's list commands)."""
    return Word(value, True, False)
