"""Effects that hide in options, mini-languages and the environment, as data.

A program's effect is more than its operands: ``tar --to-command=CMD`` runs ``CMD``, ``ssh -o
ProxyCommand=CMD`` runs ``CMD`` locally, ``man -P CMD`` pages through ``CMD``, ``sqlite3 DB .shell``
and ``psql -c '\\! CMD'`` escape from their query languages, and an environment variable such as
``LD_PRELOAD``, ``GIT_EXTERNAL_DIFF`` or a ``PATH`` that starts with a relative directory changes which
code a command loads or runs. The tables here say, per program, which options carry a command (parsed
as shell by the walker), a file run or written, or a mini-language that can run commands (opaque);
:func:`risky_variable` says why an assignment changes what runs.

Long options are matched as GNU ``getopt_long`` matches them: the full name, ``--name=value``, or any
unambiguous-looking prefix of at least four characters (``--to-com=CMD``); short ones as ``-x VALUE``
or ``-xVALUE``.
"""

from __future__ import annotations

import re
from typing import Literal

from .._lazyre import LazyPattern, lazy_compile
from ._words import Word

Effect = Literal["shell", "opaque", "exec", "write", "read"]
"""What an option's value is: a shell command string, a command in a language the walker cannot
read, a file run, a file written, a file read."""

EXEC_OPTIONS: dict[str, dict[str, Effect]] = {
    "tar": {
        "--checkpoint-action": "shell",
        "--use-compress-program": "shell",
        "-I": "shell",
        "--to-command": "shell",
        "--info-script": "shell",
        "--new-volume-script": "shell",
        "-F": "shell",
        "--rsh-command": "shell",
        "--rmt-command": "shell",
        "--index-file": "write",
    },
    "bsdtar": {"--use-compress-program": "shell", "-I": "shell"},
    "zip": {"-TT": "shell", "--unzip-command": "shell"},
    "rsync": {"-e": "shell", "--rsh": "shell", "--rsync-path": "opaque", "--log-file": "write"},
    "ssh": {"-o": "shell", "-F": "read", "-E": "write", "-S": "write"},
    "scp": {"-S": "exec", "-o": "shell", "-F": "read"},
    "sftp": {"-S": "exec", "-o": "shell", "-F": "read", "-b": "read"},
    "man": {"-P": "shell", "--pager": "shell", "-H": "shell", "--html": "shell"},
    "git": {},
    "gdb": {"-ex": "opaque", "-iex": "opaque", "--eval-command": "opaque", "-x": "exec", "--command": "exec"},
    "lldb": {"-o": "opaque", "--one-line": "opaque", "-s": "exec", "--source": "exec"},
    "expect": {"-c": "opaque", "-f": "exec"},
    "nmap": {"--script": "opaque", "-oN": "write", "-oX": "write", "-oG": "write", "-oA": "write"},
    "nano": {"-s": "shell", "--speller": "shell"},
    "make": {"--eval": "opaque", "-E": "opaque"},
    "sqlite3": {"-cmd": "opaque", "-init": "exec"},
    "vim": {"-c": "opaque", "--cmd": "opaque", "-S": "exec"},
    "nvim": {"-c": "opaque", "--cmd": "opaque", "-S": "exec"},
    "timeit": {"-s": "opaque", "--setup": "opaque"},
    "openssl": {"-engine": "opaque"},
    "jq": {"-L": "read"},
    "strace": {"-o": "write", "--output": "write"},
    "ltrace": {"-o": "write", "--output": "write"},
    "valgrind": {"--log-file": "write", "--xml-file": "write"},
    "ffmpeg": {},
    "wget": {"--use-askpass": "exec"},
    "curl": {"--config": "read", "-K": "read"},
    "cmake": {"-P": "exec"},
    "docker": {},
    "node": {"-r": "exec", "--require": "exec", "--import": "exec", "--loader": "exec"},
    "less": {"--lesskey-file": "read"},
}
"""``{program: {option: effect}}``; options not listed keep the program's own analysis."""
EXEC_OPTIONS = {k: v for k, v in EXEC_OPTIONS.items() if v}

SSH_COMMAND_OPTIONS = lazy_compile(
    r"^\s*(?:proxycommand|localcommand|knownhostscommand|permitlocalcommand|remotecommand"
    r"|proxyusefdpass|controlpath|identityagent|pkcs11provider|securitykeyprovider)\s*[= ]\s*",
    re.I,
)
"""``ssh -o`` settings that run a local command or load code; the rest of ``-o`` settings are
connection options (their value is not a command)."""

ESCAPES: dict[str, LazyPattern[str]] = {
    "sqlite3": lazy_compile(r"(?m)(?:^|;)\s*\.(?:shell|system|load|once|output|import|read)\b"),
    "duckdb": lazy_compile(r"(?m)(?:^|;)\s*\.(?:shell|system|once|output|read)\b|\bCOPY\b.*\bTO\b", re.I),
    "psql": lazy_compile(r"\\!|\\[og]\s*\||\\copy\b[^\n]*\bprogram\b|\bprogram\s+'|\\[io]\s|\\ir?\s", re.I),
    "mysql": lazy_compile(
        r"\\!|^\s*system\s|\\\.|\bsource\s|into\s+(?:out|dump)file|load_file\s*\(", re.I | re.M
    ),
    "mariadb": lazy_compile(r"\\!|^\s*system\s|\\\.|\bsource\s|into\s+(?:out|dump)file", re.I | re.M),
    "less": lazy_compile(r"^\+.*!|^\+.*\|"),
    "more": lazy_compile(r"^\+.*!"),
    "ftp": lazy_compile(r"(?m)^\s*!"),
    "ed": lazy_compile(r"^\s*!|^\s*w\s*!", re.M),
}
"""Programs whose argument or standard-input language has a command escape: a match is opaque."""

COMMAND_OPERANDS: dict[str, int] = {
    "chroot": 1,
    "nsenter": 0,
    "unshare": 0,
    "valgrind": 0,
    "entr": 0,
    "perf": 1,
    "dbus-launch": 0,
    "fakeroot": 0,
    "xterm": 0,
    "sem": 0,
    "catchsegv": 0,
    "gtimeout": 1,
}
"""Programs whose first operands (after options and this many operands) are a command line they run."""

LOADER = lazy_compile(r"^ld(?:-linux(?:-[\w-]+)?|-musl-[\w]+)?\.so(?:\.[0-9]+)*$")
"""The dynamic loader (``/lib64/ld-linux-x86-64.so.2 /bin/sh``) runs its first operand."""

CODE_OPERANDS = frozenset({"timeit", "cProfile", "profile", "trace", "pdb", "runpy", "code"})
"""``python -m`` modules whose operands are Python code or a program they run."""

DANGEROUS_PROGRAMS = frozenset(
    {
        "rm",
        "rmdir",
        "dd",
        "mkfs",
        "shred",
        "wipefs",
        "truncate",
        "chmod",
        "chown",
        "kill",
        "pkill",
        "killall",
        "reboot",
        "shutdown",
        "halt",
        "poweroff",
        "curl",
        "wget",
        "nc",
        "ncat",
        "socat",
        "ssh",
        "scp",
        "rsync",
        "python",
        "python3",
        "perl",
        "ruby",
        "node",
        "claude",
        "codex",
        "aider",
        "gemini",
    }
)
"""Programs a glob in a command name or a shadowing function is checked against (besides the
walker's own table)."""

# -- the environment -------------------------------------------------------------------------------

_LOADS_CODE = frozenset(
    {
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "PS0",
        "PS1",
        "PS2",
        "PS4",
        "SHELLOPTS",
        "BASHOPTS",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "PYTHONWARNINGS",
        "PYTHONBREAKPOINT",
        "PYTHONINSPECT",
        "NODE_OPTIONS",
        "PERL5OPT",
        "PERL5DB",
        "RUBYOPT",
        "GEM_HOME",
        "GEM_PATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GCONV_PATH",
        "LOCPATH",
        "HOSTALIASES",
        "RESOLV_HOST_CONF",
        "TERMINFO",
        "MAKEFILES",
        "MAKEFLAGS",
        "IFS",
        "CDPATH",
        "HOME",
        "ZDOTDIR",
        "XDG_CONFIG_HOME",
        "XDG_CONFIG_DIRS",
        "INPUTRC",
        "HISTFILE",
        "NPM_CONFIG_USERCONFIG",
        "NPM_CONFIG_GLOBALCONFIG",
        "PIP_CONFIG_FILE",
        "CURL_HOME",
        "WGETRC",
        "DOCKER_HOST",
        "DOCKER_CONFIG",
    }
)
_RUNS_PROGRAM = frozenset(
    {
        "PAGER",
        "MANPAGER",
        "SYSTEMD_PAGER",
        "LESSOPEN",
        "LESSCLOSE",
        "LESSKEY",
        "EDITOR",
        "VISUAL",
        "BROWSER",
        "SUDO_EDITOR",
        "SUDO_ASKPASS",
        "SSH_ASKPASS",
        "SHELL",
        "TERMINAL",
        "DIFFTOOL",
        "TAR_OPTIONS",
        "GZIP",
        "BZIP2",
        "XZ_OPT",
        "ZSTD_CLEVEL",
        "RSYNC_RSH",
        "RSYNC_CONNECT_PROG",
        "CVS_RSH",
        "FCEDIT",
        "SVN_EDITOR",
        "HGEDITOR",
        "HG_EDITOR",
    }
)
_REGISTRY = lazy_compile(
    r"^(?:PIP_(?:EXTRA_)?INDEX_URL|PIP_FIND_LINKS|UV_(?:EXTRA_)?INDEX_URL|UV_INDEX|NPM_CONFIG_REGISTRY|YARN_REGISTRY|GOPROXY|GOFLAGS|CARGO_REGISTRIES_\w+|HTTPS?_PROXY|ALL_PROXY|https?_proxy|all_proxy)$"
)
_SAFE_GIT = lazy_compile(
    r"^GIT_(?:TRACE\w*|AUTHOR_\w+|COMMITTER_\w+|TERMINAL_PROMPT|MERGE_AUTOEDIT|CURL_VERBOSE|FLUSH"
    r"|OPTIONAL_LOCKS|PROGRESS_DELAY|ADVICE|REDACT_COOKIES|DEFAULT_HASH|LITERAL_PATHSPECS|NO_REPLACE_OBJECTS)$"
)


def risky_variable(name: str, value: str | None = None) -> str | None:
    """Why assigning ``name`` (``value`` as written, if known) changes what a command runs, loads or
    reaches, or ``None``."""
    if name.startswith("BASH_FUNC_"):
        return "imports a shell function that replaces a command"
    if name.startswith(("LD_", "DYLD_")):
        return "makes programs load other libraries"
    if name in _LOADS_CODE:
        return "makes the command load code or configuration from elsewhere"
    if name in _RUNS_PROGRAM:
        return "names a program the command runs"
    if name.startswith("GIT_") and _SAFE_GIT.match(name) is None:
        return "changes the repository, configuration or programs git uses"
    if _REGISTRY.match(name) is not None:
        return "changes the registry or proxy the command reaches"
    if name == "PATH":
        return _path_risk(_unquoted(value))
    if name in _SEARCH_PATHS:
        return _search_path_risk(name, _unquoted(value))
    return None


_SEARCH_PATHS = frozenset({"PYTHONPATH", "NODE_PATH", "PERL5LIB", "PERLLIB", "RUBYLIB", "CLASSPATH"})


def _unquoted(value: str | None) -> str | None:
    return None if value is None else value.replace('"', "").replace("'", "")


def _search_path_risk(name: str, value: str | None) -> str | None:
    """Directories of the project (relative, no ``..``) are what its own tests import anyway."""
    if value is None:
        return "changes where code is imported from"
    for part in value.split(":"):
        if part in (f"${name}", f"${{{name}}}", "", "."):
            continue
        if part.startswith(("/", "~", "$")) or ".." in part.split("/"):
            return f"imports code from {part}"
    return None


def _path_risk(value: str | None) -> str | None:
    """A directory searched before the system's that a command can fill: relative (the working
    directory, ``./bin``, an empty element), a temporary directory, or one with ``..``."""
    if value is None:
        return "changes where programs are found"
    for part in value.split(":"):
        if part in ("$PATH", "${PATH}"):
            return None  # what follows is searched after the old PATH
        if (
            not part
            or not part.startswith(("/", "~", "$HOME", "${HOME}", "$PWD", "${PWD}"))
            or part.startswith(("/tmp", "/var/tmp", "/dev/shm"))
            or ".." in part.split("/")
        ):
            return f"puts {part or 'the working directory'} before the system directories in PATH"
    return None


def option_value(arg: str, table: dict[str, Effect], following: Word | None) -> tuple[str, Word, bool] | None:
    """The table option ``arg`` gives, its value and whether the value is the next word, or ``None``."""
    if arg.startswith("--"):
        name, eq, attached = arg.partition("=")
        option = name if name in table else _long_prefix(name, table)
        if option is None:
            return None
        if eq:
            return option, Word(attached, True), False
        return (option, following, True) if following is not None else None
    if arg in table:
        return (arg, following, True) if following is not None else None
    for option in table:  # -xVALUE, -ex CMD: a listed single-dash option at the start of the word
        if not option.startswith("--") and len(option) == 2 and arg.startswith(option) and len(arg) > 2:
            return option, Word(arg[2:], True), False
    return None


def _long_prefix(name: str, table: dict[str, Effect]) -> str | None:
    if len(name) < 6:  # "--" and four letters
        return None
    return next((o for o in table if o.startswith("--") and o.startswith(name)), None)
