"""The facts the normaliser derives: frozen, slotted values that policy rules and detectors read.

A :class:`Facts` answers the questions a rule asks of an action without re-parsing anything: which real
paths it reads, writes, deletes or executes (and whether each is inside the scope root), which commands a
shell string runs once wrappers are peeled off, which hosts it reaches, and whether any part of it cannot
be known before it runs (``opaque``, with the reasons).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any, Literal, ParamSpec, TypeVar

Access = Literal["read", "write", "delete", "exec"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True, kw_only=True)
class PathFact:
    """One file-system path the action touches, resolved the way the kernel will resolve it.

    ``inside_root`` is ``True`` only when the resolved real path is provably the root or below it: a
    path that depends on a run-time value (``dynamic``), a glob that may match ``..``, or a symlink
    inside the root pointing out is never inside.
    """

    raw: str
    """The path as written (after shell unquoting), e.g. ``~/.ssh/id_rsa`` or ``src/../.env``."""
    resolved: str
    """Absolute real path: ``~`` expanded, ``..`` and symlinks resolved (the longest existing prefix,
    then the rest appended lexically)."""
    relative: str | None
    """POSIX path relative to the root (``.`` for the root itself); ``None`` when outside or no root."""
    inside_root: bool
    exists: bool
    access: Access
    via: str
    """How the action reaches it: ``tool``, ``argument``, ``redirect``, ``option``, ``program``,
    ``inline_code``, ``patch``, ``cwd``, or ``operand``: an operand of a program whose effect on it is
    not known (recorded as a read; it may as well be written or deleted)."""
    program: str | None = None
    """The program whose argument or redirection it is (``rm``, ``sed``), for shell actions."""
    dynamic: bool = False
    """Depends on a value known only at run time (``$VAR``, ``$(...)``, input of ``xargs``)."""
    glob: bool = False
    """Contains unquoted glob characters: it stands for everything it may match."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlFact:
    """One network destination, with the host as a resolver would see it."""

    raw: str
    scheme: str
    host: str
    """Lowercased, IDNA-encoded, userinfo and brackets removed; an IP literal in canonical form."""
    port: int | None
    ip: IPAddress | None
    """The address when the host is an IP literal in any spelling (``0x7f000001``, ``127.1``,
    ``[::ffff:127.0.0.1]``); IPv4-mapped and NAT64 IPv6 addresses are reduced to their IPv4 address."""
    is_loopback: bool
    is_private: bool
    """Private, link-local, unspecified or otherwise not globally routable (loopback included)."""
    is_metadata: bool
    """A cloud instance-metadata endpoint (169.254.169.254, fd00:ec2::254, metadata.google.internal,
    100.100.100.200, ...)."""
    had_userinfo: bool = False
    """The URL carried ``user@``: the text before ``@`` is not the host (``https://ok.org@evil/``)."""
    alt_hosts: tuple[str, ...] = ()
    """Other hosts a differently-written client could read from the same text (e.g. a backslash in
    the authority); rules should treat them as reached too."""
    via: str = "url"
    """``url`` (the action's own), ``argument``, ``option``, ``git``, ``ssh``, ``inline_code``..."""
    program: str | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        """The host and any alternative reading of it."""
        return (self.host, *self.alt_hosts) if self.alt_hosts else (self.host,)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitFact:
    """One ``git`` invocation, with global options peeled off."""

    subcommand: str | None
    args: tuple[str, ...]
    """The subcommand's own arguments."""
    cwd: str | None
    """The repository directory after every ``-C`` (``None`` when it depends on a run-time value)."""
    force: bool = False
    """History or work tree overwritten: ``push -f/--force/--force-with-lease/--mirror/+refspec``,
    ``reset --hard``, ``checkout -f``, ``branch -D``, ``clean -f``."""
    delete: bool = False
    """Something removed: ``push --delete``/``:branch``/``--prune``/``--mirror``, ``branch -d``,
    ``tag -d``, ``clean``."""
    remote: str | None = None
    refspecs: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    """``-c key=value`` settings given on the command line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandFact:
    """One simple command a shell string runs."""

    argv: tuple[str, ...]
    """The command as the shell will exec it (after unquoting and brace expansion, before unwrapping);
    run-time values appear as written (``$X``)."""
    program: str
    """Basename of the program that finally runs, after wrappers (``sudo env FOO=1 rm`` → ``rm``)."""
    args: tuple[str, ...]
    """The final program's arguments."""
    wrappers: tuple[str, ...] = ()
    """Wrappers peeled off, outermost first (``sudo``, ``env``, ``timeout``, ``xargs``...)."""
    subcommand: str | None = None
    """First non-option argument for programs with subcommands (``git push``, ``pip install``)."""
    assignments: tuple[str, ...] = ()
    """Names of ``VAR=value`` assignments in front of the command (or given to ``env``)."""
    cwd: str | None = None
    """The effective working directory (``cd`` tracked); ``None`` when it depends on a run-time value."""
    depth: int = 0
    """Nesting of ``bash -c``/``eval``/here-doc strings it was found in (0: the action's command)."""
    opaque: bool = False
    opaque_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShellFacts:
    """What a shell command string does, as far as it can be known without running it."""

    command: str
    commands: tuple[CommandFact, ...]
    paths: tuple[PathFact, ...]
    urls: tuple[UrlFact, ...]
    git: tuple[GitFact, ...]
    opaque: bool
    reasons: tuple[str, ...]
    """Why it is opaque, one line per cause; empty when not opaque."""
    parse_error: bool = False
    env_dump: bool = False
    """Prints the environment (``env``, ``printenv``, ``export -p``, ``set``...)."""

    @property
    def hosts(self) -> tuple[str, ...]:
        return _hosts(self.urls)

    @property
    def programs(self) -> frozenset[str]:
        return frozenset(c.program for c in self.commands)


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """Everything derived from one action. ``opaque`` means: do not allow it silently."""

    kind: str
    root: str | None
    """The scope root, resolved (``None`` when no root was given)."""
    cwd: str
    """The directory relative paths were resolved against."""
    paths: tuple[PathFact, ...] = ()
    urls: tuple[UrlFact, ...] = ()
    shell: ShellFacts | None = None
    opaque: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host reached, deduplicated, alternative readings included."""
        return _hosts(self.urls)

    @property
    def reads(self) -> tuple[PathFact, ...]:
        return tuple(p for p in self.paths if p.access == "read")

    @property
    def writes(self) -> tuple[PathFact, ...]:
        return tuple(p for p in self.paths if p.access == "write")

    @property
    def deletes(self) -> tuple[PathFact, ...]:
        return tuple(p for p in self.paths if p.access == "delete")

    @property
    def execs(self) -> tuple[PathFact, ...]:
        return tuple(p for p in self.paths if p.access == "exec")

    @property
    def outside_root(self) -> tuple[PathFact, ...]:
        return tuple(p for p in self.paths if not p.inside_root)

    @property
    def commands(self) -> tuple[CommandFact, ...]:
        return self.shell.commands if self.shell is not None else ()

    @property
    def programs(self) -> frozenset[str]:
        return self.shell.programs if self.shell is not None else frozenset()

    @property
    def git(self) -> tuple[GitFact, ...]:
        return self.shell.git if self.shell is not None else ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what ``agentguard check`` prints and decision events digest)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "root": self.root,
            "cwd": self.cwd,
            "opaque": self.opaque,
            "reasons": list(self.reasons),
            "paths": [
                {
                    "raw": p.raw,
                    "resolved": p.resolved,
                    "relative": p.relative,
                    "inside_root": p.inside_root,
                    "access": p.access,
                    "via": p.via,
                    **({"dynamic": True} if p.dynamic else {}),
                    **({"glob": True} if p.glob else {}),
                }
                for p in self.paths
            ],
            "hosts": list(self.hosts),
        }
        if self.shell is not None:
            out["commands"] = [
                {
                    "program": c.program,
                    "argv": list(c.argv),
                    **({"wrappers": list(c.wrappers)} if c.wrappers else {}),
                }
                for c in self.shell.commands
            ]
            if self.shell.git:
                out["git"] = [
                    {"subcommand": g.subcommand, "force": g.force, "delete": g.delete, "remote": g.remote}
                    for g in self.shell.git
                ]
        return out


def _hosts(urls: tuple[UrlFact, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for u in urls:
        for h in u.hosts:
            if h:
                seen[h] = None
    return tuple(seen)


_P = ParamSpec("_P")
_F = TypeVar("_F")


def builder(cls: Callable[_P, _F]) -> Callable[_P, _F]:
    """A constructor for the frozen slotted dataclass ``cls`` with the same signature as ``cls``.

    The generated ``__init__`` of a frozen dataclass stores each field through ``object.__setattr__``;
    the function returned here stores them through the slot descriptors instead, which skips the
    frozen check and the attribute lookup per field. Its parameters are the fields' own (names, order,
    keyword-only flags and defaults), so the type checker checks every call against the class, and the
    object it returns equals, hashes and prints like one made by ``cls(...)``. Classes with
    ``__post_init__``, default factories or without slots are refused (``TypeError``).
    ``benchmarks/bench_policy.py --builders`` measures both ways.
    """
    if not isinstance(cls, type) or not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__: build it through its constructor")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    positional: list[str] = []
    keyword: list[str] = []
    body = ["    o = _new(_cls)"]
    for f in fields(cls):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: fields outside __init__ are not supported")
        if f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: default factories are not supported")
        setter = getattr(cls.__dict__.get(f.name), "__set__", None)
        if setter is None:
            raise TypeError(f"{cls.__name__}.{f.name} is not a slot")
        namespace[f"_set_{f.name}"] = setter
        param = f.name
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            param = f"{f.name}=_default_{f.name}"
        (keyword if f.kw_only else positional).append(param)
        body.append(f"    _set_{f.name}(o, {f.name})")
    params = ", ".join([*positional, *(["*", *keyword] if keyword else [])])
    source = "\n".join([f"def build({params}):", *body, "    return o"])
    exec(compile(source, f"<builder of {cls.__qualname__}>", "exec"), namespace)
    built: Callable[_P, _F] = namespace["build"]
    built.__qualname__ = built.__name__ = f"build_{cls.__name__}"
    return built
