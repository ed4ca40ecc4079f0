"""The shell walker's working state: the directory it is in, what feeds a command's standard input,
and what it has found so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._facts import CommandFact, GitFact, UrlFact
from ._paths import PathRef
from ._words import Word

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(slots=True)
class Env:
    cwds: tuple[str | None, ...]

    def copy(self) -> Env:
        return Env(self.cwds)


@dataclass(slots=True)
class Stdin:
    text: str | None = None
    reason: str | None = None
    file: Word | None = None
    source: str = "stdin"
    pipe: tuple[list[Node], int] | None = None


class Out:
    """What the walk has found so far (a plain slotted class: one is made per analysis)."""

    __slots__ = ("commands", "env_dump", "git", "parse_error", "reasons", "refs", "urls")

    def __init__(self) -> None:
        self.commands: list[CommandFact] = []
        self.refs: list[PathRef] = []
        self.urls: list[UrlFact] = []
        self.git: list[GitFact] = []
        self.reasons: list[str] = []
        self.parse_error = False
        self.env_dump = False
