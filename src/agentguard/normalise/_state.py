"""The shell walker's working state: the directory it is in, what feeds a command's standard input,
and what it has found so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ._facts import CommandFact, GitFact, UrlFact
from ._paths import PathRef
from ._words import Word


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


@dataclass(slots=True)
class Out:
    commands: list[CommandFact] = field(default_factory=list)
    refs: list[PathRef] = field(default_factory=list)
    urls: list[UrlFact] = field(default_factory=list)
    git: list[GitFact] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    parse_error: bool = False
    env_dump: bool = False
