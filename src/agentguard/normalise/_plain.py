"""Plain command lists, split without a parser: the shape most agent commands have.

``cd src && git add -A && git commit -m "fix parser" && pytest -q`` is a list of simple commands whose
words are literal: no expansion, substitution, redirection, glob, brace, tilde, escape, comment,
assignment, pipe or keyword. For such a string the tree-sitter parse and the tree walk give nothing a
regular expression cannot: the words of each command and the operator after it. :func:`split` returns
exactly those (as :class:`~._words.Word` values equal to what the walker builds from the tree), or
``None`` for anything else, which then goes through tree-sitter as before. Nothing is guessed: the
accepted language is small enough to state in one regular expression, and
``tests/unit/test_normalise_plain.py`` checks, on generated strings, that both routes give identical
analyses.

Accepted, with single spaces or none between tokens:

- words of ``A-Z a-z 0-9 _ . / : = , + @ % -``, ``"double-quoted"`` text without ``" $ ` \\ !`` or a
  newline (and not only blanks), and ``'single-quoted'`` text without ``'`` or a newline, in any
  concatenation;
- ``&&``, ``||`` and ``;`` between commands (none leading or trailing);
- command names (the first word of each command) of letters, digits and ``_ . / -`` only;
- not: a reserved word or declaration builtin anywhere (``if``, ``do``, ``export``, ``unset``...), a
  word starting with ``=`` (``a ==`` does not parse), more than :data:`MAX_COMMANDS` commands or
  :data:`MAX_LENGTH` characters, non-ASCII text.

(The exclusions come from an exhaustive check of every token of up to four characters of each class
in command and argument position against tree-sitter-bash 0.25.1: ``x=1``, ``x@y``, ``x%``, ``x+:``
in command position and ``a ==`` are not plain commands to the grammar.)
"""

from __future__ import annotations

from .._lazyre import lazy_compile
from ._words import Word

MAX_COMMANDS = 32
"""Longer lists take the parser (far below the walker's nesting and command bounds either way)."""
MAX_LENGTH = 4096

_SAFE = r"A-Za-z0-9_./:=,+@%-"
# possessive quantifiers: no backtracking, so a near miss fails in linear time
_WORD = rf"""(?:[{_SAFE}]++|"[^"$`\\!\n]*+"|'[^'\n]*+')++"""
_COMMAND = rf"{_WORD}(?: ++{_WORD})*+"
_LIST = lazy_compile(rf" *+{_COMMAND}(?: *+(?:&&|\|\||;) *+{_COMMAND})*+ *+")
_ONE = lazy_compile(_COMMAND)
_TOKEN = lazy_compile(rf"&&|\|\||;|{_WORD}")
_PART = lazy_compile(r""""([^"]*)"|'([^']*)'|([^"']+)""")
_RESERVED = frozenset(
    {
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "coproc",
        "declare",
        "typeset",
        "export",
        "readonly",
        "local",
        "unset",
        "unsetenv",
    }
)
_OPERATORS = frozenset({"&&", "||", ";"})
_NAME = lazy_compile(r"[A-Za-z0-9_./][A-Za-z0-9_./-]*+")
"""A command name: letters, digits and ``_ . / -``, not starting with ``-`` (``x=1`` is an assignment;
``x@y``, ``x%``, ``x+:`` do not parse in command position, and the grammar drops a lone ``-``; quoted
names are left to the parser)."""
_tuple_new = tuple.__new__


def _word(token: str) -> Word | None:
    if "'" in token or '"' in token:
        value: list[str] = []
        for double, single, bare in _PART.findall(token):
            if double:
                if double.isspace():
                    return None  # the grammar drops a blank "   " (the parser's route gives '')
                value.append(double)
            else:
                value.append(single or bare)
        return _tuple_new(Word, ("".join(value), True, False, False))
    return _tuple_new(Word, (token, True, False, False))


def _tokens(source: str) -> list[str] | None:
    """The tokens (of :data:`_TOKEN`) of ``source`` when it is all tokens and the blanks
    :data:`_LIST` allows, else ``None``.

    Tokens one space apart that give back ``source`` (the common spelling) need no second scan: every
    character is in a token, and each token is the same possessive match the pattern makes there.
    :func:`split` checks what the pattern adds: operators only between non-empty commands. A string
    with a pipe is checked by the pattern first (it fails there, without a token list).
    """
    if len(source) > MAX_LENGTH or not source.isascii():
        return None
    if "|" in source.replace("||", ""):
        return _TOKEN.findall(source) if _LIST.fullmatch(source) is not None else None
    tokens: list[str] = _TOKEN.findall(source)
    if " ".join(tokens) != source and _LIST.fullmatch(source) is None:
        return None
    return tokens


def split(source: str) -> list[tuple[list[Word], str | None]] | None:
    """``[(words, operator after the command or None), ...]`` for a plain list, else ``None``.

    The operator is the walker's *gate*: ``&&`` or ``||`` when the next command depends on this one's
    status, ``None`` after ``;`` and for the last command.
    """
    tokens = _tokens(source)
    if tokens is None:
        return None
    out: list[tuple[list[Word], str | None]] = []
    current: list[Word] = []
    cache = _TOKENS
    for token in tokens:
        word, name_ok = cache.get(token) or _remember(token)
        if word is None:  # an operator, or a token that is not plain
            if name_ok and current:
                out.append((current, token if token != ";" else None))
                current = []
                continue
            return None
        if not current and not name_ok:
            return None
        current.append(word)
    if not current:
        return None
    out.append((current, None))
    return out if len(out) <= MAX_COMMANDS else None


def command_words(source: str) -> list[Word] | None:
    """The words of one plain simple command (no operator), exactly as :func:`split` gives them;
    ``None`` when ``source`` is not one.

    The walker uses it for each ``command`` node of a clean parse (a pipeline stage, the body of a
    redirection, a command in a substitution): the node's text alone decides, as for a whole list.
    """
    if len(source) > MAX_LENGTH or not source.isascii() or _ONE.fullmatch(source) is None:
        return None
    out: list[Word] = []
    cache = _TOKENS
    for token in _TOKEN.findall(source):
        word, name_ok = cache.get(token) or _remember(token)
        if word is None or not (out or name_ok):
            return None
        out.append(word)
    return out


_TOKENS: dict[str, tuple[Word | None, bool]] = {}
_TOKENS_MAX = 4096


def _remember(token: str) -> tuple[Word | None, bool]:
    known = _classify(token)
    if len(_TOKENS) >= _TOKENS_MAX:
        _TOKENS.clear()  # bounded; the common tokens come back at once
    _TOKENS[token] = known
    return known


def _classify(token: str) -> tuple[Word | None, bool]:
    """``(word, may be a command name)``; ``(None, True)`` for an operator, ``(None, False)`` for a
    token that makes the string not plain. A pure function of the token, so :func:`split` remembers
    it for common tokens (``cd``, ``&&``, ``-q``)."""
    if token in _OPERATORS:
        return None, True
    if token in _RESERVED or token[0] == "=":
        return None, False
    word = _word(token)
    if word is None:
        return None, False
    return word, _NAME.fullmatch(token) is not None


def nestings(commands: list[tuple[list[Word], str | None]]) -> list[int]:
    """The walker's nesting counter while in each command, as the parse tree would have it.

    ``;`` separates statements of the ``program`` node (nesting 1); in a statement of ``k`` commands
    joined by ``&&``/``||`` the tree is a left-leaning chain of ``k - 1`` ``list`` nodes, so its first
    two commands sit at ``k + 1`` and the ``j``-th (from 1) at ``k - j + 3``; a lone command at 2.
    """
    out: list[int] = []
    k = 0
    for _, gate in commands:
        k += 1
        if gate is None:  # the end of a statement of k commands
            if k == 1:
                out.append(2)
            else:
                out.extend([k + 1, *(k - j + 3 for j in range(2, k + 1))])
            k = 0
    return out
