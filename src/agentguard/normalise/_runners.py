"""Programs that run other code: shells, ``eval``/``source``, interpreters, ``find -exec``, ``tar``.

A shell given ``-c STRING``, a here-doc, a here-string or a known pipe payload (``echo ... |``,
``printf ... |``, ``echo B64 | base64 -d |``) has that text parsed as shell, one level deeper; a shell
fed by a download, a decoder or anything else is opaque. Interpreters with inline code (``python -c``,
``perl -e``, ``node -e``, ``php -r``...) are always opaque and their code is scanned
(:mod:`._inline`). Mixed into the walker (:class:`._shell._Walker`), which provides the reporting
methods declared here.
"""

from __future__ import annotations

import binascii
import re
from typing import TYPE_CHECKING

from .._lazyre import lazy_compile
from . import _inline
from ._facts import Access, UrlFact
from ._paths import is_stdin
from ._programs import Sink
from ._state import Env, Out, Stdin
from ._urls import parse_url, urls_in_text
from ._words import Word, decode_ansi_c, literal, words
from ._wrappers import unwrap

if TYPE_CHECKING:
    from tree_sitter import Node

SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "rbash", "yash", "fish", "csh", "tcsh", "busybox"}
)
PYTHON = lazy_compile(r"^(?:python|pypy)[0-9.]*$")
INTERPRETERS: dict[str, tuple[str, frozenset[str]]] = {
    "perl": ("perl", frozenset({"-e", "-E"})),
    "ruby": ("ruby", frozenset({"-e"})),
    "node": ("javascript", frozenset({"-e", "--eval", "-p", "--print"})),
    "nodejs": ("javascript", frozenset({"-e", "--eval", "-p", "--print"})),
    "bun": ("javascript", frozenset({"-e", "--eval", "-p", "--print"})),
    "deno": ("javascript", frozenset({"eval"})),
    "php": ("php", frozenset({"-r", "-B", "-R", "-E"})),
    "lua": ("lua", frozenset({"-e"})),
    "luajit": ("lua", frozenset({"-e"})),
    "Rscript": ("r", frozenset({"-e"})),
    "R": ("r", frozenset({"-e"})),
    "osascript": ("applescript", frozenset({"-e"})),
    "tclsh": ("tcl", frozenset()),
    "jshell": ("java", frozenset()),
    "irb": ("ruby", frozenset()),
}
_DECODERS = frozenset(
    {
        "base64",
        "base32",
        "basenc",
        "xxd",
        "openssl",
        "gzip",
        "gunzip",
        "zcat",
        "bzip2",
        "bunzip2",
        "xz",
        "unxz",
        "zstd",
        "unzstd",
        "uudecode",
        "rev",
        "tr",
        "brotli",
        "lzma",
        "unlzma",
    }
)
_FETCHERS = frozenset(
    {
        "curl",
        "wget",
        "nc",
        "ncat",
        "netcat",
        "http",
        "https",
        "xh",
        "aria2c",
        "ssh",
        "fetch",
        "lynx",
        "w3m",
        "socat",
    }
)


class Runners:
    """Handlers for programs that run code; the walker supplies the state and reporting below."""

    home: str
    src: bytes
    out: Out

    def opaque(self, reason: str) -> None:
        raise NotImplementedError

    def ref(
        self, word: Word, access: Access, via: str, program: str | None, cwds: tuple[str | None, ...]
    ) -> None:
        raise NotImplementedError

    def program_text(self, source: str, env: Env, depth: int, where: str) -> None:
        raise NotImplementedError

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
        raise NotImplementedError

    def shell(
        self, program: str, args: list[Word], env: Env, depth: int, stdin: Stdin | None, sink: Sink
    ) -> None:
        if program == "busybox":
            return
        cmd_mode = from_stdin = False
        i = 0
        while i < len(args):
            w = args[i]
            v = w.value
            if not w.static or not v or v[0] not in "-+" or v in ("-", "--"):
                if v == "--":
                    i += 1
                break
            if v in ("--rcfile", "--init-file", "-o", "+o", "-O", "+O"):
                i += 2
                continue
            if v in ("--command", "-c") or (not v.startswith("--") and "c" in v[1:]):
                cmd_mode = True
            if not v.startswith("--") and "s" in v[1:]:
                from_stdin = True
            i += 1
        operands = args[i:]
        if cmd_mode:
            if operands:
                if not operands[0].static:
                    self.opaque(f"{program} -c: the command string is computed at run time")
                self.program_text(operands[0].value, env.copy(), depth + 1, f"{program} -c")
            return
        if operands and not from_stdin and not (operands[0].static and is_stdin(operands[0].value)):
            script = operands[0]
            if script.procsub:
                self.opaque(f"{program} runs a script produced at run time: {script.value}")
            else:
                self.ref(script, "exec", "argument", program, env.cwds)
            return
        self.feed(program, "shell", env, depth, stdin)

    def script_source(
        self, program: str, args: list[Word], env: Env, depth: int, stdin: Stdin | None
    ) -> None:
        if not args:
            return
        w = args[0]
        if w.procsub or (w.static and is_stdin(w.value) and w.value != "-"):
            if w.procsub:
                self.opaque(f"{program} runs a script produced at run time: {w.value}")
            else:
                self.feed(program, "shell", env, depth, stdin)
            return
        self.ref(w, "exec", "argument", program, env.cwds)

    def feed(self, program: str, language: str, env: Env, depth: int, stdin: Stdin | None) -> None:
        """``program`` reads code from standard input: analyse it when it is known."""
        payload = self.payload(stdin, env, depth) if stdin is not None else None
        if payload is None:
            return  # interactive: nothing is fed
        if payload.file is not None:
            self.ref(payload.file, "exec", "redirect", program, env.cwds)
            if language != "shell":
                self.opaque(f"{program} runs code from {payload.file.value}")
            return
        if payload.reason is not None:
            self.opaque(f"{payload.reason} piped to {program}")
        if payload.text is not None:
            if language == "shell":
                self.program_text(payload.text, env.copy(), depth + 1, f"{payload.source} fed to {program}")
            else:
                self.code(program, language, payload.text, payload.source, env)

    def payload(self, stdin: Stdin, env: Env, depth: int) -> Stdin:
        if stdin.pipe is None:
            return stdin
        stages, idx = stdin.pipe
        peeked = self.peek(stages[idx])
        if peeked is None:
            return Stdin(reason="output of a compound command", source="pipe")
        prog, args = peeked
        if prog in ("echo", "printf") and all(w.static for w in args):
            return Stdin(text=echo_text(prog, args), source=f"{prog} output")
        if prog == "cat" and len(args) == 1 and args[0].static:
            return Stdin(file=args[0], source="pipe")
        if prog in _DECODERS:
            decoded = self.decode(prog, args, stages, idx)
            return Stdin(text=decoded, reason=f"decoded payload ({prog})", source="decoded payload")
        if prog in _FETCHERS:
            return Stdin(reason=f"download ({prog})", source="pipe")
        return Stdin(reason=f"output of {prog}", source="pipe")

    def decode(self, prog: str, args: list[Word], stages: list[Node], idx: int) -> str | None:
        """``echo B64 | base64 -d``: the decoded text, so its commands are facts too."""
        if prog != "base64" or idx == 0 or not any(w.value in ("-d", "--decode", "-D") for w in args):
            return None
        before = self.peek(stages[idx - 1])
        if before is None or before[0] not in ("echo", "printf") or not all(w.static for w in before[1]):
            return None
        import base64

        try:
            raw = echo_text(before[0], before[1]).strip()
            return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None

    def peek(self, n: Node) -> tuple[str, list[Word]] | None:
        if n.type == "redirected_statement":
            body = n.child_by_field_name("body")
            if body is None:
                return None
            n = body
        if n.type != "command":
            return None
        argv: list[Word] = []
        for c in n.children:
            if c.type == "command_name":
                argv.extend(words(c.named_children[0] if c.named_children else c, self.home, self.src))
            elif (
                c.is_named
                and not c.type.endswith("redirect")
                and c.type not in ("variable_assignment", "comment")
            ):
                argv.extend(words(c, self.home, self.src))
        u = unwrap(argv)
        if not u.words or not u.words[0].static:
            return None
        return u.words[0].value.rsplit("/", 1)[-1], u.words[1:]

    def interpreter(
        self, program: str, args: list[Word], env: Env, depth: int, stdin: Stdin | None, sink: Sink
    ) -> None:
        if PYTHON.match(program):
            language, code_opts = "python", frozenset({"-c"})
        else:
            language, code_opts = INTERPRETERS[program]
        codes: list[Word] = []
        operands: list[Word] = []
        inplace = False
        i = 0
        while i < len(args):
            w = args[i]
            v = w.value
            if operands or not w.static or not v.startswith("-") or v == "-":
                if not operands and v in code_opts:  # deno eval CODE
                    if i + 1 < len(args):
                        codes.append(args[i + 1])
                    i += 2
                    continue
                operands.append(w)
                i += 1
                continue
            if v == "--":
                operands.extend(args[i + 1 :])
                break
            if v in code_opts:
                if i + 1 < len(args):
                    codes.append(args[i + 1])
                i += 2
                continue
            if v.startswith("--") and "=" in v and v.split("=", 1)[0] in code_opts:
                codes.append(Word(v.split("=", 1)[1], w.static))
                i += 1
                continue
            letters = v[1:] if not v.startswith("--") else ""
            hit = next((k for k, ch in enumerate(letters) if "-" + ch in code_opts), None)
            if language in ("perl", "ruby") and "i" in letters:
                inplace = True
            if hit is not None:
                rest = letters[hit + 1 :]
                if rest:
                    codes.append(Word(rest, w.static))
                    i += 1
                elif i + 1 < len(args):
                    codes.append(args[i + 1])
                    i += 2
                else:
                    i += 1
                continue
            if (language == "python" and v in ("-W", "-X")) or (
                language == "perl" and v in ("-I", "-M", "-m", "-x")
            ):
                i += 2
                continue
            i += 1
        if codes:
            for c in codes:
                self.code(
                    program,
                    language,
                    c.value,
                    f"{program} {'-e' if language != 'python' else '-c'}",
                    env,
                    static=c.static,
                )
            for w in operands:
                self.ref(w, "write" if inplace else "read", "argument", program, env.cwds)
            return
        if not operands or (operands[0].static and is_stdin(operands[0].value)):
            self.feed(program, language, env, depth, stdin)
            return
        script = operands[0]
        if script.static and "://" in script.value:
            self.out.urls.extend(urls_in(script.value, program))
            self.opaque(f"{program} runs code downloaded from {script.value}")
            return
        if script.procsub:
            self.opaque(f"{program} runs code produced at run time: {script.value}")
            return
        if program in ("deno", "bun") and script.value in ("run", "x", "test", "task"):
            operands = operands[1:]
            if not operands:
                return
            script = operands[0]
        self.ref(script, "exec", "argument", program, env.cwds)

    def code(
        self, program: str, language: str, code: str, source: str, env: Env, *, static: bool = True
    ) -> None:
        scan = _inline.scan(code, language=language, program=program)
        self.opaque(
            _inline.reason(language, source, scan.touches if static else ["values known only at run time"])
        )
        for raw, access in scan.paths:
            self.ref(Word(raw, True), access, "inline_code", program, env.cwds)
        self.out.urls.extend(scan.urls)

    def find(
        self, args: list[Word], env: Env, depth: int, stdin: Stdin | None, wrappers: tuple[str, ...]
    ) -> None:
        i = 0
        while (i < len(args) and args[i].value in ("-H", "-L", "-P")) or (
            i < len(args) and args[i].value.startswith(("-D", "-O"))
        ):
            i += 2 if args[i].value == "-D" else 1
        starts: list[Word] = []
        while i < len(args) and not (
            args[i].static and (args[i].value.startswith("-") or args[i].value in ("(", "!", ")", ","))
        ):
            starts.append(args[i])
            i += 1
        if not starts:
            starts = [literal(".")]
        for s in starts:
            self.ref(s, "read", "argument", "find", env.cwds)
        under = [Word(s.value.rstrip("/") + "/*", s.static, True) for s in starts]
        expr = args[i:]
        j = 0
        while j < len(expr):
            v = expr[j].value
            if v == "-delete":
                for u in under:
                    self.ref(u, "delete", "argument", "find", env.cwds)
            elif v in ("-fprint", "-fprint0", "-fprintf", "-fls") and j + 1 < len(expr):
                self.ref(expr[j + 1], "write", "option", "find", env.cwds)
            elif v in ("-exec", "-execdir", "-ok", "-okdir"):
                k = j + 1
                sub: list[Word] = []
                while k < len(expr) and expr[k].value not in (";", "+"):
                    sub.append(expr[k])
                    k += 1
                expanded: list[Word] = []
                for w in sub:
                    if "{}" in w.value:
                        expanded.append(
                            Word(w.value.replace("{}", under[0].value), w.static, True)
                            if w.value != "{}"
                            else under[0]
                        )
                    else:
                        expanded.append(w)
                self.run(expanded, env.copy(), depth, None, None, [], (*wrappers, "find"))
                j = k
            j += 1

    def tar(self, args: list[Word], sink: Sink) -> None:
        first = args[0].value if args and args[0].static and not args[0].value.startswith("-") else ""
        rest = args[1:] if first else args
        modes = set(first)
        archive: Word | None = None
        directory: Word | None = None
        operands: list[Word] = []
        i = 0
        if "f" in first and rest:
            archive, rest = rest[0], rest[1:]
        while i < len(rest):
            v = rest[i].value
            if v in ("-f", "--file", "-C", "--directory") and i + 1 < len(rest):
                if v in ("-f", "--file"):
                    archive = rest[i + 1]
                else:
                    directory = rest[i + 1]
                i += 2
                continue
            if v.startswith(("--file=", "--directory=")):
                key, _, val = v.partition("=")
                if key == "--file":
                    archive = Word(val, rest[i].static)
                else:
                    directory = Word(val, rest[i].static)
            elif v.startswith("--"):
                modes.update(
                    {
                        "--extract": "x",
                        "--get": "x",
                        "--create": "c",
                        "--append": "r",
                        "--update": "u",
                        "--list": "t",
                    }.get(v, "")
                )
            elif v.startswith("-"):
                letters = v[1:]
                modes.update(letters)
                if letters.endswith("f") and i + 1 < len(rest):
                    archive = rest[i + 1]
                    i += 1
                elif letters.endswith("C") and i + 1 < len(rest):
                    directory = rest[i + 1]
                    i += 1
            else:
                operands.append(rest[i])
            i += 1
        if "x" in modes:
            if archive is not None:
                sink.ref(archive, "read", "argument")
            target = directory.value.rstrip("/") + "/*" if directory is not None else "*"
            sink.ref(
                Word(target, directory.static if directory is not None else True, True), "write", "argument"
            )
        elif modes & set("cru"):
            if archive is not None:
                sink.ref(archive, "write", "argument")
            for w in operands:
                sink.ref(w, "read", "argument")
        elif archive is not None:
            sink.ref(archive, "read", "argument")


def urls_in(value: str, program: str) -> list[UrlFact]:
    facts = urls_in_text(value, via="argument", program=program)
    if not facts and "://" in value:
        fact = parse_url(value, via="argument", program=program)
        if fact is not None:
            facts.append(fact)
    return facts


def echo_text(program: str, args: list[Word]) -> str:
    values = [w.value for w in args]
    if program == "echo":
        interpret = False
        while values and re.fullmatch(r"-[neE]+", values[0]):
            interpret = interpret or "e" in values[0]
            values = values[1:]
        out = " ".join(values)
        return decode_ansi_c(out) if interpret else out
    if not values:
        return ""
    fmt, rest = values[0], values[1:]
    body = decode_ansi_c(fmt)
    if rest and "%s" in body:
        try:
            return (
                body.replace("%%", "%") % tuple(rest[: body.count("%s")])
                if body.count("%s") <= len(rest)
                else body
            )
        except (TypeError, ValueError):
            return body
    return body
