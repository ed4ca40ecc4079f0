"""``destructive_commands()``: commands that destroy data, history or machines.

Decided on the normaliser's facts, so quoting, wrappers (``sudo``, ``env``, ``xargs``), ``bash -c``
strings, ``cd`` and ``git -C`` change nothing:

- recursive ``rm`` outside the scope root, on the root itself, ``/``, the home directory or ``.git``
  (and ``--no-preserve-root``); moving or deleting ``/``, ``~``, the root or ``.git`` in any way;
  ``find ... -delete`` outside the root;
- ``mkfs*``, ``wipefs``, ``fdisk`` and friends, ``dd of=/dev/...``, any write to a block device;
  ``shred``, ``truncate``; ``chmod -R 777`` (recursive world-writable or set-id);
- ``git push --force/--force-with-lease/+refspec/--delete/:branch``, ``git reset --hard``,
  ``git clean -f``, ``git filter-branch``; other forced git operations ask;
- ``terraform destroy``, ``kubectl delete namespace``/``--all``, ``gh repo delete``, ``aws s3 rb`` and
  ``rm --recursive``, ``npm unpublish`` (``docker system prune`` and ``helm uninstall`` ask);
- SQL that drops or empties (``psql -c "DROP TABLE ..."``, ``mysql -e``, ``sqlite3``), ``dropdb``,
  ``redis-cli FLUSHALL``; ``shutdown``/``reboot``, ``kill -9 -1``, ``crontab -r``, fork bombs.

A command the normaliser cannot see through answers ``opaque`` (``"ask"`` by default, or ``"deny"``);
its text is also searched for the spellings above, which deny.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Literal

from ..._lazyre import lazy_compile
from .._base import NON_LLM_KINDS, BuiltinRule, facts_of

if TYPE_CHECKING:
    from ...action import Action, Decision
    from ...guard import RunState
    from ...normalise import CommandFact, Facts, PathFact

_DISK_TOOLS = frozenset(
    {"mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted", "blkdiscard", "badblocks"}
)
_ALWAYS = frozenset(
    {"shred", "truncate", "dropdb", "dropuser", "killall5", "halt", "poweroff", "reboot", "shutdown"}
)
_SQL_CLIENTS = frozenset(
    {
        "psql",
        "mysql",
        "mariadb",
        "sqlite3",
        "sqlcmd",
        "clickhouse-client",
        "clickhouse",
        "duckdb",
        "cockroach",
        "mongo",
        "mongosh",
    }
)
_SQL = lazy_compile(
    r"\b(?:DROP\s+(?:TABLE|DATABASE|SCHEMA|VIEW|INDEX|USER|ROLE|COLLECTION|OWNED)|TRUNCATE\s+(?:TABLE\s+)?\w"
    r"|DELETE\s+FROM\s+[\w.\"`\[\]]+(?:\s+(?:AS\s+)?\w+)?\s*(?:;|$|\)|RETURNING\b)"
    r"|dropDatabase\s*\(|\.drop\s*\(\s*\)|deleteMany\s*\(\s*\{\s*\}\s*\))",
    re.I,
)
_CHANGES_ROWS = lazy_compile(r"\b(?:DELETE\s+FROM|UPDATE\s+[\w.\"`\[\]]+\s+SET)\b", re.I)
_WHERE = lazy_compile(r"\bWHERE\b", re.I)
_SQL_COMMENT = lazy_compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*", re.S)
_WHERE_ALWAYS = lazy_compile(
    r"\bWHERE\s+(?:1\s*=\s*1|TRUE|1|'(\w*)'\s*=\s*'\1'|(\w+)\s*=\s*\2|NOT\s+FALSE|\w+\s+IS\s+NOT\s+NULL"
    r"|\w+\s*(?:>=?|<>|!=)\s*-?\d*\s*(?:OR\s+1\s*=\s*1)?)\s*(?:;|$)",
    re.I,
)
_PUBLISH: dict[str, frozenset[str]] = {
    "twine": frozenset({"upload", "register"}),
    "cargo": frozenset({"publish", "yank", "owner"}),
    "poetry": frozenset({"publish"}),
    "uv": frozenset({"publish"}),
    "hatch": frozenset({"publish"}),
    "flit": frozenset({"publish"}),
    "pdm": frozenset({"publish"}),
    "gem": frozenset({"push", "yank", "owner"}),
    "npm": frozenset({"publish", "unpublish", "deprecate", "dist-tag", "owner"}),
    "pnpm": frozenset({"publish"}),
    "yarn": frozenset({"publish", "npm"}),
    "bun": frozenset({"publish"}),
    "dotnet": frozenset({"nuget"}),
    "nuget": frozenset({"push", "delete"}),
    "mvn": frozenset({"deploy", "release:perform"}),
    "gradle": frozenset({"publish"}),
    "helm": frozenset({"push"}),
    "docker": frozenset({"push"}),
    "podman": frozenset({"push"}),
    "gh": frozenset({"release"}),
    "vsce": frozenset({"publish", "unpublish"}),
    "ovsx": frozenset({"publish"}),
    "pod": frozenset({"trunk"}),
    "conda": frozenset({"upload"}),
    "anaconda": frozenset({"upload"}),
}
"""``{program: subcommands}`` that publish (or withdraw) a package for everyone: not undone."""
_HOST_PATHS = ("/", "/etc", "/root", "/home", "/var", "/usr", "/boot", "/proc", "/sys", "/dev", "/run")
_CONTAINER_ESCAPES = lazy_compile(
    r"^--(?:privileged|pid=host|ipc=host|uts=host|userns=host|cgroupns=host|network=host|net=host"
    r"|cap-add=(?:all|sys_admin|sys_ptrace|sys_module|dac_read_search)|security-opt=(?:[\w-]+=)?unconfined"
    r"|device=.*)$",
    re.I,
)
_REDIS = frozenset({"flushall", "flushdb"})
# (program, subcommand) -> words any of which (after the subcommand) makes it destroy shared infrastructure
_INFRA: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("terraform", "destroy"): ("deny", frozenset()),
    ("tofu", "destroy"): ("deny", frozenset()),
    ("pulumi", "destroy"): ("deny", frozenset()),
    ("kubectl", "delete"): (
        "deny",
        frozenset({"ns", "namespace", "namespaces", "--all", "-A", "--all-namespaces", "pv", "pvc"}),
    ),
    ("gh", "repo"): ("deny", frozenset({"delete"})),
    ("aws", "s3"): ("deny", frozenset({"rb"})),
    ("gsutil", "rm"): ("deny", frozenset({"-r", "-rf", "-fr"})),
    ("docker", "system"): ("ask", frozenset({"prune"})),
    ("docker", "volume"): ("ask", frozenset({"rm", "prune"})),
    ("helm", "uninstall"): ("ask", frozenset()),
    ("npm", "unpublish"): ("deny", frozenset()),
}
_WORLD = lazy_compile(
    r"^(?:0?[0-7]?[0-7][0-7]7|[ugoa]*[+=][rwxXst]*w[rwxXst]*|[ugoa]*\+[rwxX]*s[rwxX]*|[2-7][0-7]{3})$"
)
_FORK_BOMB = lazy_compile(r"(\w{1,64}|:)\s{0,8}\(\s{0,8}\)\s{0,8}\{[^}]{0,256}\1\s{0,8}\|\s{0,8}\1\s{0,8}&")
_TEXT_HINTS = lazy_compile(
    r"\brm\s{1,8}(?:-\w{0,16}\s{1,8}){0,8}-\w{0,16}[rR]|\bmkfs|\bdd\b[^|;&]{0,256}\bof=/dev/"
    r"|\bpush\b[^|;&]{0,256}(?:\s-f\b|--force|--delete|\s\+\w)"
    r"|\breset\s+--hard|\bclean\s+-\w{0,16}f|\bDROP\s+(?:TABLE|DATABASE)|\bshred\b|\bwipefs\b"
    r"|/dev/[sh]d[a-z]|/dev/nvme",
    re.I,
)
_HINT_WORDS = ("rm", "mkfs", "dd", "push", "reset", "clean", "drop", "shred", "wipefs", "/dev/")
"""Substrings one of which every :data:`_TEXT_HINTS` match contains (a cheap test first)."""
TEXT_LIMIT = 16_384
"""Characters of a command's text searched for spellings (a longer command is opaque anyway)."""
_HARMLESS_DEVICES = (
    "/dev/null",
    "/dev/zero",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/tty",
    "/dev/fd/",
    "/dev/pts/",
    "/dev/shm/",
)


def _home() -> str:
    try:
        return os.path.realpath(os.path.expanduser("~"))
    except Exception:
        return "/root"


def _flags(args: tuple[str, ...]) -> str:
    """Short option letters given (``-rf`` → ``rf``), up to ``--``."""
    out: list[str] = []
    for a in args:
        if a == "--":
            break
        if a.startswith("-") and not a.startswith("--"):
            out.append(a[1:])
    return "".join(out)


_COMMAND_PROGRAMS = frozenset(
    {*_DISK_TOOLS, *_ALWAYS, *_SQL_CLIENTS, *(program for program, _ in _INFRA), *_PUBLISH}
    | {"terraform", "tofu", "terragrunt", "oc", "podman", "nerdctl"}
    | {
        "rm",
        "dd",
        "chmod",
        "chown",
        "chgrp",
        "redis-cli",
        "kill",
        "pkill",
        "init",
        "systemctl",
        "crontab",
        "aws",
    }
)
"""Every program :meth:`DestructiveCommands._command` has a check for (others skip the chain)."""


class DestructiveCommands(BuiltinRule):
    rule_id = "destructive_commands"
    kinds = NON_LLM_KINDS

    def __init__(self, *, opaque: Literal["ask", "deny"] = "ask") -> None:
        if opaque not in ("ask", "deny"):
            raise ValueError(f"opaque must be 'ask' or 'deny', not {opaque!r}")
        self.opaque = opaque
        self.home = _home()

    # -- paths ------------------------------------------------------------------------------------
    def _precious(self, p: PathFact, root: str | None) -> str | None:
        """Why deleting this path is never routine, or ``None``."""
        r = p.resolved
        if r in ("/", self.home):
            return "the file system root" if r == "/" else "the home directory"
        if root is not None and r == root:
            return "the scope root"
        if "/.git" in r + "/" and (r.endswith("/.git") or p.relative in (".git",)):
            return "a git repository's history"
        if p.relative is not None and (p.relative == ".git" or p.relative.startswith(".git/")):
            return "a git repository's history"
        if p.glob and p.relative is not None and "/" not in p.relative and p.relative.strip("*?.") == "":
            return "everything in the scope root"
        return None

    def _paths(self, facts: Facts, recursive_rm: bool) -> Decision | None:
        for p in facts.paths:
            if p.access == "delete":
                why = self._precious(p, facts.root)
                if why is not None:
                    return self.deny(f"deletes or moves {p.raw!r}: {why}")
                if p.program in ("rm", "srm") and recursive_rm:
                    if p.dynamic:
                        return self.verdict(self.opaque, f"recursive rm of {p.raw!r}, known only at run time")
                    if not p.inside_root:
                        return self.deny(f"recursive rm of {p.resolved}, outside the scope root")
            elif (
                p.access == "write"
                and p.resolved.startswith("/dev/")
                and not p.resolved.startswith(_HARMLESS_DEVICES)
            ):
                return self.deny(f"writes to the device {p.resolved}")
            elif p.program == "find" and not p.inside_root and _find_deletes(facts):
                return self.deny(f"find -delete over {p.resolved}, outside the scope root")
        return None

    # -- commands ---------------------------------------------------------------------------------
    def _command(self, c: CommandFact) -> Decision | None:
        prog, args = c.program, c.args
        if prog not in _COMMAND_PROGRAMS and not prog.startswith("mkfs"):
            return None  # none of the checks below is about this program
        if prog.startswith("mkfs") or prog in _DISK_TOOLS:
            return self.deny(f"{prog} formats or repartitions disks")
        if prog in _ALWAYS:
            return self.deny(f"{prog} destroys data or stops the machine")
        if prog == "rm" and "--no-preserve-root" in args:
            return self.deny("rm --no-preserve-root")
        if prog == "dd":
            for a in args:
                if a.startswith("of=/dev/") and not a[3:].startswith(_HARMLESS_DEVICES):
                    return self.deny(f"dd writes to the device {a[3:]}")
        if prog in ("chmod", "chown", "chgrp"):
            recursive = "R" in _flags(args) or "--recursive" in args
            if prog == "chmod" and recursive and any(_WORLD.match(a) for a in args if not a.startswith("-")):
                return self.deny("chmod -R makes a tree world-writable or set-id")
        if prog in _SQL_CLIENTS and _destroys_rows(" ".join(args)):
            return self.deny(f"{prog} drops or empties a database object")
        publish = _PUBLISH.get(prog)
        verb = c.subcommand or next((a for a in args if not a.startswith("-")), None)
        if (
            publish is not None
            and verb in publish
            and (
                prog != "gh" or any(a in ("delete", "delete-asset", "create", "upload", "edit") for a in args)
            )
        ):
            return self.deny(f"{prog} {verb} publishes or withdraws a package for everyone")
        if (
            prog in ("terraform", "tofu", "terragrunt")
            and c.subcommand in ("apply", "plan", "run-all")
            and any(a in ("-destroy", "--destroy") for a in args)
        ):
            return self.deny(f"{prog} {c.subcommand} -destroy destroys shared infrastructure")
        if prog == "gh" and c.subcommand == "api" and _http_method(args) in ("DELETE", "PUT", "PATCH"):
            return self.deny(f"gh api {_http_method(args)} changes or deletes data on GitHub")
        if prog in ("docker", "podman", "nerdctl") and c.subcommand in ("run", "create"):
            why = _host_access(args)
            if why is not None:
                return self.deny(f"{prog} {c.subcommand}: {why}")
        if prog == "redis-cli" and any(a.lower() in _REDIS for a in args):
            return self.deny("redis-cli flushes a database")
        if prog in ("kill", "pkill") and "-1" in args:
            return self.deny("kill -1 signals every process")
        if prog == "init" and args[:1] in (("0",), ("6",)):
            return self.deny("init 0/6 stops the machine")
        if prog == "systemctl" and c.subcommand in ("poweroff", "reboot", "halt", "kexec"):
            return self.deny(f"systemctl {c.subcommand} stops the machine")
        if prog == "crontab" and "r" in _flags(args):
            return self.deny("crontab -r removes every scheduled job")
        infra = _INFRA.get((prog, c.subcommand or ""))
        if infra is not None:
            outcome, words = infra
            if not words or words.intersection(args):
                return self.verdict(outcome, f"{prog} {c.subcommand} destroys shared infrastructure or data")
        if prog == "aws" and c.subcommand == "s3" and "rm" in args and "--recursive" in args:
            return self.deny("aws s3 rm --recursive empties a bucket")
        if prog in ("kubectl", "oc") and c.subcommand == "delete":
            return self.ask(f"{prog} delete removes cluster resources")
        return None

    def _git(self, facts: Facts) -> Decision | None:
        ask: str | None = None
        for g in facts.git:
            sub = g.subcommand or ""
            if sub == "push" and (g.force or g.delete):
                what = "force-pushes" if g.force else "deletes remote refs"
                return self.deny(f"git push {what} ({' '.join(g.args)})".strip())
            if sub == "reset" and g.force:
                return self.deny("git reset --hard discards uncommitted work")
            if sub == "clean" and g.force:
                return self.deny("git clean -f deletes untracked files")
            if sub in ("filter-branch", "filter-repo"):
                return self.deny(f"git {sub} rewrites history")
            if g.force or g.delete:
                ask = ask or f"git {sub} {' '.join(g.args)}".strip() + " discards or deletes work"
            if sub in ("reflog", "gc", "update-ref", "stash") and any(
                a in ("expire", "--prune=now", "-d", "clear", "drop") for a in g.args
            ):
                ask = ask or f"git {sub} {' '.join(g.args)}".strip() + " discards history"
        return self.ask(ask) if ask else None

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        recursive_rm = False
        for c in facts.commands:
            prog = c.program
            if prog in ("rm", "srm") and ("r" in _flags(c.args).lower() or "--recursive" in c.args):
                recursive_rm = True
            if prog in _COMMAND_PROGRAMS or prog.startswith("mkfs"):  # else _command has nothing to say
                found = self._command(c)
                if found is not None:
                    return found
        shell = facts.shell
        if (
            shell is not None
            and ("<<" in shell.command or "|" in shell.command)
            and any(c.program in _SQL_CLIENTS for c in facts.commands)
            and _destroys_rows(shell.command[:TEXT_LIMIT])
        ):
            return self.deny("SQL fed to a database client drops or empties a database object")
        found = self._git(facts) if facts.shell is not None else None
        if found is not None and found.outcome == "deny":
            return found
        by_path = self._paths(facts, recursive_rm)
        if by_path is not None:
            return by_path
        shell = facts.shell
        if shell is not None:
            text = shell.command[:TEXT_LIMIT]
            if "(" in text and _FORK_BOMB.search(text):
                return self.deny("a fork bomb")
            if shell.opaque:
                lowered = text.lower()
                if any(h in lowered for h in _HINT_WORDS) and _TEXT_HINTS.search(text):
                    return self.deny("an opaque command whose text spells a destructive command")
                return found or self.verdict(
                    self.opaque,
                    "what this command does cannot be known before it runs: " + "; ".join(shell.reasons),
                )
        return found


def _destroys_rows(sql: str) -> bool:
    """DROP/TRUNCATE, or DELETE/UPDATE with no WHERE or a WHERE that holds for every row; comments
    count as whitespace (``DROP/**/TABLE``)."""
    text = _SQL_COMMENT.sub(" ", sql) if ("/*" in sql or "--" in sql or "#" in sql) else sql
    if _SQL.search(text) is not None:
        return True
    for statement in text.split(";"):
        if _CHANGES_ROWS.search(statement) is not None and (
            _WHERE.search(statement) is None or _WHERE_ALWAYS.search(statement + ";") is not None
        ):
            return True
    return False


def _http_method(args: tuple[str, ...]) -> str:
    for i, a in enumerate(args):
        if a in ("-X", "--method") and i + 1 < len(args):
            return args[i + 1].upper()
        if a.startswith(("--method=", "-X")) and len(a) > 2:
            return a.split("=", 1)[-1].removeprefix("-X").upper()
    return "GET"


def _host_access(args: tuple[str, ...]) -> str | None:
    """A container given the host: privileged, host namespaces, or a mount of a host system path."""
    for i, a in enumerate(args):
        if _CONTAINER_ESCAPES.match(a) or (
            a in ("--pid", "--ipc", "--net", "--network", "--userns", "--uts")
            and i + 1 < len(args)
            and args[i + 1] == "host"
        ):
            return f"{a} gives the container the host"
        mount: str | None = None
        if a in ("-v", "--volume", "--mount") and i + 1 < len(args):
            mount = args[i + 1]
        elif a.startswith(("-v", "--volume=", "--mount=")) and a not in ("-v", "--volume", "--mount"):
            mount = a.split("=", 1)[1] if a.startswith("--") else a[2:].lstrip("=")
        if mount is None:
            continue
        if mount.startswith(("type=", "source=", "src=")) or ",source=" in mount or ",src=" in mount:
            fields = dict(f.partition("=")[::2] for f in mount.split(","))
            source = fields.get("source") or fields.get("src") or ""
        else:
            source = mount.split(":", 1)[0]
        source = os.path.normpath(source) if source.startswith("/") else source
        if source in _HOST_PATHS or source.startswith(("/var/run/docker", "/run/docker", "/etc/", "/root/")):
            return f"mounts the host's {source}"
        if source.startswith(("~", "$HOME", "${HOME}")) and source.rstrip("/") in ("~", "$HOME", "${HOME}"):
            return "mounts the home directory"
    return None


def _find_deletes(facts: Facts) -> bool:
    return any(
        c.program == "find" and ("-delete" in c.args or "-exec" in c.args or "-execdir" in c.args)
        for c in facts.commands
    )
