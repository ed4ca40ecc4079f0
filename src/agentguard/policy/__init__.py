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

from ..spend import Budget, reconcile, release
from ._base import Rule, facts_of, resolve_root, rule_id_of
from ._globs import GlobSet
from ._policy import Policy, combine

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
