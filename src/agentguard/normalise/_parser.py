"""A typed, thread-safe front to tree-sitter-bash.

Why tree-sitter (``tree-sitter==0.26.1`` with ``tree-sitter-bash==0.25.1``) and not ``bashlex``:

- **Robustness.** tree-sitter never raises: on input it cannot parse it returns a tree with ``ERROR``
  nodes around the bad part and real nodes everywhere else, so a malformed command still yields every
  simple command it can see (and the whole action is flagged opaque). bashlex raises on ``[[ ... ]]``,
  ``case``, ``$(( ))`` and any syntax error, leaving nothing to analyse.
- **Speed.** tree-sitter parses a short list-with-pipeline about thirty times faster than bashlex
  (pure Python): only tree-sitter fits a per-action budget of tens of microseconds
  (``benchmarks/bench_policy.py`` prints the parser route's figure).
- **Coverage.** Process substitution ``<(...)``/``>(...)``, here-docs (``<<``, ``<<-``, quoted
  delimiters, with the command substitutions of unquoted bodies parsed), here-strings, ``$'...'``,
  arithmetic, functions, ``case``, ``[[ ]]`` and ``coproc`` all have nodes. Known gaps in the grammar
  (for instance ``<>`` redirections) come back as ``ERROR`` nodes and so as opaque, never as silence.
- Both wheels ship types (``py.typed``) and binary wheels for CPython 3.11+; no compiler needed.

Parser objects are not thread-safe, so each thread gets its own.

**Crash guard.** tree-sitter-bash 0.23-0.25 can crash the process (SIGSEGV, depending on memory
layout) on a ``{`` followed later by a 4-byte UTF-8 character (upstream issue
tree-sitter/tree-sitter-bash#337; our fuzz tests found it too). Before parsing, every 4-byte character
is replaced by two 2-byte letters (``éé``): the same number of bytes, so node offsets still index the
original text, from which all values are read, and the same grammar role (a word character).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .._lazyre import lazy_compile

if TYPE_CHECKING:
    import tree_sitter

MAX_BYTES = 65_536
"""Longer commands are analysed up to this many bytes and flagged opaque."""

_local = threading.local()
_language: list[tree_sitter.Language] = []
"""The bash grammar, loaded on the first parse (tree-sitter itself is imported then too): plain
commands never need either."""


def _parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        import tree_sitter

        if not _language:
            import tree_sitter_bash

            _language.append(tree_sitter.Language(tree_sitter_bash.language()))
        parser = tree_sitter.Parser(_language[0])
        _local.parser = parser
    return parser


_FOUR_BYTE = lazy_compile(rb"[\xf0-\xf7][\x80-\xbf]{3}")
_STRAY_LEAD = lazy_compile(rb"[\xf0-\xff]")


def safe_source(source: bytes) -> bytes:
    """``source`` cut to :data:`MAX_BYTES`, with the bytes that crash the grammar replaced one for one."""
    src = source[:MAX_BYTES]
    if _STRAY_LEAD.search(src) is None:
        return src
    return _STRAY_LEAD.sub(b"?", _FOUR_BYTE.sub(b"\xc3\xa9\xc3\xa9", src))


def parse(source: bytes) -> tree_sitter.Node:
    """The root node of ``source`` (a ``program``); errors are ``ERROR``/missing nodes inside it.

    Node byte offsets index ``source`` itself: read values from it, not from ``Node.text``.
    """
    return _parser().parse(safe_source(source)).root_node
