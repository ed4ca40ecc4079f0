"""Programs that run another program: peel them off to find what really runs.

``sudo -u x env -i FOO=1 timeout 5 nice -n 5 rm -rf /`` runs ``rm -rf /`` with wrappers
``("sudo", "env", "timeout", "nice")``. Some wrappers change the working directory (``env -C``,
``sudo -D``), take arguments from standard input (``xargs``) or take a command *string* instead of a
command line (``watch``, ``su -c``, ``flock -c``, ``npx -c``): the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._lazyre import lazy_compile
from ._options import getopt, has, values
from ._words import Word, literal

_ASSIGNMENT = lazy_compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|BASH_FUNC_[^=/]*)=")
_PYTHON = lazy_compile(r"^(?:python|pypy)[0-9.]*$")
MAX_WRAPPERS = 16

# name -> (letters taking a value, long options taking a value, operands before the command)
_SIMPLE: dict[str, tuple[str, frozenset[str], int]] = {
    "nohup": ("", frozenset(), 0),
    "builtin": ("", frozenset(), 0),
    "exec": ("a", frozenset(), 0),
    "time": ("of", frozenset({"output", "format"}), 0),
    "timeout": ("sk", frozenset({"signal", "kill-after"}), 1),
    "nice": ("n", frozenset({"adjustment"}), 0),
    "ionice": ("cnpPu", frozenset({"class", "classdata", "pid", "pgid", "uid"}), 0),
    "stdbuf": ("ioe", frozenset({"input", "output", "error"}), 0),
    "setsid": ("", frozenset(), 0),
    "chronic": ("", frozenset(), 0),
    "unbuffer": ("", frozenset(), 0),
    "caffeinate": ("tw", frozenset(), 0),
    "torsocks": ("aPup", frozenset(), 0),
    "proxychains": ("f", frozenset(), 0),
    "proxychains4": ("f", frozenset(), 0),
    "doas": ("uC", frozenset(), 0),
    "strace": ("abeEIoOpPsSuUX", frozenset(), 0),
    "ltrace": ("aAenopsSuX", frozenset(), 0),
    "taskset": ("", frozenset(), 1),
    "numactl": ("CmNpP", frozenset(), 0),
    "busybox": ("", frozenset(), 0),
    "toybox": ("", frozenset(), 0),
    "catchsegv": ("", frozenset(), 0),
    "firejail": ("", frozenset(), 0),
    "unshare": ("", frozenset(), 0),
    "systemd-run": ("pEu", frozenset({"property", "setenv", "unit"}), 0),
    "faketime": ("", frozenset(), 1),
    "sg": ("", frozenset(), 1),
    "pkexec": ("", frozenset({"user"}), 0),
    "setpriv": ("", frozenset({"reuid", "regid", "groups", "inh-caps", "bounding-set"}), 0),
    "rlwrap": ("", frozenset(), 0),
    "xvfb-run": ("nsfe", frozenset(), 0),
    "dbus-run-session": ("", frozenset(), 0),
    "ssh-agent": ("aEPt", frozenset(), 0),
    "chrt": ("", frozenset(), 1),
    "coproc": ("", frozenset(), 0),
}
_TEXT_WRAPPERS = frozenset({"watch", "su", "runuser", "script"})
RUNNERS: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("uv", "run"): (
        "pw",
        frozenset(
            {
                "with",
                "python",
                "directory",
                "project",
                "env-file",
                "package",
                "extra",
                "group",
                "index",
                "index-url",
            }
        ),
    ),
    ("poetry", "run"): ("C", frozenset({"directory"})),
    ("pdm", "run"): ("p", frozenset({"project"})),
    ("hatch", "run"): ("", frozenset()),
    ("pipx", "run"): ("", frozenset({"spec", "python", "index-url"})),
    ("pnpm", "exec"): ("C", frozenset({"dir"})),
    ("pnpm", "dlx"): ("", frozenset({"package"})),
    ("npm", "exec"): ("", frozenset({"package"})),
    ("bundle", "exec"): ("", frozenset()),
    ("conda", "run"): ("np", frozenset({"name", "prefix"})),
}
_NPX = frozenset({"npx", "bunx", "pnpx", "uvx"})
WRAPPER_NAMES = frozenset(
    {"env", "command", "sudo", "sudoedit", "xargs", "flock", *_TEXT_WRAPPERS, *_NPX, *_SIMPLE}
)
"""Programs :func:`unwrap` peels (besides ``python -m`` and two-word runners such as ``uv run``)."""


@dataclass(slots=True)
class Unwrapped:
    words: list[Word]
    """The command that finally runs (possibly empty: ``env`` alone, ``nohup`` alone)."""
    wrappers: list[str] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)
    """The assignments as written (``NAME=VALUE``), in the order of :attr:`assignments`."""
    chdir: Word | None = None
    stdin_args: bool = False
    """Arguments are appended from standard input (``xargs``)."""
    text: Word | None = None
    """The wrapper runs this command *string* through a shell (``watch 'cmd'``, ``su -c 'cmd'``)."""
    reasons: list[str] = field(default_factory=list)
    env_dump: bool = False
    privileged: bool = False


def _base(value: str) -> str:
    return value.rsplit("/", 1)[-1]


_ENV_LONG = frozenset({"unset", "chdir", "split-string"})
_SUDO_LONG = frozenset(
    {
        "user",
        "group",
        "close-from",
        "chdir",
        "host",
        "prompt",
        "role",
        "type",
        "command-timeout",
        "other-user",
    }
)
_XARGS_LONG = frozenset(
    {
        "eof",
        "replace",
        "max-lines",
        "max-args",
        "max-procs",
        "max-chars",
        "delimiter",
        "arg-file",
        "process-slot-var",
    }
)
_NPX_LONG = frozenset({"package", "call", "from", "with"})


def unwrap(argv: list[Word]) -> Unwrapped:
    """Peel wrappers off ``argv`` (bounded); never raises."""
    out = Unwrapped(words=argv)
    for _ in range(MAX_WRAPPERS):
        words = out.words
        if not words or not words[0].static:
            return out
        name = _base(words[0].value)
        rest = words[1:]
        if name == "env":
            p = getopt(rest, short="uCS", long=_ENV_LONG, stop_at_operand=True)
            for w in values(p, "-C", "--chdir"):
                out.chdir = w
            operands = p.operands
            while operands and operands[0].static and _ASSIGNMENT.match(operands[0].value):
                out.assignments.append(operands[0].value.split("=", 1)[0])
                out.assigned.append(operands[0].value)
                operands = operands[1:]
            for w in values(p, "-S", "--split-string"):
                import shlex

                try:
                    operands = [literal(v) for v in shlex.split(w.value)] + operands
                except ValueError:
                    out.reasons.append("env -S string cannot be split")
            if not operands:
                out.env_dump = not has(p, "-i", "--ignore-environment")
                out.words = [words[0]]
                return out
            out.wrappers.append("env")
            out.words = operands
            continue
        if name == "command":
            p = getopt(rest, stop_at_operand=True)
            if has(p, "-v", "-V"):
                return out
            out.wrappers.append("command")
            out.words = p.operands
            continue
        if name in ("sudo", "sudoedit"):
            p = getopt(
                rest,
                short="ugCDhprtTUc",
                long=_SUDO_LONG,
                stop_at_operand=True,
            )
            out.privileged = True
            for w in values(p, "-D", "--chdir"):
                out.chdir = w
            if name == "sudoedit" or has(p, "-e", "--edit"):
                out.wrappers.append("sudo")
                out.words = [literal("sudoedit"), *p.operands]
                return out
            operands = p.operands
            while operands and operands[0].static and _ASSIGNMENT.match(operands[0].value):
                out.assignments.append(operands[0].value.split("=", 1)[0])
                out.assigned.append(operands[0].value)
                operands = operands[1:]
            if not operands:
                if has(p, "-s", "-i", "--shell", "--login"):
                    out.wrappers.append("sudo")
                    out.words = [literal("sh")]
                return out
            out.wrappers.append("sudo")
            out.words = operands
            continue
        if name == "xargs":
            p = getopt(
                rest,
                short="EILnPsda",
                long=_XARGS_LONG,
                stop_at_operand=True,
            )
            out.wrappers.append("xargs")
            out.stdin_args = True
            replace = [w.value for w in values(p, "-I", "--replace")] + [
                "{}" for n, _ in p.options if n == "-i"
            ]
            operands = p.operands or [literal("echo")]
            if replace and replace[0]:  # the input goes where the placeholder is, not at the end
                out.stdin_args = False
                token = replace[0]
                operands = [Word(w.value, False) if token in w.value else w for w in operands]
            out.words = operands
            continue
        if name in _TEXT_WRAPPERS or name == "flock":
            p = getopt(
                rest, short="cnwdgsEuCfx" if name != "watch" else "nd", stop_at_operand=name == "watch"
            )
            cmd = values(p, "-c", "--command")
            out.wrappers.append(name)
            if name in ("su", "runuser", "sudo"):
                out.privileged = True
            if cmd:
                out.text = cmd[0]
                out.words = []
                return out
            if name == "watch" and p.operands:
                out.text = Word(" ".join(w.value for w in p.operands), all(w.static for w in p.operands))
                out.words = []
                return out
            if name == "flock" and len(p.operands) > 1:
                out.words = p.operands[1:]
                continue
            if name == "script" and p.operands:
                out.words = []
                return out
            out.words = [literal("sh")] if name in ("su", "runuser") else []
            return out
        if name in _NPX:
            p = getopt(rest, short="pc", long=_NPX_LONG, stop_at_operand=True)
            out.wrappers.append(name)
            call = values(p, "-c", "--call")
            if call:
                out.text = call[0]
                out.words = []
                return out
            if not p.operands:
                return out
            first = p.operands[0]
            pkg = first.value
            if pkg.startswith("@"):
                pkg = pkg.split("/", 1)[-1]
            pkg = pkg.split("@", 1)[0]
            out.words = [Word(pkg, first.static), *p.operands[1:]]
            continue
        if name in _SIMPLE:
            short, long, skip = _SIMPLE[name]
            p = getopt(rest, short=short, long=long, stop_at_operand=True)
            operands = p.operands
            if name == "nice":
                operands = [w for w in operands[:1] if not w.value.lstrip("-").isdigit()] + operands[1:]
            operands = operands[skip:]
            out.wrappers.append(name)
            out.words = operands
            if name in ("doas", "pkexec"):
                out.privileged = True
            if name == "coproc" and len(operands) > 1 and operands[1].value in ("{", "("):
                out.words = operands[2:]
            continue
        if len(words) > 1 and words[1].static and (name, words[1].value) in RUNNERS:
            short, long = RUNNERS[(name, words[1].value)]
            p = getopt(words[2:], short=short, long=long, stop_at_operand=True)
            out.wrappers.append(f"{name} {words[1].value}")
            out.words = p.operands
            continue
        if _PYTHON.match(name):
            module = _python_module(rest)
            if module is not None:
                out.wrappers.append(f"{name} -m")
                out.words = module
                continue
        return out
    out.reasons.append("too many nested wrappers")
    return out


def _python_module(args: list[Word]) -> list[Word] | None:
    """``python [opts] -m MOD args`` → ``[MOD, *args]``; ``None`` for ``-c``, a script or stdin."""
    i = 0
    while i < len(args):
        v = args[i].value
        if not args[i].static or not v.startswith("-") or v in ("-", "--"):
            return None
        if v.startswith("-m"):
            if len(v) > 2:
                return [Word(v[2:], True), *args[i + 1 :]]
            return args[i + 1 :] if i + 1 < len(args) else None
        if "c" in v[1:] and not v.startswith("--"):
            return None
        i += 2 if v in ("-W", "-X") else 1
    return None
