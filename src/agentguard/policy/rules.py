"""The built-in policy rules, as ``agentguard.rules.<name>(...)``.

Each returns a rule object (a callable ``(action, run) -> Decision | None`` with a ``rule_id`` and
the action ``kinds`` it applies to) to put in ``Policy(rules=[...])``::

    import agentguard as ag

    ag.Policy(rules=[
        ag.rules.destructive_commands(),           # rm -rf outside scope, force pushes, mkfs, DROP TABLE...
        ag.rules.secrets(),                        # .env, keys, credentials, env dumps, through any tool
        ag.rules.protect(["agentguard_policy.py", ".git/**"]),
        ag.rules.no_agent_spawn(),                 # codex, claude, gemini, aider... in any shell position
        ag.rules.budget(usd=2.0, tokens=200_000),  # LLM calls reserve before, reconcile after
        ag.rules.rate_limit(30, per_seconds=60, kinds=["shell"]),
        ag.rules.tools(deny=["delete_*"]),
        ag.rules.models(allow=["gpt-4.1*"]),
        ag.rules.after_signal(severity="critical", then="ask"),  # detector signals: a human looks first
        ag.rules.no_egress_after_secret_read(),
    ])

Most rules of a large policy are data: deny this program, ask before that path, block those hosts.
:func:`match` states them as fields, and the policy indexes them (by program, host, path, tool), so a
policy of thousands decides about as fast as one of ten::

    ag.Policy(rules=[
        ag.rules.match(decision="deny", program="git", subcommand="push", reason="agents do not push"),
        ag.rules.match(decision="ask", path=["migrations/**", "*.lock"], access="write"),
        ag.rules.match(decision="deny", host=["*.pastebin.com", "transfer.sh"]),
        ag.rules.match(decision="deny", tool="delete_database"),
    ])

A :class:`~agentguard.Scope` given to the policy adds ``scope.read``, ``scope.write``, ``scope.hosts``
and ``scope.opaque`` (see :func:`scope`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from ..action import Scope
from ._base import BuiltinRule
from ._match import Match, PathAccess, match
from ._rules._agents import AGENT_PROGRAMS, NoAgentSpawn
from ._rules._destructive import DestructiveCommands
from ._rules._limits import Models, RateLimit, Tools
from ._rules._protect import Protect
from ._rules._scope import ScopeHosts, ScopeOpaque, ScopeRead, ScopeWrite, scope_rules
from ._rules._secrets import NOT_SECRET, SECRET_FILES, Secrets
from ._rules._signals import AfterSignal, NoEgressAfterSecretRead

if TYPE_CHECKING:
    from ._budget import BudgetRule


def destructive_commands(*, opaque: Literal["ask", "deny"] = "ask") -> DestructiveCommands:
    """Deny commands that destroy data, history or machines; ``opaque`` shell commands ask or deny."""
    return DestructiveCommands(opaque=opaque)


def secrets(*, extra: Iterable[str] = (), allow: Iterable[str] = (), env_dumps: bool = True) -> Secrets:
    """Deny reading secret files (``.env*``, keys, cloud credentials...) and dumping the environment.

    ``extra`` adds globs of secret files, ``allow`` exempts look-alikes (``.env.example`` is exempt).
    """
    return Secrets(extra=extra, allow=allow, env_dumps=env_dumps)


def protect(globs: Iterable[str] | str, *, trust: Iterable[str] = ()) -> Protect:
    """Deny writes and deletes to paths matching ``globs`` (relative to the scope root, or absolute);
    ask when a program whose effect is not known is given one, unless it is named in ``trust``."""
    return Protect(globs, trust=trust)


def no_agent_spawn(
    *, programs: Iterable[str] = (), allow: Iterable[str] = (), agent_tools: bool = False
) -> NoAgentSpawn:
    """Deny starting another coding agent (codex, claude, gemini, aider...), also through npx/pipx/uvx."""
    return NoAgentSpawn(programs=programs, allow=allow, agent_tools=agent_tools)


def budget(
    usd: float | None = None,
    tokens: int | None = None,
    *,
    estimate_usd: float | None = None,
    estimate_tokens: int | None = None,
) -> BudgetRule:
    """Deny LLM calls once the run's spend plus calls in flight would pass ``usd`` or ``tokens``."""
    from ._budget import BudgetRule

    return BudgetRule(usd, tokens, estimate_usd=estimate_usd, estimate_tokens=estimate_tokens)


def rate_limit(max_calls: int, per_seconds: float, *, kinds: Iterable[str] | None = None) -> RateLimit:
    """Deny more than ``max_calls`` actions (of ``kinds``, default all) per ``per_seconds`` in a run."""
    return RateLimit(max_calls, per_seconds, kinds=kinds)


def tools(*, allow: Iterable[str] | None = None, deny: Iterable[str] = ()) -> Tools:
    """Deny tools by name (globs): those in ``deny``, and with ``allow``, every tool not in it."""
    return Tools(allow=allow, deny=deny)


def models(*, allow: Iterable[str]) -> Models:
    """Deny LLM calls to models not matching ``allow`` (globs such as ``gpt-4.1*``)."""
    return Models(allow=allow)


def after_signal(
    *,
    severity: str = "critical",
    then: Literal["ask", "deny"] = "ask",
    categories: Iterable[str] | None = None,
) -> AfterSignal:
    """After a detector signal of at least ``severity`` (in ``categories``, default any), ask or deny
    every further action of the run."""
    return AfterSignal(severity=severity, then=then, categories=categories)


def no_egress_after_secret_read() -> NoEgressAfterSecretRead:
    """After a secret file was read or the environment dumped in the run, deny network egress."""
    return NoEgressAfterSecretRead()


def scope(scope: Scope) -> tuple[BuiltinRule, ...]:
    """The rules a :class:`~agentguard.Scope` stands for (a policy given ``scope=`` adds them itself)."""
    return tuple(r for r in scope_rules(scope) if isinstance(r, BuiltinRule))


def __getattr__(name: str) -> Any:
    # the budget rule and the spend ledger it reads load with the first budget() or BudgetRule use
    if name == "BudgetRule":
        from ._budget import BudgetRule

        return BudgetRule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AGENT_PROGRAMS",
    "NOT_SECRET",
    "SECRET_FILES",
    "AfterSignal",
    "BudgetRule",
    "BuiltinRule",
    "DestructiveCommands",
    "Match",
    "Models",
    "NoAgentSpawn",
    "NoEgressAfterSecretRead",
    "PathAccess",
    "Protect",
    "RateLimit",
    "ScopeHosts",
    "ScopeOpaque",
    "ScopeRead",
    "ScopeWrite",
    "Secrets",
    "Tools",
    "after_signal",
    "budget",
    "destructive_commands",
    "match",
    "models",
    "no_agent_spawn",
    "no_egress_after_secret_read",
    "protect",
    "rate_limit",
    "scope",
    "secrets",
    "tools",
]
