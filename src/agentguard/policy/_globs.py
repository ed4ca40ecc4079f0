"""Path globs as users write them in a scope or a ``protect`` list, compiled once.

``*`` and ``?`` stay inside one path component, ``**`` crosses components (``src/**`` is ``src``
and everything below it; ``**/x`` is ``x`` at any depth, including the top), ``[...]`` is a character
class. Patterns without a ``/`` match the name in any directory (``*.pem`` matches ``keys/a.pem``), as
in ``.gitignore``; a pattern that names a directory covers everything below it. Matching is on POSIX
paths relative to the scope root, or on absolute paths for patterns that start with ``/`` or ``~``.

    >>> g = GlobSet(["src/**", "*.md"])
    >>> g.match("src/a/b.py"), g.match("docs/x.md"), g.match("tests/t.py")
    (True, True, False)

Bare names are matched against each component of the path (one short regex per component), the
others with one anchored regex, so a long list of secret-file names stays cheap on deep paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .._lazyre import LazyPattern, lazy_compile


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                j = i + 2
                at_start = i == 0 or pattern[i - 1] == "/"
                if at_start and j < n and pattern[j] == "/":
                    out.append("(?:.*/)?")  # "**/" : zero or more directories
                    i = j + 1
                    continue
                if i > 0 and pattern[i - 1] == "/" and j == n:  # "dir/**": the tree, dir itself included
                    out[-1] = "(?:/.*)?"
                    i = j
                    continue
                out.append(".*")
                i = j
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if i + 1 < n and pattern[i + 1] in "!^" else i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def normalise_pattern(pattern: str) -> str:
    """``./src/`` → ``src/**``; ``~`` expanded; a trailing ``/`` means the tree; ``**/x/**`` → ``x``."""
    p = pattern.strip()
    if p.startswith("~"):
        p = os.path.expanduser(p)
    while p.startswith("./"):
        p = p[2:]
    if p.endswith("/") and len(p) > 1:
        p = p + "**"
    if p.startswith("**/") and p.endswith("/**") and "/" not in p[3:-3]:
        p = p[3:-3]  # a directory name at any depth: a bare name
    return p


def _compile(parts: list[str], flags: int) -> LazyPattern[str] | None:
    return lazy_compile("(?:" + "|".join(parts) + r")(?:/.*)?\Z", flags) if parts else None


class GlobSet:
    """A set of globs; ``match(relative, resolved)`` takes a path relative to the root and/or absolute."""

    __slots__ = ("_absolute", "_names", "_relative", "patterns")

    def __init__(self, patterns: Iterable[str], *, ignore_case: bool = False) -> None:
        self.patterns: tuple[str, ...] = tuple(patterns)
        names: list[str] = []
        rel: list[str] = []
        absolute: list[str] = []
        for pattern in self.patterns:
            p = normalise_pattern(pattern)
            if p.startswith("/"):
                absolute.append(_translate(p))
            elif "/" not in p and "**" not in p:
                names.append(_translate(p))
            else:
                rel.append(_translate(p))
        flags = re.S | (re.I if ignore_case else 0)
        self._names = lazy_compile("(?:" + "|".join(names) + r")\Z", flags) if names else None
        self._relative = _compile(rel, flags)
        self._absolute = _compile(absolute, flags)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match(self, relative: str | None, resolved: str | None = None) -> bool:
        """Whether the path (relative to the root, and/or absolute) matches any pattern."""
        names = self._names
        if names is not None:
            path = relative if relative is not None else resolved
            if path is not None:
                for part in path.split("/"):
                    if part and names.match(part):
                        return True
        if relative is not None and self._relative is not None and self._relative.match(relative):
            return True
        return resolved is not None and self._absolute is not None and bool(self._absolute.match(resolved))
