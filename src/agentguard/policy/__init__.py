"""The policy engine: rules over normalised actions, combined into one decision.

::

    import agentguard as ag

    policy = ag.Policy(
        scope=ag.Scope(root=".", write=["src/**"], read=["**"], hosts=["pypi.org"]),
        rules=[ag.rules.destructive_commands(), ag.rules.secrets(), ag.rules.protect([".git/**"])],
    )
    decision = policy.check(ag.Action(kind="shell", tool="run", command="cat .env"))
    decision.outcome            # 'deny'
    print(decision.explain())   # why, in a paragraph

A rule is any callable ``(action, run) -> Decision | None``; the built-ins live in
:mod:`agentguard.rules`. ``Budget``, ``reconcile`` and ``release`` are re-exported from
:mod:`agentguard.spend`, the run's spend ledger the ``budget`` rule reserves against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Rule, facts_of, resolve_root, rule_id_of
from ._globs import GlobSet
from ._policy import Policy, combine

if TYPE_CHECKING:
    from ..spend import Budget, reconcile, release

_FROM_SPEND = frozenset({"Budget", "reconcile", "release"})


def __getattr__(name: str) -> Any:
    # the spend ledger loads when first asked for: a policy without a budget never needs it
    if name in _FROM_SPEND:
        from .. import spend

        return getattr(spend, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Budget",
    "GlobSet",
    "Policy",
    "Rule",
    "combine",
    "facts_of",
    "reconcile",
    "release",
    "resolve_root",
    "rule_id_of",
]
