"""``secrets()``: no reading of secret files through any tool, and no dumping of the environment.

A secret file is matched on its resolved real path, so ``cat src/../.env``, a symlink to ``~/.ssh``,
``grep KEY .env``, ``source .env``, ``{ cat .env; }``, ``cat <(cat .env)`` and a ``Read`` tool call
are the same read. A glob (``cat .e*``) is expanded against the file system and denied when it
reaches a secret. Environment dumps (``env``, ``printenv``, ``set``, ``export -p``,
``/proc/self/environ``) and printing secret-looking variables (``echo $OPENAI_API_KEY``) are denied,
as are ``git show HEAD:.env``-style reads and recursive readers (``grep -r``, ``rg``, ``tar``) of a
directory that directly holds a secret file. A command the normaliser cannot see through that names a secret
file or the environment in its text is denied too (an opaque command asks anyway).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from ..._lazyre import lazy_compile
from ...normalise import bounded_glob
from .._base import NON_LLM_KINDS, BuiltinRule, facts_of
from .._globs import GlobSet

if TYPE_CHECKING:
    from ...action import Action, Decision
    from ...guard import RunState
    from ...normalise import Facts, PathFact

SECRET_FILES: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "**/.ssh/**",
    "**/.gnupg/**",
    "**/.aws/credentials",
    "**/.aws/config",
    "**/.azure/**",
    "**/.config/gcloud/**",
    "**/.config/gh/hosts.yml",
    "**/.docker/config.json",
    "**/.kube/config",
    "kubeconfig",
    "*.kubeconfig",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".pgpass",
    ".my.cnf",
    ".vault-token",
    ".htpasswd",
    "secrets.*",
    "credentials.json",
    "service-account*.json",
    "terraform.tfstate*",
    "*.tfvars",
    "/proc/*/environ",
)
"""Globs (any depth unless they contain a ``/``) naming files that hold credentials."""

NOT_SECRET: tuple[str, ...] = (
    "*.pub",
    "known_hosts*",
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "*.env.example",
)
"""Look-alikes that hold no secret (public keys, templates)."""

_TEXT_HINTS = lazy_compile(
    r"(?<![\w-])\.env(?![\w-]|\.(?:example|sample|template|dist))|id_(?:rsa|dsa|ecdsa|ed25519)(?!\.pub)"
    r"|\.aws/credentials|\.netrc|\.npmrc|\.pypirc|\.git-credentials|\.kube/config|\.ssh/|/environ\b"
    r"|\.pem\b|os\.environ|process\.env|\bENV\[|\$ENV\{|\bENVIRON\b|Deno\.env|getenv|printenv|secrets\.(?:ya?ml|json|toml|env)"
)
_GLOB_LIMIT = 1000
_SCAN_LIMIT = 2000
_SCAN_DEPTH = 8
_NOT_SEARCHED = frozenset({".git", "node_modules", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache"})
# Programs that read whole directory trees given as operands (or the working directory).
_RECURSIVE = frozenset(
    {"rg", "ag", "ack", "tar", "zip", "7z", "rsync", "du", "tree", "cpio", "scp", "rclone"}
)
_RECURSIVE_FLAG = frozenset({"grep", "egrep", "fgrep", "cp", "zip", "diff"})
_EXCLUDE_OPTIONS = ("--exclude=", "--exclude-dir=", "--ignore=", "--glob=!", "--iglob=!", "-g!", "-x")
_WALK_CWD = frozenset({"rg", "ag", "ack"})  # with no path operand they search the working directory
_SECRET_VAR = lazy_compile(
    r"\$\{?([A-Za-z_][A-Za-z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE|AUTH)[A-Za-z0-9_]*)",
    re.I,
)
_CREDENTIAL_HELPERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gh", ("token", "--show-token", "-t")),
    ("glab", ("token", "--show-token")),
    ("gpg", ("--export-secret-keys", "--export-secret-subkeys", "--export-ssh-key")),
    ("gpg2", ("--export-secret-keys", "--export-secret-subkeys")),
    ("aws", ("get", "export-credentials", "get-session-token", "get-login-password")),
    ("gcloud", ("print-access-token", "print-identity-token", "print-refresh-token")),
    ("az", ("get-access-token",)),
    ("kubectl", ("--raw",)),
    ("docker-credential-*", ("get",)),
    ("op", ("read", "get")),
    ("vault", ("read", "get", "token")),
    ("security", ("find-generic-password", "find-internet-password")),
    ("pass", ("show",)),
    ("bw", ("get",)),
    ("heroku", ("auth:token",)),
    ("doctl", ("token",)),
    ("ssh-add", ("-L",)),
    ("secret-tool", ("lookup",)),
)
"""``(program, words any of which makes it print a credential)``; ``*`` ends a program prefix."""
_HELPERS = {program: needles for program, needles in _CREDENTIAL_HELPERS if not program.endswith("*")}
_PRINTERS = frozenset({"echo", "printf", "print", "cat", "tee", "logger", "wall"})
_SCRIPT_RUNNERS = lazy_compile(
    r"^(?:python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|ruby|perl|php|bash|sh|zsh|dash|ksh|Rscript|lua)$"
)
_GIT_READERS = frozenset(
    {"show", "cat-file", "log", "diff", "blame", "grep", "archive", "annotate", "whatchanged", "format-patch"}
)


def _excludes(args: tuple[str, ...]) -> tuple[str, ...]:
    """Names a recursive reader is told to skip (``--exclude=.env``, ``-g '!.env'``, ``--ignore .env``)."""
    out: list[str] = []
    for i, a in enumerate(args):
        for prefix in _EXCLUDE_OPTIONS:
            if a.startswith(prefix) and len(a) > len(prefix):
                out.append(a[len(prefix) :])
        if a in ("--exclude", "--exclude-dir", "--ignore", "-g", "--glob", "--iglob") and i + 1 < len(args):
            value = args[i + 1]
            if a in ("-g", "--glob", "--iglob"):
                if value.startswith("!"):
                    out.append(value[1:])
            else:
                out.append(value)
    return tuple(o.rsplit("/", 1)[-1] for o in out if o)


class Secrets(BuiltinRule):
    rule_id = "secrets"
    kinds = NON_LLM_KINDS

    def __init__(
        self, *, extra: Iterable[str] = (), allow: Iterable[str] = (), env_dumps: bool = True
    ) -> None:
        self.patterns = (*SECRET_FILES, *extra)
        # case-insensitive: on macOS and Windows file systems `.ENV` is `.env`
        self.secret = GlobSet(self.patterns, ignore_case=True)
        self.exempt = GlobSet((*NOT_SECRET, *allow))
        self.env_dumps = env_dumps
        self._scans: dict[tuple[str, int, tuple[str, ...], bool], str | None] = {}

    def _credential_helpers(self, facts: Facts) -> Decision | None:
        """Programs whose output is a stored credential (``gh auth token``, ``gpg --export-secret-keys``,
        ``aws configure get``, ``git credential fill``...), or the environment of processes (``ps e``)."""
        for c in facts.commands:
            program = c.program
            needles = _HELPERS.get(program)
            if needles is None and program.startswith("docker-credential-"):
                needles = ("get",)
            if needles is not None and any(n in c.args for n in needles):
                return self.deny(f"{' '.join((program, *c.args)[:4])} prints a stored credential")
            if program == "git" and c.args[:2] in (("credential", "fill"), ("credential-store", "get")):
                return self.deny("git credential fill prints a stored password or token")
            if (
                self.env_dumps
                and c.program == "ps"
                and any(
                    (a.startswith("-") and "E" in a) or (not a.startswith("-") and "e" in a) for a in c.args
                )
            ):
                return self.deny("ps e prints the environment of processes")
        return None

    def is_secret(self, resolved: str) -> bool:
        rel = resolved.lstrip("/")
        return self.secret.match(rel, resolved) and not self.exempt.match(rel, resolved)

    def _hits(self, p: PathFact) -> str | None:
        if self.is_secret(p.resolved):
            return p.resolved
        if p.glob and not p.dynamic:
            found, complete = bounded_glob(p.resolved, _GLOB_LIMIT)
            for path in found:
                if self.is_secret(path):
                    return path
            if not complete and len(found) < _GLOB_LIMIT:
                return f"{p.resolved} (too broad to list)"
        return None

    def _secret_below(self, directory: str, skip: tuple[str, ...], hidden: bool) -> str | None:
        """A secret file below ``directory`` that a recursive reader reaches (bounded), or ``None``.

        Cached by the directory's modification time, which changes when an entry directly inside it is
        added or removed (not one deeper down).
        """
        try:
            st = os.stat(directory)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode):
            return None
        mtime = st.st_mtime_ns
        key = (directory, mtime, skip, hidden)
        cache = self._scans
        if key in cache:
            return cache[key]
        found = self._scan(directory, skip, hidden)
        if len(cache) >= 256:
            cache.clear()
        cache[key] = found
        return found

    def _scan(self, directory: str, skip: tuple[str, ...], hidden: bool) -> str | None:
        """A recursive reader reads every file below ``directory`` but the excluded names. Without
        excludes the directory's own entries are checked; a reader told to skip something (the way
        to dodge the check on ``.env``) is followed down, breadth first, at most
        :data:`_SCAN_LIMIT` entries and :data:`_SCAN_DEPTH` levels, symlinked directories not
        followed (the readers do not follow them by default)."""
        budget = _SCAN_LIMIT
        level = [directory]
        for _ in range(_SCAN_DEPTH if skip else 1):
            below: list[str] = []
            for d in level:
                try:
                    with os.scandir(d) as entries:
                        for entry in entries:
                            budget -= 1
                            if budget < 0:
                                return None
                            name = entry.name
                            if (not hidden and name.startswith(".")) or any(
                                fnmatchcase(name, s) for s in skip
                            ):
                                continue
                            if self.is_secret(entry.path):
                                return entry.path
                            if name not in _NOT_SEARCHED and entry.is_dir(follow_symlinks=False):
                                below.append(entry.path)
                except OSError:
                    continue
            if not below:
                return None
            level = below
        return None

    def _recursive_reads(self, facts: Facts) -> Decision | None:
        readers: dict[str, tuple[tuple[str, ...], bool]] = {}
        for c in facts.commands:
            prog = c.program
            if prog in _RECURSIVE:
                flags = "".join(a[1:] for a in c.args if a[:1] == "-" and a[1:2] != "-")
            elif prog in _RECURSIVE_FLAG:
                flags = "".join(a[1:] for a in c.args if a[:1] == "-" and a[1:2] != "-")
                if "r" not in flags.lower() and "--recursive" not in c.args:
                    continue
            else:
                continue
            skip = _excludes(c.args)
            # rg and ag skip hidden files unless told otherwise; the others read everything
            hidden = c.program not in _WALK_CWD or "u" in flags or "." in flags or "--hidden" in c.args
            readers[c.program] = (skip, hidden)
            if c.program in _WALK_CWD and not any(p.program == c.program for p in facts.paths):
                where = c.cwd or facts.cwd
                hit = self._secret_below(where, skip, hidden)
                if hit is not None:
                    return self.deny(f"{c.program} searches {where}, which holds the secret {hit}")
        if not readers:
            return None
        for p in facts.paths:
            found = readers.get(p.program or "")
            if found is not None and p.access == "read":
                hit = self._secret_below(p.resolved, *found)
                if hit is not None:
                    return self.deny(f"{p.program} reads {p.raw!r} recursively, which holds the secret {hit}")
        return None

    def _handed_over(self, facts: Facts) -> Decision | None:
        """A script (or ``xargs -a``) handed a secret file's name as an argument will read it."""
        for c in facts.commands:
            words: tuple[str, ...] = ()
            if _SCRIPT_RUNNERS.match(c.program):
                words = c.args[1:] if c.args and not c.args[0].startswith("-") else c.args
            elif "xargs" in c.wrappers:
                words = c.argv
            for word in words:
                w = word.split("=", 1)[1] if word.startswith("-") and "=" in word else word.lstrip("@")
                if not w or w.startswith("-") or "$" in w:
                    continue
                base = c.cwd or facts.cwd
                path = w if w.startswith("/") else os.path.join(base, w)
                if self.is_secret(os.path.normpath(path)) and os.path.exists(path):
                    return self.deny(f"{c.program} is handed the secret file {w!r}")
        return None

    def _git_reads(self, facts: Facts) -> Decision | None:
        for g in facts.git:
            if g.subcommand not in _GIT_READERS:
                continue
            for arg in g.args:
                if arg.startswith("-"):
                    continue
                path = arg.split(":", 1)[1] if ":" in arg else arg
                if path and self.secret.match(path.lstrip("/")) and not self.exempt.match(path.lstrip("/")):
                    return self.deny(f"git {g.subcommand} reads {arg!r}, a secret file in the repository")
        return None

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        for p in facts.paths:
            if p.access == "write":
                continue
            hit = self._hits(p)
            if hit is not None:
                verb = {"read": "reads", "exec": "runs", "delete": "moves or deletes"}.get(
                    p.access, "touches"
                )
                return self.deny(f"{verb} {p.raw!r}, a secret file ({hit})")
        shell = facts.shell
        if shell is None:
            return None
        if self.env_dumps and shell.env_dump:
            return self.deny("dumps the environment, which holds secrets")
        if shell.opaque and _TEXT_HINTS.search(shell.command[:16_384]):
            return self.deny("an opaque command that names a secret file or the environment")
        found = (
            self._git_reads(facts)
            or self._recursive_reads(facts)
            or self._handed_over(facts)
            or self._credential_helpers(facts)
        )
        if found is not None:
            return found
        if self.env_dumps and "<<<" in shell.command:
            m = _SECRET_VAR.search(shell.command[:65_536])
            if m:
                return self.deny(f"a here-string hands over the secret variable {m.group(1)}")
        if self.env_dumps and "$" in shell.command:
            for c in shell.commands:
                if c.program in _PRINTERS:
                    for a in c.args:
                        m = _SECRET_VAR.search(a)
                        if m:
                            return self.deny(f"{c.program} prints the secret variable {m.group(1)}")
        return None
