"""Shell commands, statically: every simple command a string runs and what each touches.

::

    >>> a = analyse("cd sub && FOO=1 git push -f", "/repo", "/home/me")
    >>> [(c.program, c.cwd) for c in a.commands], a.git[0].force
    ([('cd', '/repo'), ('git', '/repo/sub')], True)

The string is parsed with tree-sitter-bash (see :mod:`._parser` for why) and walked once. Pipelines,
lists, subshells, brace groups, loops, functions, command and process substitutions are all entered;
``bash -c``/``sh -c``/``eval``/``trap``/``su -c``... strings, and here-docs, here-strings and
``echo ... |`` payloads fed to a shell are parsed recursively up to :data:`MAX_DEPTH` (programs that
run code are handled in :mod:`._runners`). Wrappers are
peeled (:mod:`._wrappers`), ``cd`` is tracked (after ``;`` both the old and the new directory are kept,
since ``cd`` may fail), redirections become file facts, and program tables (:mod:`._programs`,
:mod:`._network`, :mod:`._git`) turn arguments into path and host facts. Whatever depends on run
time is reported as a reason, which makes the action opaque.

The result (:class:`Analysis`) holds unresolved :class:`~._paths.PathRef` values and no file-system
state, so it is cached in an LRU keyed by ``(command, cwd, home)``; paths are resolved per call.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple

from .._lazyre import lazy_compile
from . import _git, _parser, _plain
from ._effects import (
    CODE_OPERANDS,
    COMMAND_OPERANDS,
    DANGEROUS_PROGRAMS,
    ESCAPES,
    EXEC_OPTIONS,
    LOADER,
    SSH_COMMAND_OPTIONS,
    option_value,
    risky_variable,
)
from ._facts import Access, CommandFact, GitFact, UrlFact, builder
from ._network import CONTAINER_PULLS, LISTENERS, NETWORK, OS_PACKAGES, REGISTRIES, exposure
from ._paths import GLOB_CHARS, PathRef, absolute, is_harmless_device
from ._programs import SPECS, apply_spec
from ._runners import INTERPRETERS, PYTHON, SHELLS, Runners, urls_in
from ._state import Env, Out, Stdin
from ._urls import host_fact
from ._words import Word, literal, text, words
from ._wrappers import RUNNERS, WRAPPER_NAMES, unwrap

if TYPE_CHECKING:
    from tree_sitter import Node

MAX_DEPTH = 5
"""Nested shell strings (``bash -c "eval '...'"``) analysed before giving up (opaque)."""
MAX_NESTING = 150
MAX_COMMANDS = 512
MAX_CWDS = 4

_POWERSHELL = frozenset({"pwsh", "powershell", "powershell.exe", "cmd", "cmd.exe"})
# program -> (language, options whose value is code)
_SUBCOMMANDS = frozenset(
    {
        "pip",
        "pip3",
        "npm",
        "pnpm",
        "yarn",
        "docker",
        "podman",
        "cargo",
        "go",
        "kubectl",
        "apt",
        "apt-get",
        "brew",
        "uv",
        "poetry",
        "systemctl",
        "gh",
        "aws",
        "gcloud",
        "az",
        "terraform",
        "helm",
        "conda",
        "dnf",
        "yum",
        "pacman",
        "rustup",
        "deno",
        "bun",
        "hatch",
        "pdm",
        "tox",
        "nox",
        "make",
        "just",
        "openssl",
    }
)
_ENV_DUMP = frozenset({"printenv", "env"})
_BENIGN = frozenset(
    [
        "echo",
        "printf",
        "true",
        "false",
        ":",
        "test",
        "[",
        "[[",
        "exit",
        "return",
        "sleep",
        "wait",
        "read",
        "shift",
        "local",
        "type",
        "which",
        "hash",
        "date",
        "pwd",
        "whoami",
        "id",
        "uname",
        "seq",
        "yes",
        "basename",
        "dirname",
        "expr",
        "let",
        "kill",
        "jobs",
        "fg",
        "bg",
        "disown",
        "ulimit",
        "umask",
        "history",
        "help",
        "break",
        "continue",
        "shopt",
        "unset",
        "getopts",
        "command",
    ]
)
_PLAIN = frozenset("\\{*?[~")
"""Characters that make a word need more than its text (escapes, braces, globs, tilde)."""
_EDITORS = frozenset({"vi", "vim", "nvim", "ex", "view", "gvim", "emacs"})
_LEAVES = frozenset(
    {"word", "string", "raw_string", "number", "comment", "variable_name", "heredoc_start", "heredoc_end"}
    | {"string_content", "ansi_c_string"}
)
_FILE_LIKE = lazy_compile(r"^[\w.+@-]+\.[A-Za-z0-9]{1,8}$|^(?:id_[a-z0-9]+|credentials|authorized_keys)$")
"""Bare operands of unknown programs taken as file names (``notes.txt``, ``id_rsa``)."""
_CD = frozenset({"cd", "pushd", "popd", "chdir"})
_LOOP_REF = lazy_compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})(?=/|$)")
_OUTPUT_OPTION = lazy_compile(
    r"^(?:-o|--?(?:out|output|outfile|out-?file|output-?(?:file|dir|directory|path|document)|out-?dir"
    r"|outdir|dest|destination|target-?dir(?:ectory)?|basetemp|log-?file|report-?file|save-?to|write-?to"
    r"|dump-?file|export-?file|cache-?dir|build-?dir|install-?dir|junit-?xml|result-?file|tmp-?dir"
    r"|temp-?dir|work-?dir|pid-?file|lock-?file|cov-report|keyring|store|sink))$",
    re.I,
)
"""Options of unknown programs whose value is a file or directory written."""
_VERBS: dict[str, Access] = {
    **dict.fromkeys(
        [
            "rm",
            "remove",
            "delete",
            "del",
            "unlink",
            "rmdir",
            "rmtree",
            "remove_directory",
            "purge",
            "clean",
            "clear",
            "erase",
            "wipe",
            "prune",
            "destroy",
            "drop",
            "uninstall",
        ],
        "delete",
    ),
    **dict.fromkeys(
        [
            "write",
            "set",
            "put",
            "cp",
            "copy",
            "copy_directory",
            "copy_if_different",
            "mv",
            "move",
            "rename",
            "touch",
            "make_directory",
            "mkdir",
            "create_symlink",
            "create_hardlink",
            "save",
            "dump",
            "edit",
            "extract",
            "unpack",
            "untar",
            "unzip",
        ],
        "write",
    ),
}
"""A subcommand that says what an unknown program does to the operands after it."""
_TRANSFORM = lazy_compile(r"\$\{[^{}]{0,256}@P\}")
"""``${x@P}``: prompt expansion, which runs the command substitutions in the variable's value."""
_PYTHON_HEADS = ("python", "pypy")
"""What every name :data:`PYTHON` matches starts with (a cheap test before the regex)."""
_RUNNER_HEADS = frozenset(name for name, _ in RUNNERS)
_UNWRAP_HEADS = WRAPPER_NAMES | _RUNNER_HEADS
_new_command = builder(CommandFact)
_tuple_new = tuple.__new__
_value = itemgetter(0)
"""A word's value (``Word.value``), as a C function for ``map``."""


@lru_cache(maxsize=1024)
def _relative_dir(raw: str, base: str) -> str:
    """:func:`._paths.absolute` of a path that does not start with ``/`` or ``~`` (a pure function of
    its arguments, so remembered: ``cd src`` starts most commands)."""
    return absolute(raw, base)


def _installed_bin(program: str, cwd: str | None) -> bool:
    """``node_modules/.bin/PROGRAM`` exists in ``cwd`` or a parent (what ``npx`` runs without a download)."""
    if cwd is None or "/" in program:
        return False
    d = cwd
    for _ in range(32):
        if os.path.exists(f"{d.rstrip('/')}/node_modules/.bin/{program}"):
            return True
        if d in ("/", ""):
            return False
        d = d.rsplit("/", 1)[0] or "/"
    return False


def _path_like(v: str) -> bool:
    return "/" in v or v.startswith((".", "~")) or _FILE_LIKE.match(v) is not None


def _is_python(name: str) -> bool:
    return name.startswith(_PYTHON_HEADS) and PYTHON.match(name) is not None


@dataclass(frozen=True, slots=True)
class Analysis:
    commands: tuple[CommandFact, ...]
    refs: tuple[PathRef, ...]
    urls: tuple[UrlFact, ...]
    git: tuple[GitFact, ...]
    reasons: tuple[str, ...]
    parse_error: bool
    env_dump: bool


_new_analysis = builder(Analysis)


def _base(value: str) -> str:
    return value.rsplit("/", 1)[-1]


class _Sink:
    """Collects one command's facts (implements :class:`._programs.Sink`)."""

    __slots__ = ("depth", "env", "program", "walker")

    def __init__(self, walker: _Walker, program: str, env: Env, depth: int) -> None:
        self.walker = walker
        self.program = program
        self.env = env
        self.depth = depth

    def ref(self, word: Word, access: Access, via: str) -> None:
        self.walker.ref(word, access, via, self.program, self.env.cwds)

    def url(self, fact: UrlFact | None) -> None:
        if fact is not None:
            self.walker.out.urls.append(fact)

    def opaque(self, reason: str) -> None:
        self.walker.opaque(reason)

    def shell_text(self, word: Word, source: str) -> None:
        self.walker.program_text(word.value, self.env.copy(), self.depth + 1, source)


class Call(NamedTuple):
    """One special program's command line as its handler sees it."""

    program: str
    args: list[Word]
    env: Env
    """The directory the program runs in (after ``env -C``, ``sudo -D``...)."""
    outer_env: Env
    """The enclosing list's state, which ``cd`` changes."""
    depth: int
    gate: str | None
    """The list operator after the command (``&&``, ``||``, ``;``), if any."""
    stdin: Stdin | None
    wrappers: tuple[str, ...]

    def sink(self, walker: _Walker) -> _Sink:
        return _Sink(walker, self.program, self.env, self.depth)


class _Walker(Runners):
    def __init__(self, home: str, *, fast: bool = True) -> None:
        self.fast = fast
        """Plain command lists skip the parser (:mod:`._plain`); ``False`` parses everything."""
        self.home = home
        self.src = b""
        self.plain_words = False
        """Take a ``command`` node's words from its text when it is plain (:func:`._plain.command_words`):
        only when ``fast`` and the tree being walked has no error."""
        self.out = Out()
        self.nesting = 0
        self.loop_vars: dict[str, list[Word]] = {}
        """``for NAME in WORDS``: the static words a loop variable takes, while its body is walked."""
        self.links: dict[str, Word] = {}
        """Links this command makes (absolute link path → target as written, relative to its cwd)."""

    # -- reporting ---------------------------------------------------------------------------------
    def opaque(self, reason: str) -> None:
        if reason not in self.out.reasons and len(self.out.reasons) < 64:
            self.out.reasons.append(reason)

    def ref(
        self, word: Word, access: Access, via: str, program: str | None, cwds: tuple[str | None, ...]
    ) -> None:
        v, static, glob, procsub = word
        if procsub:
            return
        if not static and self.loop_vars and v[:1] == "$":
            bound = self.loop_value(v)
            if bound is not None:
                for w in bound:
                    self.ref(w, access, via, program, cwds)
                return
        if static:
            if (v == "-" and via != "redirect") or (v[:1] == "/" and is_harmless_device(v)):
                return
            if v.startswith(("/dev/tcp/", "/dev/udp/")):
                parts = v.split("/")
                if len(parts) >= 4:
                    port = parts[4] if len(parts) > 4 else ""
                    self.out.urls.append(
                        host_fact(
                            parts[3],
                            raw=v,
                            scheme=parts[2],
                            port=int(port) if port.isdigit() and len(port) < 6 else None,
                            via=via,
                            program=program,
                        )
                    )
                return
            if v.startswith("/proc/") and v.endswith("/environ"):
                self.out.env_dump = True
        bases: tuple[str | None, ...] = cwds
        if v.startswith("/") or (v.startswith("~") and not v.startswith(("~+", "~-"))):
            bases = ("/",)
        refs = self.out.refs
        for b in bases:
            if len(refs) >= 1024:
                self.opaque("too many paths")
                return
            refs.append(_tuple_new(PathRef, (v, b, access, via, program, not static, glob)))
            if access != "read" and (not static or b is None):
                self.opaque(f"{program or 'shell'}: {access} of a path known only at run time: {v}")
        links = self.links
        if links and via != "link":
            target = links.get(absolute(v, cwds[0] or "/") if static else v)
            if target is not None:  # a link made earlier in this command: the access reaches its target
                self.ref(target, access, "link", program, cwds)

    # -- entry points ------------------------------------------------------------------------------
    def program_text(self, source: str, env: Env, depth: int, where: str) -> None:
        if depth > MAX_DEPTH:
            self.opaque(f"{where}: shell strings nested more than {MAX_DEPTH} deep")
            return
        if len(source) > _parser.MAX_BYTES:  # not analysed at all: the time stays bounded
            self.opaque(f"{where}: longer than {_parser.MAX_BYTES} characters, not analysed")
            return
        if "@P" in source and _TRANSFORM.search(source) is not None:
            self.opaque(f"{where}: a ${{...@P}}-style expansion evaluates a value as a prompt or command")
        if len(source) > 4096 and sum(map(source.count, "|&;\n")) > 2 * MAX_COMMANDS:
            # more commands than are analysed: opaque without the parse (whose time grows faster)
            self.opaque(f"{where}: more than {MAX_COMMANDS} commands, not analysed")
            return
        plain = _plain.split(source) if self.fast else None
        if plain is not None and self.plain(plain, env, depth):
            return
        data = source.encode("utf-8", "surrogatepass")
        if len(data) > _parser.MAX_BYTES:
            self.opaque(f"{where}: command longer than {_parser.MAX_BYTES} bytes")
        root = _parser.parse(data)
        if root.has_error:
            self.out.parse_error = True
            self.opaque(f"{where}: could not be parsed as shell" if depth else "could not be parsed as shell")
        saved, self.src = self.src, data[: _parser.MAX_BYTES]
        saved_plain, self.plain_words = self.plain_words, self.fast and not root.has_error
        try:
            self.node(root, env, depth)
        finally:
            self.src = saved
            self.plain_words = saved_plain

    def plain(self, commands: list[tuple[list[Word], str | None]], env: Env, depth: int) -> bool:
        """What :meth:`node` does for the tree of a plain command list (see :mod:`._plain`): the same
        checks and calls, in the same order, at the same nesting. ``False`` (nothing done) when the
        tree would come near :data:`MAX_NESTING`: the parser's route reports that."""
        saved = self.nesting
        nestings = _plain.nestings(commands)
        if saved + max(nestings) > MAX_NESTING:
            return False
        out = self.out
        try:
            for (argv, gate), nesting in zip(commands, nestings, strict=True):
                if len(out.commands) > MAX_COMMANDS:
                    self.opaque("too many commands")
                    return True
                self.nesting = saved + nesting
                self.run(argv, env, depth, gate, None, [], ())
        finally:
            self.nesting = saved
        return True

    def node(
        self,
        n: Node,
        env: Env,
        depth: int,
        gate: str | None = None,
        stdin: Stdin | None = None,
        redirects: tuple[Node, ...] = (),
    ) -> None:
        if self.nesting > MAX_NESTING:
            self.opaque("nested too deeply")
            return
        if len(self.out.commands) > MAX_COMMANDS:
            self.opaque("too many commands")
            return
        self.nesting += 1
        t = n.type
        if t == "command":
            self.command(n, env, depth, gate, stdin, redirects)
        elif t == "redirected_statement":
            body = n.child_by_field_name("body")
            reds = tuple(c for c in n.named_children if c is not body and c.type.endswith("redirect"))
            if body is None:
                for r in reds:
                    self.redirect(r, env, depth, None)
            elif body.type == "command":
                self.command(body, env, depth, gate, stdin, reds)
            else:
                self.node(body, env, depth, gate, stdin)
                for r in reds:
                    self.redirect(r, env, depth, None)
        elif t == "list":
            op = None
            for c in n.children:
                if not c.is_named:
                    op = c.type
                    break
            first = True
            for c in n.named_children:
                self.node(c, env, depth, op if first else gate)
                first = False
        elif t == "pipeline":
            stages = [c for c in n.named_children if c.type != "comment"]
            for i, c in enumerate(stages):
                self.node(c, env.copy(), depth, None, Stdin(pipe=(stages, i - 1)) if i else stdin)
        elif t in ("subshell", "command_substitution", "process_substitution"):
            sub = env.copy()
            for c in n.named_children:
                self.node(c, sub, depth)
        elif t == "declaration_command":
            self.declaration(n, env, depth)
        elif t == "function_definition":
            self.function(n, env, depth)
        elif t == "for_statement":
            self.for_loop(n, env, depth)
        elif t == "variable_assignment":
            self.assignment_node(n)
            self.substitutions(n, env, depth)
        elif t not in _LEAVES:
            for c in n.named_children:
                self.node(c, env, depth)
        self.nesting -= 1

    def substitutions(self, n: Node, env: Env, depth: int) -> None:
        """Enter the command/process substitutions inside a word or assignment."""
        if n.child_count == 0:
            return
        for c in n.named_children:
            if c.type in ("command_substitution", "process_substitution"):
                self.node(c, env, depth)
            elif c.child_count and self.nesting < MAX_NESTING:
                self.nesting += 1
                try:
                    self.substitutions(c, env, depth)
                finally:
                    self.nesting -= 1

    def declaration(self, n: Node, env: Env, depth: int) -> None:
        keyword = n.children[0].type if n.children else ""
        named = n.named_children
        flags = [text(c, self.src) for c in named if c.type == "word" and text(c, self.src).startswith("-")]
        if keyword in ("export", "declare", "typeset") and (
            not [c for c in named if c.type != "word"] and (not flags or "-p" in flags or "-x" in flags)
        ):
            self.out.env_dump = True
        for c in named:
            if c.type == "variable_assignment":
                self.assignment_node(c)
            self.substitutions(c, env, depth)
        args = tuple([text(c, self.src) for c in named])
        self.out.commands.append(
            _new_command(argv=(keyword, *args), program=keyword, args=args, cwd=env.cwds[0], depth=depth)
        )

    # -- simple commands ---------------------------------------------------------------------------
    def command(
        self, n: Node, env: Env, depth: int, gate: str | None, stdin: Stdin | None, outer: tuple[Node, ...]
    ) -> None:
        src = self.src
        if self.plain_words:
            plain = _plain.command_words(src[n.start_byte : n.end_byte].decode("utf-8", "replace"))
            if plain is not None:  # what the loop below makes of a plain command's children
                if outer:
                    self.redirected(plain, env, depth, gate, stdin, [], list(outer))
                else:
                    self.run(plain, env, depth, gate, stdin, [], ())
                return
        assigns: list[str] = []
        argv: list[Word] = []
        reds: list[Node] = list(outer)
        home = self.home
        for c in n.children:
            t = c.type
            if t == "word":  # the common case, inlined
                raw = src[c.start_byte : c.end_byte].decode("utf-8", "replace")
                if _PLAIN.isdisjoint(raw):
                    argv.append(_tuple_new(Word, (raw, True, False, False)))
                else:
                    argv.extend(words(c, home, src))
            elif t == "variable_assignment":
                assigns.append(self.assignment_node(c))
                self.substitutions(c, env, depth)
            elif t == "command_name":
                inner = c.named_child(0) if c.named_child_count else c
                if inner.type == "word":
                    raw = src[inner.start_byte : inner.end_byte].decode("utf-8", "replace")
                    if _PLAIN.isdisjoint(raw):
                        argv.append(_tuple_new(Word, (raw, True, False, False)))
                        continue
                argv.extend(words(inner, home, src))
                self.substitutions(c, env, depth)
            elif t.endswith("redirect"):
                reds.append(c)
            elif c.is_named and t != "comment":
                argv.extend(words(c, self.home, self.src))
                if t in ("command_substitution", "process_substitution"):
                    self.node(c, env, depth)
                elif t not in ("word", "raw_string", "number"):
                    self.substitutions(c, env, depth)
        if not reds:
            self.run(argv, env, depth, gate, stdin, assigns, ())
            return
        self.redirected(argv, env, depth, gate, stdin, assigns, reds)

    def redirected(
        self,
        argv: list[Word],
        env: Env,
        depth: int,
        gate: str | None,
        stdin: Stdin | None,
        assigns: list[str],
        reds: list[Node],
    ) -> None:
        """Run a command with redirections: the last one feeding stdin wins; then each as a file."""
        for r in reds:
            got = self.stdin_of(r)
            if got is not None:
                stdin = got
        program = self.run(argv, env, depth, gate, stdin, assigns, ())
        for r in reds:
            self.redirect(r, env, depth, program)

    def stdin_of(self, r: Node) -> Stdin | None:
        t = r.type
        if t == "heredoc_redirect":
            body = next((c for c in r.named_children if c.type == "heredoc_body"), None)
            raw = text(body, self.src) if body is not None else ""
            if any(not c.is_named and c.type == "<<-" for c in r.children):
                raw = "\n".join(line.lstrip("\t") for line in raw.split("\n"))
            return Stdin(text=raw, source="here-doc")
        if t == "herestring_redirect":
            word = next((c for c in r.named_children), None)
            if word is None:
                return None
            ws = words(word, self.home, self.src)
            return Stdin(text=" ".join(w.value for w in ws), source="here-string")
        if t == "file_redirect":
            op = next((c.type for c in r.children if not c.is_named), "")
            dest = r.child_by_field_name("destination")
            if op == "<" and dest is not None:
                ws = words(dest, self.home, self.src)
                if ws:
                    return Stdin(file=ws[0], source="redirect")
        return None

    def redirect(self, r: Node, env: Env, depth: int, program: str | None) -> None:
        t = r.type
        if t == "file_redirect":
            op = "".join(c.type for c in r.children if not c.is_named and c.type != "ERROR")
            dest = r.child_by_field_name("destination")
            if dest is None:
                return
            self.substitutions(r, env, depth)
            if op in (">&", "<&", ">&-", "<&-") and (dest.type == "number" or text(dest, self.src) == "-"):
                return
            ws = words(dest, self.home, self.src)
            if not ws:
                return
            if any(c.type == "ERROR" for c in r.children):  # '<>' (read-write), which the grammar lacks
                self.ref(ws[0], "read", "redirect", program, env.cwds)
                self.ref(ws[0], "write", "redirect", program, env.cwds)
                return
            access: Access = "read" if op.startswith("<") else "write"
            self.ref(ws[0], access, "redirect", program, env.cwds)
        elif t in ("heredoc_redirect", "herestring_redirect"):
            for c in r.named_children:
                if c.type == "file_redirect":
                    self.redirect(c, env, depth, program)
                else:
                    self.substitutions(c, env, depth)

    def run(
        self,
        argv: list[Word],
        env: Env,
        depth: int,
        gate: str | None,
        stdin: Stdin | None,
        assigns: list[str],
        wrappers: tuple[str, ...],
    ) -> str | None:
        """Analyse one command line; returns the program that runs (``None`` if unknown)."""
        if not argv:
            return None
        out = self.out
        before = len(out.reasons)
        raw_argv = tuple(map(_value, argv))
        head, head_static = argv[0][0], argv[0][1]
        if not head_static:
            self.opaque(f"command name is computed at run time: {head}")
            out.commands.append(
                _new_command(
                    argv=raw_argv,
                    program=head,
                    args=raw_argv[1:],
                    wrappers=wrappers,
                    assignments=tuple(assigns),
                    cwd=env.cwds[0],
                    depth=depth,
                    opaque=True,
                    opaque_reason=out.reasons[-1],
                )
            )
            return None
        if argv[0][2]:
            self.glob_name(argv, env, depth, stdin, assigns, wrappers)
            return None
        name = head.rsplit("/", 1)[-1] if "/" in head else head
        cmd_env = env
        python = name.startswith(_PYTHON_HEADS) and PYTHON.match(name) is not None  # _is_python, inlined
        if (
            name in _UNWRAP_HEADS
            and (name in WRAPPER_NAMES or (len(argv) > 1 and (name, argv[1].value) in RUNNERS))
        ) or python:
            u = unwrap(argv)
            for why in u.reasons:
                self.opaque(why)
            all_wrappers = (*wrappers, *u.wrappers)
            assignments = (*assigns, *u.assignments)
            if u.chdir is not None:
                cmd_env = Env(self.cd_target(u.chdir, env))
            if u.env_dump:
                self.out.env_dump = True
            if u.text is not None:
                self.program_text(u.text.value, cmd_env.copy(), depth + 1, f"{' '.join(u.wrappers)} string")
            words_ = list(u.words)
            if u.stdin_args:
                words_.append(self.listed(stdin) or Word("<stdin>", False))
            unwrapped = True
        else:  # the common case: nothing to peel
            all_wrappers, assignments, words_ = wrappers, tuple(assigns) if assigns else (), argv
            unwrapped = False
        if unwrapped:
            for text_ in u.assigned:
                self.assignment(*text_.split("=", 1))
        if unwrapped and (not words_ or not words_[0].static):  # else words_[0] is the static head
            if words_ and not words_[0].static:
                self.opaque(f"command name is computed at run time: {words_[0].value}")
            program = _base(words_[0].value) if words_ else _base(argv[0].value)
            self.record(
                raw_argv,
                program,
                tuple([w.value for w in words_[1:]]),
                all_wrappers,
                assignments,
                None,
                cmd_env.cwds[0],
                depth,
                before,
            )
            return program
        first = words_[0][0]
        if "/" in first:
            program = _base(first)
            self.ref(words_[0], "exec", "program", program, cmd_env.cwds)
        else:
            program = first
        args = words_[1:]
        ran_in = cmd_env.cwds[0]  # ``cd`` changes cmd_env; the command itself ran here
        handler = _HANDLERS.get(program)
        if handler is not None:
            call = _tuple_new(Call, (program, args, cmd_env, env, depth, gate, stdin, all_wrappers))
            subcommand = handler(self, call)
        elif _is_python(program) if unwrapped else python:
            call = _tuple_new(Call, (program, args, cmd_env, env, depth, gate, stdin, all_wrappers))
            subcommand = self.h_interpreter(call)
        else:
            subcommand = None
            if args:
                self.operands(program, args, cmd_env)
        if args and (program in _EFFECT_NAMES or (program[0] == "l" and program.startswith(("ld.", "ld-")))):
            self.effects(program, args, cmd_env, depth, stdin)
        values = tuple(map(_value, args)) if unwrapped else raw_argv[1:]
        if (
            program in _NETWORK_NAMES
            or (all_wrappers and not _NETWORK_WRAPPERS.isdisjoint(all_wrappers))
            or (subcommand is None and program in _SUBCOMMANDS)
        ):
            self.reaches(program, values, all_wrappers, subcommand, ran_in)
        if program not in NETWORK and program != "git":
            for w in args:
                if "://" in w[0] and w[1]:
                    out.urls.extend(urls_in(w[0], program))
        if subcommand is None and program in _SUBCOMMANDS:
            subcommand = next((v for v in values if not v.startswith("-")), None)
        reason = out.reasons[before] if len(out.reasons) > before else None
        out.commands.append(
            _new_command(
                argv=raw_argv,
                program=program,
                args=values,
                wrappers=all_wrappers,
                subcommand=subcommand,
                assignments=assignments,
                cwd=ran_in,
                depth=depth,
                opaque=reason is not None,
                opaque_reason=reason,
            )
        )
        return program

    def record(
        self,
        argv: tuple[str, ...],
        program: str,
        args: tuple[str, ...],
        wrappers: tuple[str, ...],
        assigns: tuple[str, ...],
        subcommand: str | None,
        cwd: str | None,
        depth: int,
        before: int,
    ) -> None:
        reason = self.out.reasons[before] if len(self.out.reasons) > before else None
        self.out.commands.append(
            _new_command(
                argv=argv,
                program=program,
                args=args,
                wrappers=wrappers,
                subcommand=subcommand,
                assignments=assigns,
                cwd=cwd,
                depth=depth,
                opaque=reason is not None,
                opaque_reason=reason,
            )
        )

    def glob_name(
        self,
        argv: list[Word],
        env: Env,
        depth: int,
        stdin: Stdin | None,
        assigns: list[str],
        wrappers: tuple[str, ...],
    ) -> None:
        """A command name with glob characters (``/bin/r[m]``, ``*``) runs whatever file it matches
        first: opaque, and analysed as every known program its last part matches."""
        head = argv[0].value
        self.opaque(f"command name contains glob characters: {head[:200]}")
        raw_argv = tuple(map(_value, argv))
        self.out.commands.append(
            _new_command(
                argv=raw_argv,
                program=_base(head),
                args=raw_argv[1:],
                wrappers=wrappers,
                assignments=tuple(assigns),
                cwd=env.cwds[0],
                depth=depth,
                opaque=True,
                opaque_reason=self.out.reasons[-1],
            )
        )
        pattern = _base(head)
        for name in itertools.islice((n for n in _KNOWN_NAMES if fnmatchcase(n, pattern)), 16):
            self.run([literal(name), *argv[1:]], env.copy(), depth, None, stdin, assigns, wrappers)

    def assignment_node(self, n: Node) -> str:
        """Check one ``NAME=VALUE`` node; returns the name."""
        name_node = n.child_by_field_name("name")
        value_node = n.child_by_field_name("value")
        name = text(name_node, self.src) if name_node is not None else text(n, self.src)
        self.assignment(name, text(value_node, self.src) if value_node is not None else "")
        return name

    def assignment(self, name: str, value: str | None) -> None:
        why = risky_variable(name, value)
        if why is not None:
            self.opaque(f"{name}=...: {why}")

    def option_effects(self, program: str, args: list[Word], env: Env, depth: int) -> None:
        """Options that carry a command, a file run or written, or a mini-language (:data:`EXEC_OPTIONS`)."""
        table = EXEC_OPTIONS[program]
        i, n = 0, len(args)
        while i < n:
            w = args[i]
            v = w.value
            i += 1
            if v == "--":
                return
            if not v.startswith("-") or len(v) < 2:
                continue
            found = option_value(v, table, args[i] if i < n else None)
            if found is None:
                continue
            option, value, used_next = found
            if used_next:
                i += 1
            effect = table[option]
            value = Word(value.value, value.static and w.static, value.glob, value.procsub)
            if option == "-o" and program in ("ssh", "scp", "sftp"):
                m = SSH_COMMAND_OPTIONS.match(value.value)
                if m is None:
                    continue
                value = Word(value.value[m.end() :], value.static)
            if program == "tar" and option == "--checkpoint-action":
                if not value.value.startswith("exec="):
                    continue
                value = Word(value.value[5:], value.static)
            if effect == "shell":
                if not value.static:
                    self.opaque(f"{program} {option}: runs a command known only at run time")
                self.program_text(value.value, env.copy(), depth + 1, f"{program} {option}")
            elif effect == "opaque":
                self.opaque(f"{program} {option}: runs commands in its own language ({value.value[:80]!r})")
            else:
                self.ref(value, effect, "option", program, env.cwds)

    def escapes(self, program: str, args: list[Word], stdin: Stdin | None, env: Env, depth: int) -> None:
        """A query or command language with a shell escape (:data:`ESCAPES`): in the arguments or in
        what standard input feeds."""
        pattern = ESCAPES[program]
        for w in args:
            if not w.static:
                continue
            if pattern.search(w.value) is not None:
                self.opaque(f"{program}: its command language runs shell commands ({w.value[:80]!r})")
                return
        if stdin is None:
            return
        payload = self.payload(stdin, env, depth)
        if payload.text is not None and pattern.search(payload.text) is not None:
            self.opaque(f"{program}: the {payload.source} it reads runs shell commands")
        elif payload.file is not None or payload.reason is not None:
            self.opaque(f"{program} reads commands from {payload.source}, which may run shell commands")

    def command_operands(self, program: str, args: list[Word], env: Env, depth: int, skip: int) -> None:
        """``chroot DIR CMD...``, ``nsenter ... CMD``: the command it runs is analysed too."""
        i = 0
        while i < len(args) and args[i].static and args[i].value.startswith("-") and args[i].value != "--":
            i += 1
        if i < len(args) and args[i].value == "--":
            i += 1
        rest = args[i + skip :]
        if rest:
            self.run(list(rest), env.copy(), depth, None, None, [], (program,))

    def effects(self, program: str, args: list[Word], env: Env, depth: int, stdin: Stdin | None) -> None:
        if program in EXEC_OPTIONS:
            self.option_effects(program, args, env, depth)
        if program in ESCAPES:
            self.escapes(program, args, stdin, env, depth)
        skip = COMMAND_OPERANDS.get(program)
        if skip is not None:
            self.command_operands(program, args, env, depth, skip)
        elif LOADER.match(program):
            self.command_operands(program, args, env, depth, 0)
        if program in CODE_OPERANDS and any(not w.value.startswith("-") for w in args):
            self.opaque(f"python -m {program}: runs code or a program given on the command line")

    def reaches(
        self,
        program: str,
        values: tuple[str, ...],
        wrappers: tuple[str, ...],
        subcommand: str | None,
        cwd: str | None,
    ) -> None:
        """Launchers and package managers reach their registry (``npx`` only for a package not
        installed in ``node_modules/.bin``); servers and tunnels expose the machine."""
        urls = self.out.urls
        sub = subcommand or next((v for v in values if not v.startswith("-")), None)
        hosts: tuple[str, ...] = ()
        for w in wrappers:
            hosts = REGISTRIES.get((w, None), ()) or hosts
        if hosts and wrappers[-1:] in (("npx",), ("pnpx",), ("bunx",)) and _installed_bin(program, cwd):
            hosts = ()
        if program == "pipx" or program in ("uvx", "npx", "pnpx", "bunx"):
            hosts = REGISTRIES.get((program, None), ())
        hosts = hosts or REGISTRIES.get((program, sub), ())
        if program in ("docker", "podman", "nerdctl") and sub in CONTAINER_PULLS:
            image = next(
                (v for v in values[1:] if not v.startswith("-") and ("/" in v or ":" in v or v.isalnum())),
                None,
            )
            first = image.split("/", 1)[0] if image is not None and "/" in image else ""
            hosts = (first.split(":")[0],) if "." in first or ":" in first else ("registry-1.docker.io",)
        if program in OS_PACKAGES and sub in (
            "install",
            "update",
            "upgrade",
            "add",
            "-S",
            "-Sy",
            "dist-upgrade",
        ):
            self.opaque(f"{program} {sub}: reaches the package archives configured on this machine")
        for host in hosts:
            urls.append(host_fact(host, raw=host, scheme="https", via="default", program=program))
        why = exposure(program, list(values), wrappers)
        if why is not None:
            self.opaque(why)
            for host in LISTENERS.get(program, ()):
                urls.append(host_fact(host, raw=host, scheme="https", via="default", program=program))

    def for_loop(self, n: Node, env: Env, depth: int) -> None:
        """``for f in src/*.py; do ... "$f" ...; done``: inside the body ``$f`` is each of the words."""
        var = n.child_by_field_name("variable")
        name = text(var, self.src) if var is not None else ""
        values: list[Word] = []
        static = True
        for i, c in enumerate(n.children):
            if n.field_name_for_child(i) == "value":
                ws = words(c, self.home, self.src)
                static = static and all(w.static for w in ws)
                values.extend(ws)
        saved = self.loop_vars.get(name)
        if name and static and values and len(values) <= 64:
            self.loop_vars[name] = values
        else:
            self.loop_vars.pop(name, None)
        try:
            for c in n.named_children:
                if c is not var:
                    self.node(c, env, depth)
        finally:
            if saved is not None:
                self.loop_vars[name] = saved
            else:
                self.loop_vars.pop(name, None)

    def loop_value(self, v: str) -> list[Word] | None:
        """The words ``$f``, ``${f}`` or ``$f/rest`` stand for, when ``f`` is a bound loop variable."""
        m = _LOOP_REF.match(v)
        if m is None:
            return None
        bound = self.loop_vars.get(m.group(1) or m.group(2))
        if bound is None:
            return None
        rest = v[m.end() :]
        return [Word(w.value + rest, w.static, w.glob or bool(GLOB_CHARS.intersection(rest))) for w in bound]

    def listed(self, stdin: Stdin | None) -> Word | None:
        """``git ls-files | xargs CMD``: the arguments ``xargs`` appends are files a listing program
        printed, below the directories it listed (a glob of them), not arbitrary input."""
        if stdin is None or stdin.pipe is None:
            return None
        stages, idx = stdin.pipe
        peeked = self.peek(stages[idx])
        if peeked is None:
            return None
        prog, args = peeked
        values = [w.value for w in args]
        if not all(w.static for w in args):
            return None
        if (prog == "git" and values[:1] in (["ls-files"], ["ls-tree"])) or (
            prog == "git" and values[:1] == ["diff"] and "--name-only" in values
        ):
            return Word("*", True, True)
        if prog in ("fd", "fdfind") or (
            prog in ("rg", "grep")
            and any(v in ("-l", "--files", "-rl", "-lr", "--files-with-matches") for v in values)
        ):
            return Word("*", True, True)
        if prog == "find":
            starts = [v for v in values if not v.startswith(("-", "(", "!"))][:1]
            start = starts[0] if starts and values and not values[0].startswith("-") else "."
            return Word(start.rstrip("/") + "/*", True, True)
        return None

    def function(self, n: Node, env: Env, depth: int) -> None:
        """``name() { ...; }``: the body is analysed where it is defined; a name that is also a program
        changes what later commands of that name run."""
        name_node = n.child_by_field_name("name")
        name = text(name_node, self.src) if name_node is not None else ""
        if name in _KNOWN_NAMES or "/" in name:
            self.opaque(f"function {name[:80]} replaces the program of that name")
        for c in n.named_children:
            if c is not name_node:
                self.node(c, env.copy(), depth)

    def cd_target(self, word: Word, env: Env) -> tuple[str | None, ...]:
        if not word.static or word.value in ("-", "~-", "~+"):
            return (None,)
        v = word.value
        if v.startswith(("/", "~")):
            return (absolute(v, "/"),)
        cwds = env.cwds
        if len(cwds) == 1:
            base = cwds[0]
            return (_relative_dir(v, base) if base is not None else None,)
        return tuple(dict.fromkeys([_relative_dir(v, b) if b is not None else None for b in cwds]))

    # -- special programs: each a handler in :data:`_HANDLERS` -------------------------------------
    def h_cd(self, c: Call) -> str | None:
        ops = [w for w in c.args if not (w.static and w.value.startswith("-") and w.value != "-")]
        if c.program == "popd":
            new: tuple[str | None, ...] = (None,)
        elif not ops:
            new = (self.home or None,)
        else:
            new = self.cd_target(ops[0], c.env)
        if c.gate == "&&":
            c.outer_env.cwds = new
        else:
            c.outer_env.cwds = tuple(dict.fromkeys((*new, *c.outer_env.cwds)))[:MAX_CWDS]
        return None

    def h_git(self, c: Call) -> str | None:
        return self.git(c.args, c.env, c.depth)

    def h_shell(self, c: Call) -> str | None:
        self.shell(c.program, c.args, c.env, c.depth, c.stdin, c.sink(self))
        return None

    def h_powershell(self, c: Call) -> str | None:
        self.opaque(f"{c.program}: not a POSIX shell; its commands cannot be checked")
        return None

    def h_eval(self, c: Call) -> str | None:
        self.program_text(" ".join(w.value for w in c.args), c.env.copy(), c.depth + 1, "eval")
        return None

    def h_source(self, c: Call) -> str | None:
        self.script_source(c.program, c.args[:1], c.env, c.depth, c.stdin)
        return None

    def h_interpreter(self, c: Call) -> str | None:
        self.interpreter(c.program, c.args, c.env, c.depth, c.stdin, c.sink(self))
        return None

    def h_find(self, c: Call) -> str | None:
        self.find(c.args, c.env, c.depth, c.stdin, c.wrappers)
        return None

    def h_trap(self, c: Call) -> str | None:
        args = c.args
        if args and args[0].static and not args[0].value.startswith("-"):
            self.program_text(args[0].value, c.env.copy(), c.depth + 1, "trap")
        return None

    def h_alias(self, c: Call) -> str | None:
        for w in c.args:
            if "=" in w.value:
                name, _, value = w.value.partition("=")
                if not w.static:
                    self.opaque(f"alias {name[:80]}: its text is known only at run time")
                self.program_text(value, c.env.copy(), c.depth + 1, "alias")
        return None

    def h_env_dump(self, c: Call) -> str | None:
        if c.program != "env" or not c.args:
            self.out.env_dump = True
        return None

    def h_set(self, c: Call) -> str | None:
        if not c.args:
            self.out.env_dump = True
        return None

    def h_compgen(self, c: Call) -> str | None:
        if any(w.value in ("-e", "-v", "-A") for w in c.args):
            self.out.env_dump = True
        return None

    def h_later(self, c: Call) -> str | None:
        self.opaque(f"{c.program}: schedules commands to run later")
        self.feed(c.program, "shell", c.env, c.depth, c.stdin)
        return None

    def h_crontab(self, c: Call) -> str | None:
        if not any(w.value == "-l" for w in c.args):
            self.opaque("crontab: installs or removes commands that run later")
        return None

    def h_editor(self, c: Call) -> str | None:
        if any(w.value.startswith("+") or w.value in ("-c", "--cmd", "-S") for w in c.args):
            self.opaque(f"{c.program}: runs editor commands given on the command line")
        spec = SPECS.get(c.program)
        if spec is not None:
            apply_spec(spec, c.program, c.args, c.sink(self))
        else:
            self.operands(c.program, c.args, c.env)
        return None

    def h_uv(self, c: Call) -> str | None:
        if c.args and c.args[0].value == "pip":
            NETWORK["pip"](c.args[1:], c.sink(self), "uv pip")
            return "pip"
        self.operands(c.program, c.args, c.env)
        return None

    def h_network(self, c: Call) -> str | None:
        NETWORK[c.program](c.args, c.sink(self), c.program)
        return None

    def h_dd(self, c: Call) -> str | None:
        for w in c.args:
            key, eq, val = w.value.partition("=")
            if eq and key in ("if", "of"):
                self.ref(
                    Word(val, w.static, w.glob),
                    "read" if key == "if" else "write",
                    "argument",
                    c.program,
                    c.env.cwds,
                )
        return None

    def h_tar(self, c: Call) -> str | None:
        self.tar(c.args, c.sink(self))
        return None

    def h_spec(self, c: Call) -> str | None:
        if c.args:
            apply_spec(SPECS[c.program], c.program, c.args, c.sink(self))
        return None

    def h_ln(self, c: Call) -> str | None:
        """``ln``: the link is remembered, so a later use in the same command reaches the target; a
        hard link is another name for the same file, so making one is a write of its target."""
        self.h_spec(c)
        ops = [w for w in c.args if not (w.static and w.value.startswith("-"))]
        symbolic = any(
            w.value.startswith("-") and not w.value.startswith("--") and "s" in w.value for w in c.args
        )
        symbolic = symbolic or any(w.value == "--symbolic" for w in c.args)
        if not symbolic:
            for w in ops[:-1] if len(ops) > 1 else ops:
                self.ref(w, "write", "link_target", "ln", c.env.cwds)
        if len(ops) == 2 and ops[1].static and c.env.cwds[0] is not None:
            name = absolute(ops[1].value, c.env.cwds[0])
            target = ops[0]
            if symbolic and target.static and not target.value.startswith(("/", "~")):
                target = Word(absolute(target.value, name.rsplit("/", 1)[0] or "/"), True)
            if len(self.links) < 64:
                self.links[name] = target
        return None

    def h_benign(self, c: Call) -> str | None:
        return None

    def h_hash(self, c: Call) -> str | None:
        ops = [w.value for w in c.args]
        if any(v.startswith("-") and "p" in v for v in ops):
            self.opaque("hash -p: a command name is made to run another file")
            for w in c.args:
                if w.value.startswith(("/", ".", "~")):
                    self.ref(w, "exec", "argument", "hash", c.env.cwds)
        return None

    def h_enable(self, c: Call) -> str | None:
        if c.args:
            self.opaque("enable: loads or disables shell builtins, changing what later commands run")
        return None

    def git(self, args: list[Word], env: Env, depth: int = 0) -> str | None:
        result = _git.analyse(args, env.cwds[0], self.git_ref)
        self.out.git.append(result.fact)
        if result.urls:
            self.out.urls.extend(result.urls)
        for r in result.reasons:
            self.opaque(r)
        for word, where in result.texts:
            if not word.static:
                self.opaque(f"{where}: runs a command known only at run time")
            self.program_text(word.value, env.copy(), depth + 1, where)
        for argv in result.argvs:
            self.run(argv, env.copy(), depth, None, None, [], ("git",))
        return result.fact.subcommand

    def git_ref(self, word: Word, access: Access, via: str, base: str | None) -> None:
        self.ref(word, access, via, "git", (base,))

    def operands(self, program: str, args: list[Word], env: Env) -> None:
        """An unknown program: the values of output options (``-o``, ``--output``, ``--basetemp``...)
        are writes wherever they appear; after a delete or write verb in the subcommand position
        (``cmake -E rm``, ``tool copy``) operands that look like paths are deletes or writes; other such
        operands are reads, marked ``via="operand"`` (what the program does with them is not known)."""
        verb: Access | None = None
        seen_operand = False
        i, n = 0, len(args)
        cwds = env.cwds
        while i < n:
            w = args[i]
            v = w.value
            i += 1
            if w.static and len(v) > 1 and v[0] == "-":
                name, eq, attached = v.partition("=")
                if _OUTPUT_OPTION.match(name) is None:
                    if name[:2] == "-o" and len(name) > 2 and name[1] != "-" and _path_like(name[2:]):
                        self.ref(Word(v[2:], True, w.glob), "write", "option", program, cwds)  # -oFILE
                    continue
                if eq:
                    target: Word | None = Word(attached, True, w.glob)
                elif i < n and not args[i].value.startswith("-"):
                    target = args[i]
                    i += 1
                else:
                    target = None
                if target is not None:
                    self.ref(target, "write", "option", program, cwds)
                continue
            if not seen_operand:
                seen_operand = True
                if w.static:
                    verb = _VERBS.get(v.lower())
                    if verb is not None:
                        continue
            if (w.static and "://" not in v and _path_like(v)) or (
                not w.static and not w.procsub and not v.startswith("-")
            ):
                self.ref(w, verb or "read", "operand" if verb is None else "argument", program, cwds)

    # -- programs that run other code ---------------------------------------------------------------


Handler = Callable[[_Walker, Call], str | None]
"""The analysis of one special program's command line; returns its subcommand, if any."""


def _handlers() -> dict[str, Handler]:
    """``{program: handler}``; a program in several groups gets the first group's handler below."""
    groups: list[tuple[Iterable[str], Handler]] = [
        (_CD, _Walker.h_cd),
        (("git",), _Walker.h_git),
        (SHELLS, _Walker.h_shell),
        (_POWERSHELL, _Walker.h_powershell),
        (("eval",), _Walker.h_eval),
        (("source", "."), _Walker.h_source),
        (INTERPRETERS, _Walker.h_interpreter),
        (("find",), _Walker.h_find),
        (("trap",), _Walker.h_trap),
        (("alias",), _Walker.h_alias),
        (("hash",), _Walker.h_hash),
        (("enable",), _Walker.h_enable),
        (_ENV_DUMP, _Walker.h_env_dump),
        (("set",), _Walker.h_set),
        (("compgen",), _Walker.h_compgen),
        (("at", "batch"), _Walker.h_later),
        (("crontab",), _Walker.h_crontab),
        (_EDITORS, _Walker.h_editor),
        (("uv",), _Walker.h_uv),
        (NETWORK, _Walker.h_network),
        (("dd",), _Walker.h_dd),
        (("ln",), _Walker.h_ln),
        (("tar",), _Walker.h_tar),
        (SPECS, _Walker.h_spec),
        (_BENIGN, _Walker.h_benign),
    ]
    table: dict[str, Handler] = {}
    for names, handler in groups:
        for name in names:
            table.setdefault(name, handler)
    return table


_HANDLERS = _handlers()
"""Every program the walker analyses specially; any other program is a Python (its interpreter
handler) or unknown (:meth:`_Walker.operands`: operands that look like paths are reads)."""
_NETWORK_NAMES = frozenset(
    {p for p, _ in REGISTRIES}
    | set(LISTENERS)
    | OS_PACKAGES
    | {"docker", "podman", "nerdctl", "nc", "ncat"}
    | {"netcat", "socat", "ssh", "autossh", "php", "busybox", "http.server", "SimpleHTTPServer", "uvicorn"}
)
_NETWORK_WRAPPERS = frozenset(p for p, s in REGISTRIES if s is None)
_EFFECT_NAMES = frozenset({*EXEC_OPTIONS, *ESCAPES, *COMMAND_OPERANDS, *CODE_OPERANDS})
_KNOWN_NAMES = (
    *sorted(DANGEROUS_PROGRAMS),
    *sorted({*_HANDLERS, *WRAPPER_NAMES, *_RUNNER_HEADS, *_SUBCOMMANDS} - DANGEROUS_PROGRAMS - {"[", "."}),
)
"""Names a glob in a command name is matched against, and functions may not take."""


@lru_cache(maxsize=2048)
def analyse(command: str, cwd: str, home: str) -> Analysis:
    """Analyse ``command`` run in ``cwd`` (absolute) with ``$HOME`` = ``home``; never raises."""
    return analyse_uncached(command, cwd, home)


def analyse_uncached(command: str, cwd: str, home: str, *, fast: bool = True) -> Analysis:
    """:func:`analyse` without the cache; ``fast=False`` sends plain lists through the parser too
    (how the tests check that both routes agree)."""
    walker = _Walker(home, fast=fast)
    try:
        walker.program_text(command, Env((cwd,)), 0, "command")
    except RecursionError:
        walker.opaque("nested too deeply")
    except Exception as exc:  # a bug here must not let the action through silently
        walker.opaque(f"could not be analysed ({type(exc).__name__})")
    out = walker.out
    written = {(r.raw, r.base) for r in out.refs if r.access == "write"}
    for r in out.refs:
        if r.access == "exec" and (r.raw, r.base) in written:
            walker.opaque(f"runs {r.raw}, which the same command writes")
    return _new_analysis(
        commands=tuple(out.commands),
        refs=tuple(dict.fromkeys(out.refs)) if out.refs else (),
        urls=tuple(dict.fromkeys(out.urls)) if out.urls else (),
        git=tuple(out.git),
        reasons=tuple(out.reasons),
        parse_error=out.parse_error,
        env_dump=out.env_dump,
    )


_HOME: dict[str, str] = {}


def home_dir() -> str:
    """``os.path.expanduser("~")``, remembered per value of ``$HOME`` (looked up on every call)."""
    env_home = os.environ.get("HOME")
    if env_home is not None:
        found = _HOME.get(env_home)
        if found is not None:
            return found
    try:
        home = os.path.expanduser("~")
    except Exception:
        return ""
    if env_home is not None and len(_HOME) < 64:
        _HOME[env_home] = home
    return home
