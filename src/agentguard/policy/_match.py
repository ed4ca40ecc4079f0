"""Declarative rules (``rules.match(...)``) and the index a policy builds from them.

A large policy is mostly data: paths to protect, hosts to block, programs to ban, tools to list. A
:class:`Match` states such a rule as fields instead of code::

    rules.match(decision="deny", program="git", subcommand="push", reason="no pushes from agents")
    rules.match(decision="ask", path="migrations/**", access="write")
    rules.match(decision="deny", host=["*.pastebin.com", "transfer.sh"])

so a :class:`~agentguard.Policy` can index it when it is built (:class:`MatchIndex`): programs in a
dict keyed by program name, hosts in a dict of exact names plus a dict of wildcard suffixes, path globs
bucketed by their first literal component with one compiled union per bucket, tools and models in
dicts. Deciding an action then costs what its own facts cost (a few dict look-ups per command, host and
path), however many declarative rules the policy holds. A ``Match`` is still a plain rule: called as
``rule(action, run)`` it checks itself the same way (what a policy without an index would do).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, get_args

from .._lazyre import lazy_compile
from ..action import ACTION_KINDS, Decision, Outcome, Vote
from ..normalise._urls import parse_host
from ._base import facts_of
from ._globs import GlobSet, normalise_pattern

if TYPE_CHECKING:
    from ..action import Action
    from ..guard import RunState
    from ..normalise import Facts

PathAccess = Literal["read", "write", "delete", "exec"]
_ACCESSES: tuple[str, ...] = get_args(PathAccess)
_GLOB_CHARS = frozenset("*?[")
_HOST_BAD = lazy_compile(r"[\s/@?#*]")
_VERBS = {"read": "reads", "write": "writes", "delete": "deletes", "exec": "executes"}
_BUCKET_UNION = 4
"""A path bucket with more globs than this gets a union regex consulted before the globs one by one."""


def _names(value: str | Iterable[str] | None, field: str) -> frozenset[str] | None:
    """A field's values as a frozenset (a lone string is one value); ``None`` when not given."""
    if value is None:
        return None
    values = (value,) if isinstance(value, str) else tuple(value)
    for v in values:
        if not isinstance(v, str) or not v:
            raise ValueError(f"match(): {field} values must be non-empty strings, not {v!r}")
    if not values:
        raise ValueError(f"match(): {field} is empty; leave it out to match any {field}")
    return frozenset(values)


def _canonical_host(host: str) -> str:
    """A host as the normaliser writes hosts (lowercase, IDNA, IP literals canonical); ``*.`` kept."""
    wild = host.startswith("*.")
    name = host[2:] if wild else host
    if not name or _HOST_BAD.search(name):
        raise ValueError(f"match(): a host is a name, an IP literal or '*.suffix', not {host!r}")
    canonical = parse_host(name)[0]
    return "*." + canonical if wild else canonical


def _show(values: Iterable[str]) -> str:
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else "{" + ", ".join(ordered) + "}"


class Match:
    """A declarative rule: ``decision`` when an action matches every field given (see :func:`match`)."""

    __slots__ = (
        "_exact_hosts",
        "_wild_hosts",
        "access",
        "decision",
        "globs",
        "hosts",
        "kinds",
        "models",
        "programs",
        "reason",
        "rule_id",
        "subcommands",
        "tools",
    )

    def __init__(
        self,
        *,
        decision: Outcome,
        reason: str | None = None,
        kind: str | Iterable[str] | None = None,
        tool: str | Iterable[str] | None = None,
        program: str | Iterable[str] | None = None,
        subcommand: str | Iterable[str] | None = None,
        path: str | Iterable[str] | None = None,
        access: PathAccess | Iterable[PathAccess] | None = None,
        host: str | Iterable[str] | None = None,
        model: str | Iterable[str] | None = None,
        rule_id: str | None = None,
    ) -> None:
        if decision not in ("allow", "deny", "ask"):
            raise ValueError(f"match(): decision must be 'allow', 'deny' or 'ask', not {decision!r}")
        self.decision: Outcome = decision
        self.kinds = _names(kind, "kind")
        if self.kinds is not None and not self.kinds <= ACTION_KINDS:
            raise ValueError(
                f"match(): unknown kinds {sorted(self.kinds - ACTION_KINDS)}; known: {sorted(ACTION_KINDS)}"
            )
        self.tools = _names(tool, "tool")
        self.programs = _names(program, "program")
        if self.programs is not None and any("/" in p for p in self.programs):
            raise ValueError("match(): program names are base names ('rm', not '/bin/rm')")
        self.subcommands = _names(subcommand, "subcommand")
        patterns = _names(path, "path")
        self.globs = GlobSet(sorted(patterns)) if patterns is not None else None
        accesses = _names(access, "access")
        if accesses is not None:
            if not accesses <= set(_ACCESSES):
                raise ValueError(f"match(): access must be among {list(_ACCESSES)}, not {sorted(accesses)}")
            if self.globs is None:
                raise ValueError("match(): access= qualifies path=; give path globs too")
        self.access: frozenset[str] = accesses if accesses is not None else frozenset(_ACCESSES)
        hosts = _names(host, "host")
        self.hosts = frozenset(_canonical_host(h) for h in hosts) if hosts is not None else None
        self._exact_hosts = frozenset(h for h in self.hosts or () if not h.startswith("*."))
        self._wild_hosts = tuple(sorted(h[1:] for h in self.hosts or () if h.startswith("*.")))
        self.models = _names(model, "model")
        if not any(
            (self.kinds, self.tools, self.programs, self.subcommands, self.globs, self.hosts, self.models)
        ):
            raise ValueError(
                "match(): give at least one of kind, tool, program, subcommand, path, host, model"
            )
        self.rule_id = rule_id or self._default_id()
        self.reason = reason or self._default_reason()

    # -- description ---------------------------------------------------------------------------------
    def _fields(self) -> list[str]:
        out: list[str] = []
        for name, values in (
            ("kind", self.kinds),
            ("tool", self.tools),
            ("program", self.programs),
            ("subcommand", self.subcommands),
            ("path", frozenset(self.globs.patterns) if self.globs is not None else None),
            ("host", self.hosts),
            ("model", self.models),
        ):
            if values is not None:
                out.append(f"{name}={_show(values)}")
        if self.globs is not None and len(self.access) < len(_ACCESSES):
            out.append(f"access={_show(self.access)}")
        return out

    def _default_id(self) -> str:
        return f"match.{self.decision}[{' '.join(self._fields())}]"

    def _default_reason(self) -> str:
        """What the rule looks for, in words: ``runs git push``, ``writes a path matching .git/**``."""
        parts: list[str] = []
        if self.programs is not None or self.subcommands is not None:
            program = _show(self.programs) if self.programs is not None else "a program"
            sub = f" {_show(self.subcommands)}" if self.subcommands is not None else ""
            parts.append(f"runs {program}{sub}")
        if self.globs is not None:
            verbs = [_VERBS[a] for a in _ACCESSES if a in self.access]
            verb = "touches" if len(verbs) == len(_ACCESSES) else " or ".join(verbs)
            parts.append(f"{verb} a path matching {_show(self.globs.patterns)}")
        if self.hosts is not None:
            parts.append(f"reaches {_show(self.hosts)}")
        if self.models is not None:
            parts.append(f"calls model {_show(self.models)}")
        if self.tools is not None:
            parts.append(f"uses tool {_show(self.tools)}")
        if self.kinds is not None:
            parts.append(f"is a {_show(self.kinds)} action")
        return " and ".join(parts)

    def __repr__(self) -> str:
        return f"<rule {self.rule_id}>"

    # -- checking ------------------------------------------------------------------------------------
    def __call__(self, action: Action, run: RunState | None = None) -> Decision | None:
        """The rule on its own: ``decision`` when ``action`` matches every field, else ``None``."""
        facts = facts_of(action) if action.kind != "llm" else None
        return self._decision() if self.matches(action, facts) else None

    def _decision(self) -> Decision:
        if self.decision == "deny":
            return Decision.deny(self.reason, rule_id=self.rule_id)
        if self.decision == "ask":
            return Decision.ask(self.reason, rule_id=self.rule_id)
        return Decision.allow(self.reason, rule_id=self.rule_id)

    def matches(self, action: Action, facts: Facts | None) -> bool:
        """Every field given holds: ``program`` and ``subcommand`` on the same command, ``path`` and
        ``access`` on the same path; each other field on the action as a whole."""
        if self.kinds is not None and action.kind not in self.kinds:
            return False
        if self.tools is not None and action.tool not in self.tools:
            return False
        if self.models is not None and action.model not in self.models:
            return False
        if self.programs is None and self.subcommands is None and self.globs is None and self.hosts is None:
            return True
        return self._facts_match(facts)

    def _facts_match(self, facts: Facts | None) -> bool:
        if facts is None:
            return False
        if (self.programs is not None or self.subcommands is not None) and not self._command_matches(facts):
            return False
        if self.globs is not None and not self._path_matches(facts):
            return False
        return self.hosts is None or any(self.host_matches(h) for h in facts.hosts)

    def _command_matches(self, facts: Facts) -> bool:
        programs, subs = self.programs, self.subcommands
        for c in facts.commands:
            if (programs is None or c.program in programs) and (subs is None or c.subcommand in subs):
                return True
        return False

    def _path_matches(self, facts: Facts) -> bool:
        globs = self.globs
        assert globs is not None
        access = self.access
        return any(p.access in access and globs.match(p.relative, p.resolved) for p in facts.paths)

    def host_matches(self, host: str) -> bool:
        if host in self._exact_hosts:
            return True
        return any(host.endswith(suffix) for suffix in self._wild_hosts)


def match(
    *,
    decision: Outcome,
    reason: str | None = None,
    kind: str | Iterable[str] | None = None,
    tool: str | Iterable[str] | None = None,
    program: str | Iterable[str] | None = None,
    subcommand: str | Iterable[str] | None = None,
    path: str | Iterable[str] | None = None,
    access: PathAccess | Iterable[PathAccess] | None = None,
    host: str | Iterable[str] | None = None,
    model: str | Iterable[str] | None = None,
    rule_id: str | None = None,
) -> Match:
    """A declarative rule: ``decision`` (``"deny"``, ``"ask"`` or ``"allow"``) for actions that match
    every field given; a policy indexes these, so thousands cost about what one does.

    Each field takes one value or several (any of them matches):

    - ``kind``: action kinds (``"shell"``, ``"file_write"``...); ``tool``: tool names, exactly;
    - ``program``: a program a shell command runs, after wrappers are peeled (``sudo env rm`` runs
      ``rm``); ``subcommand``: its subcommand (``git push``, ``pip install``), on the same command;
    - ``path``: globs as in :class:`~agentguard.Scope` (relative to the scope root, or absolute), on
      any path the action reads, writes, deletes or executes; ``access`` narrows which;
    - ``host``: hosts reached (``"pypi.org"``; ``"*.example.com"`` is any subdomain of
      ``example.com``, not ``example.com`` itself);
    - ``model``: the model of an LLM call.

    ``reason`` is what ``Decision.explain()`` shows (default: the fields, e.g. ``matches program=rm``);
    ``rule_id`` names the rule in decisions and traces (default: ``match.<decision>[<fields>]``).
    Invalid fields raise ``ValueError`` here, never when deciding.
    """
    return Match(
        decision=decision,
        reason=reason,
        kind=kind,
        tool=tool,
        program=program,
        subcommand=subcommand,
        path=path,
        access=access,
        host=host,
        model=model,
        rule_id=rule_id,
    )


# -- the index -----------------------------------------------------------------------------------------
def _first_component(pattern: str) -> str | None:
    """The literal first component of a normalised glob (``None`` when it has glob characters)."""
    head = pattern.lstrip("/").split("/", 1)[0]
    if not head or head == "**" or _GLOB_CHARS.intersection(head):
        return None
    return head


class _Bucket:
    """Globs sharing a first component: ``(position, rule, GlobSet)`` each, plus a union prefilter."""

    __slots__ = ("members", "union")

    def __init__(self) -> None:
        self.members: list[tuple[int, Match, GlobSet]] = []
        self.union: GlobSet | None = None

    def seal(self) -> None:
        if len(self.members) > _BUCKET_UNION:
            self.union = GlobSet([p for _, _, g in self.members for p in g.patterns])

    def collect(self, relative: str | None, resolved: str, found: dict[int, Match]) -> None:
        union = self.union
        if union is not None and not union.match(relative, resolved):
            return
        for position, rule, globs in self.members:
            if position not in found and globs.match(relative, resolved):
                found[position] = rule


class _PathIndex:
    """Path globs of one access: buckets keyed by the first literal component of the relative path,
    of the absolute path, or by a bare file name (matched at any depth); the rest in one bucket."""

    __slots__ = ("absolute", "any_name", "names", "other", "relative")

    def __init__(self) -> None:
        self.relative: dict[str, _Bucket] = {}
        self.absolute: dict[str, _Bucket] = {}
        self.names: dict[str, _Bucket] = {}
        self.any_name = _Bucket()  # bare names with glob characters (``*.pem``)
        self.other = _Bucket()  # globs starting with a wildcard

    def add(self, position: int, rule: Match, pattern: str) -> None:
        p = normalise_pattern(pattern)
        head = _first_component(p)
        if p.startswith("/"):
            bucket = self.absolute.setdefault(head, _Bucket()) if head is not None else self.other
        elif "/" not in p and "**" not in p:
            bucket = self.names.setdefault(p, _Bucket()) if head is not None else self.any_name
        else:
            bucket = self.relative.setdefault(head, _Bucket()) if head is not None else self.other
        bucket.members.append((position, rule, GlobSet([pattern])))

    def seal(self) -> None:
        for table in (self.relative, self.absolute, self.names):
            for bucket in table.values():
                bucket.seal()
        self.any_name.seal()
        self.other.seal()

    def collect(self, relative: str | None, resolved: str, found: dict[int, Match]) -> None:
        if relative is not None:
            bucket = self.relative.get(relative.split("/", 1)[0])
            if bucket is not None:
                bucket.collect(relative, resolved, found)
        bucket = self.absolute.get(resolved.lstrip("/").split("/", 1)[0])
        if bucket is not None:
            bucket.collect(relative, resolved, found)
        if self.names:
            for part in (relative if relative is not None else resolved).split("/"):
                bucket = self.names.get(part)
                if bucket is not None:
                    bucket.collect(relative, resolved, found)
        if self.any_name.members:
            self.any_name.collect(relative, resolved, found)
        if self.other.members:
            self.other.collect(relative, resolved, found)


class MatchIndex:
    """Every :class:`Match` of a policy, indexed by its most selective field; ``votes(action, facts)``
    finds the candidates from the action's own facts, then checks each candidate's other fields."""

    __slots__ = (
        "_by_host",
        "_by_kind",
        "_by_model",
        "_by_program",
        "_by_subcommand",
        "_by_tool",
        "_paths",
        "_wild",
        "size",
    )

    def __init__(self, rules: Sequence[tuple[int, Match]]) -> None:
        self.size = len(rules)
        self._by_program: dict[str, list[tuple[int, Match]]] = {}
        self._by_host: dict[str, list[tuple[int, Match]]] = {}
        self._wild: dict[str, list[tuple[int, Match]]] = {}  # ".example.com" -> rules
        self._paths: dict[str, _PathIndex] = {}
        self._by_model: dict[str, list[tuple[int, Match]]] = {}
        self._by_tool: dict[str, list[tuple[int, Match]]] = {}
        self._by_kind: dict[str, list[tuple[int, Match]]] = {}
        self._by_subcommand: dict[str, list[tuple[int, Match]]] = {}  # a subcommand of any program
        for position, rule in rules:
            entry = (position, rule)
            if rule.programs is not None:
                for name in rule.programs:
                    self._by_program.setdefault(name, []).append(entry)
            elif rule.hosts is not None:
                for host in rule._exact_hosts:
                    self._by_host.setdefault(host, []).append(entry)
                for suffix in rule._wild_hosts:
                    self._wild.setdefault(suffix, []).append(entry)
            elif rule.globs is not None:
                for access in rule.access:
                    index = self._paths.setdefault(access, _PathIndex())
                    for pattern in rule.globs.patterns:
                        index.add(position, rule, pattern)
            elif rule.models is not None:
                for name in rule.models:
                    self._by_model.setdefault(name, []).append(entry)
            elif rule.tools is not None:
                for name in rule.tools:
                    self._by_tool.setdefault(name, []).append(entry)
            elif rule.subcommands is not None:
                for name in rule.subcommands:
                    self._by_subcommand.setdefault(name, []).append(entry)
            else:
                for kind in rule.kinds or ():
                    self._by_kind.setdefault(kind, []).append(entry)
        for index in self._paths.values():
            index.seal()

    def votes(self, action: Action, facts: Facts | None) -> list[tuple[int, Vote]]:
        """``(position, vote)`` of every matching rule, in policy order."""
        found: dict[int, Match] = {}
        if facts is not None:
            by_program, by_subcommand = self._by_program, self._by_subcommand
            if by_program or by_subcommand:
                for c in facts.commands:
                    for position, rule in by_program.get(c.program, ()):
                        found.setdefault(position, rule)
                    if by_subcommand and c.subcommand is not None:
                        for position, rule in by_subcommand.get(c.subcommand, ()):
                            found.setdefault(position, rule)
            if self._by_host or self._wild:
                for host in facts.hosts:
                    self._host_candidates(host, found)
            paths = self._paths
            if paths:
                for p in facts.paths:
                    index = paths.get(p.access)
                    if index is not None:
                        index.collect(p.relative, p.resolved, found)
        for table, key in (
            (self._by_model, action.model),
            (self._by_tool, action.tool),
            (self._by_kind, action.kind),
        ):
            if table and key is not None:
                for position, rule in table.get(key, ()):
                    found.setdefault(position, rule)
        if not found:
            return []
        out: list[tuple[int, Vote]] = []
        for position in sorted(found):
            rule = found[position]
            if rule.matches(action, facts):
                out.append((position, Vote(rule_id=rule.rule_id, outcome=rule.decision, reason=rule.reason)))
        return out

    def _host_candidates(self, host: str, found: dict[int, Match]) -> None:
        for position, rule in self._by_host.get(host, ()):
            found.setdefault(position, rule)
        wild = self._wild
        if wild:
            i = host.find(".")
            while i != -1:
                for position, rule in wild.get(host[i:], ()):
                    found.setdefault(position, rule)
                i = host.find(".", i + 1)
