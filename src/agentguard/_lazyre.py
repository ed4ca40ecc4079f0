"""Regular expressions compiled on first use, so importing a module does not pay for all of them.

A hook process runs one decision and exits: compiling every table's pattern at import time costs
more than the decision. :func:`lazy_compile` takes what :func:`re.compile` takes and returns a
:class:`LazyPattern` with the :class:`re.Pattern` methods; the first call compiles the pattern and
puts the compiled pattern's bound methods on the object, so every later call is the compiled
method itself::

    >>> WORD = lazy_compile(r"\\w+")
    >>> WORD.pattern, WORD.compiled
    ('\\\\w+', False)
    >>> WORD.findall("git status")
    ['git', 'status']
    >>> WORD.compiled
    True
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, AnyStr, Generic

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class LazyPattern(Generic[AnyStr]):
    """A pattern compiled by the first call of one of its methods (the :class:`re.Pattern` ones)."""

    pattern: AnyStr
    flags: int

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    @property
    def compiled(self) -> bool:
        """Whether the pattern has been compiled (by a first call)."""
        return "search" in self.__dict__

    def get(self) -> re.Pattern[AnyStr]:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = re.compile(self.pattern, self.flags)
        if not self.compiled:
            for name in _METHODS:
                setattr(self, name, getattr(compiled, name))
        return compiled

    def __repr__(self) -> str:
        return f"lazy_compile({self.pattern!r}, {self.flags!r})"

    if TYPE_CHECKING:

        def search(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...
        def match(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...
        def fullmatch(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> re.Match[AnyStr] | None: ...
        def finditer(
            self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize
        ) -> Iterator[re.Match[AnyStr]]: ...
        def findall(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]: ...
        def sub(
            self, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], string: AnyStr, count: int = 0
        ) -> AnyStr: ...
        def subn(
            self, repl: AnyStr | Callable[[re.Match[AnyStr]], AnyStr], string: AnyStr, count: int = 0
        ) -> tuple[AnyStr, int]: ...
        def split(self, string: AnyStr, maxsplit: int = 0) -> list[AnyStr | Any]: ...

    else:

        def __getattr__(self, name: str) -> Any:
            # only reached before the first compile, and for the methods named in _METHODS
            if name not in _METHODS:
                raise AttributeError(name)
            self.get()
            return self.__dict__[name]


def lazy_compile(pattern: AnyStr, flags: int | re.RegexFlag = 0) -> LazyPattern[AnyStr]:
    """:func:`re.compile`, deferred to the first use of the pattern (see the module docstring)."""
    return LazyPattern(pattern, int(flags))


__all__ = ["LazyPattern", "lazy_compile"]
