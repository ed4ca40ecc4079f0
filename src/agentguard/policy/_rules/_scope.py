"""A :class:`~agentguard.Scope` as rules: ``scope.read``, ``scope.write``, ``scope.hosts``, ``scope.opaque``.

Paths are the normaliser's resolved real paths (symlinks, ``..``, ``~``), matched as POSIX paths
relative to the scope root. Reads and writes outside the root, or outside the scope's globs, are
denied; a path that depends on a run-time value asks. Hosts must be on the allow-list (exact names or
``*.example.org`` patterns); loopback, private and cloud-metadata addresses are denied unless listed.
A shell command the normaliser cannot see through (``opaque``) asks.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from .._base import NON_LLM_KINDS, BuiltinRule, Rule, facts_of
from .._globs import GlobSet

if TYPE_CHECKING:
    from ...action import Action, Decision, Scope
    from ...guard import RunState
    from ...normalise import PathFact

COMPANION_HOSTS: dict[str, tuple[str, ...]] = {
    "pypi.org": ("files.pythonhosted.org",),
    "registry.npmjs.org": ("registry.yarnpkg.com",),
    "crates.io": ("index.crates.io", "static.crates.io"),
    "rubygems.org": ("index.rubygems.org",),
    "proxy.golang.org": ("sum.golang.org",),
    "registry-1.docker.io": ("auth.docker.io", "production.cloudflare.docker.com"),
}
"""A registry allowed in a scope allows the hosts its clients download from too (``pip install``
reaches ``pypi.org`` for the index and ``files.pythonhosted.org`` for the files). Other pairs are named
in one entry: ``"pypi.internal+files.internal"``."""

# Executables outside the root that a command may run without reading anyone's data.
_SYSTEM_PREFIXES = ("/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/", "/nix/", "/snap/")


def _where(p: PathFact) -> str:
    return p.relative if p.relative is not None else p.resolved


class ScopeRead(BuiltinRule):
    rule_id = "scope.read"
    kinds = NON_LLM_KINDS

    def __init__(self, scope: Scope) -> None:
        self.globs = GlobSet(scope.read)

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        for p in facts.paths:
            if p.access == "read":
                pass
            elif p.access == "exec":
                if not p.inside_root and p.resolved.startswith(_SYSTEM_PREFIXES):
                    continue
            else:
                continue
            if p.dynamic:
                return self.ask(f"reads {p.raw!r}, known only at run time")
            if not p.inside_root:
                return self.deny(f"reads {p.resolved} outside the scope root")
            if not self.globs.match(p.relative, p.resolved):
                return self.deny(
                    f"reads {p.relative}, outside the readable scope {list(self.globs.patterns)}"
                )
        return None


class ScopeWrite(BuiltinRule):
    rule_id = "scope.write"
    kinds = NON_LLM_KINDS

    def __init__(self, scope: Scope) -> None:
        self.globs = GlobSet(scope.write)

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        for p in facts.paths:
            if p.access not in ("write", "delete"):
                continue
            verb = "writes" if p.access == "write" else "deletes"
            if p.dynamic:
                return self.ask(f"{verb} {p.raw!r}, known only at run time")
            if not p.inside_root:
                return self.deny(f"{verb} {p.resolved} outside the scope root")
            if not self.globs.match(p.relative, p.resolved):
                return self.deny(
                    f"{verb} {_where(p)}, outside the writable scope {list(self.globs.patterns)}"
                )
        return None


class ScopeHosts(BuiltinRule):
    rule_id = "scope.hosts"
    kinds = NON_LLM_KINDS

    def __init__(self, scope: Scope) -> None:
        named = [part for entry in scope.hosts for part in entry.replace(",", "+").split("+")]
        listed = [h.strip().lower().rstrip(".") for h in named if h.strip()]
        self.hosts = tuple(dict.fromkeys([*listed, *(c for h in listed for c in COMPANION_HOSTS.get(h, ()))]))
        self._exact = frozenset(h for h in self.hosts if not any(c in h for c in "*?["))
        self._patterns = tuple(h for h in self.hosts if h not in self._exact)

    def allowed(self, host: str) -> bool:
        host = host.lower()
        if host in self._exact:
            return True
        return any(fnmatchcase(host, pattern) for pattern in self._patterns)

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        for u in facts.urls:
            hosts = u.hosts
            if not any(hosts):
                return self.deny(f"{u.scheme or 'a'} URL without a host ({u.raw!r})")
            for host in hosts:
                if not host:
                    continue
                if u.is_metadata or u.is_loopback or u.is_private:
                    if host not in self._exact and not (u.ip is not None and str(u.ip) in self._exact):
                        what = (
                            "a cloud metadata"
                            if u.is_metadata
                            else "a loopback"
                            if u.is_loopback
                            else "a private"
                        )
                        return self.deny(f"reaches {host}, {what} address, which is not in the scope's hosts")
                    continue
                if not self.allowed(host):
                    return self.deny(f"reaches {host}, not in the scope's hosts {list(self.hosts)}")
        if action.kind == "network" and not facts.urls:
            return self.ask("a network action whose destination is not known")
        return None


class ScopeOpaque(BuiltinRule):
    rule_id = "scope.opaque"
    kinds = NON_LLM_KINDS

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        if facts.opaque:
            why = "; ".join(facts.reasons) or "cannot be known before it runs"
            return self.ask(f"what this command does cannot be known before it runs: {why}")
        return None


def scope_rules(scope: Scope) -> tuple[Rule, ...]:
    """The rules a scope stands for, in the order a policy consults them."""
    return (ScopeRead(scope), ScopeWrite(scope), ScopeHosts(scope), ScopeOpaque())
