"""The :class:`Policy`: a scope, rules and a default, combined into one decision per action.

>>> from agentguard import Action, Scope, rules
>>> from agentguard.policy import Policy
>>> policy = Policy(scope=Scope(root=".", write=["src/**"]), rules=[rules.destructive_commands()])
>>> policy.check(Action(kind="shell", tool="run", command="git push --force")).outcome
'deny'

Combination: any ``deny`` wins, then ``ask``, then ``allow``; when no rule has an opinion the
policy's ``default`` applies. ``mode="shadow"`` decides and records the same way but the decision is
marked ``shadow`` and never blocks. A rule that raises denies, naming itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..action import Action, Decision, Mode, Outcome, Vote
from ..normalise._facts import builder
from ._base import Rule, facts_of
from ._index import RuleIndex
from ._rules._scope import scope_rules

if TYPE_CHECKING:
    from ..action import Scope
    from ..guard import RunState
    from ..normalise import Facts

Default = Literal["allow", "deny", "ask"]
_OUTCOMES = ("allow", "deny", "ask")


class Policy:
    """Rules, an optional :class:`~agentguard.Scope` (itself three rules) and a default outcome.

    ``check(action, run=None)`` works with no agent running; it derives the action's facts once
    (cached on ``action.facts``) against the scope's root (a relative root is taken against the
    action's ``cwd`` when it has one, else the process's).
    """

    __slots__ = ("_index", "_root", "default", "mode", "name", "rules", "scope")

    def __init__(
        self,
        *,
        scope: Scope | None = None,
        rules: Sequence[Rule] = (),
        default: Default = "allow",
        mode: Mode = "enforce",
        name: str = "policy",
    ) -> None:
        if default not in _OUTCOMES:
            raise ValueError(f"default must be 'allow', 'deny' or 'ask', not {default!r}")
        if mode not in ("enforce", "shadow"):
            raise ValueError(f"mode must be 'enforce' or 'shadow', not {mode!r}")
        self.scope = scope
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.default: Default = default
        self.mode: Mode = mode
        self.name = name
        self._root = scope.root if scope is not None else None
        all_rules: list[Rule] = [*(scope_rules(scope) if scope is not None else ()), *self.rules]
        self._index = RuleIndex(all_rules)

    def __repr__(self) -> str:
        n = len(self._index.entries)
        return f"Policy(name={self.name!r}, rules={n}, default={self.default!r}, mode={self.mode!r})"

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule's id, scope rules first, in the order they are consulted."""
        return tuple(e.rule_id for e in self._index.entries)

    def check(self, action: Action, run: RunState | None = None) -> Decision:
        """Decide one action: combine every applicable rule's answer (deny > ask > allow > default)."""
        facts = None
        if action.kind != "llm":
            try:
                facts = facts_of(action, self._root)
            except Exception as exc:
                return self._finish(
                    Decision.deny(
                        f"the action could not be normalised ({type(exc).__name__}: {exc})",
                        rule_id="normalise.error",
                    ),
                )
        votes: list[Vote] = []
        for rule, rule_id in self._index.calls(action.kind, action.tool):
            try:
                decision = rule(action, run)
            except Exception as exc:
                votes.append(
                    Vote(
                        rule_id=rule_id,
                        outcome="deny",
                        reason=f"rule {rule_id} raised {type(exc).__name__}: {exc}",
                    )
                )
                continue
            if decision is None:
                continue
            if not isinstance(decision, Decision) or decision.outcome not in _OUTCOMES:
                votes.append(
                    Vote(
                        rule_id=rule_id,
                        outcome="deny",
                        reason=f"rule {rule_id} returned {decision!r}, not a Decision or None",
                    )
                )
                continue
            votes.append(Vote(rule_id=rule_id, outcome=decision.outcome, reason=decision.reason))
        matches = self._index.matches
        if matches is not None:
            found = matches.votes(action, facts)
            if found:
                if votes:
                    positions = self._index.positions
                    ordered = [(positions.get(v.rule_id, 0), v) for v in votes]
                    ordered.extend(found)
                    ordered.sort(key=_position)
                    votes = [v for _, v in ordered]
                else:
                    votes = [v for _, v in found]
        return combine(votes, self.default, mode=self.mode, facts=facts, policy=self.name)

    def _finish(self, decision: Decision) -> Decision:
        votes = (Vote(rule_id=decision.rule_ids[0], outcome=decision.outcome, reason=decision.reason),)
        return combine(votes, self.default, mode=self.mode, policy=self.name)


new_decision = builder(Decision)
"""``Decision(**fields)`` through the slot descriptors (:func:`~agentguard.normalise._facts.builder`),
typed with ``Decision``'s own signature (one per decision the policy makes; figures in
benchmarks/bench_policy.py)."""
_DEFAULT_REASONS = {outcome: f"no rule matched; the default is {outcome}" for outcome in _OUTCOMES}


def _position(item: tuple[int, Vote]) -> int:
    return item[0]


def combine(
    votes: Sequence[Vote],
    default: Outcome,
    *,
    mode: Mode = "enforce",
    facts: Facts | None = None,
    policy: str = "",
) -> Decision:
    """Any deny wins, then ask, then allow, then ``default``; every other vote is listed as matched."""
    if not votes:
        reason = _DEFAULT_REASONS.get(default) or f"no rule matched; the default is {default}"
        return new_decision(outcome=default, reason=reason, mode=mode, facts=facts, policy=policy)
    for outcome in ("deny", "ask", "allow"):
        deciding = [v for v in votes if v.outcome == outcome]
        if deciding:
            break
    ids = tuple(dict.fromkeys(v.rule_id for v in deciding))
    reasons = "; ".join(dict.fromkeys(v.reason for v in deciding if v.reason))
    matched = tuple(dict.fromkeys(v.rule_id for v in votes if v.rule_id not in ids))
    return new_decision(
        outcome=deciding[0].outcome,
        reason=reasons,
        rule_ids=ids,
        matched=matched,
        mode=mode,
        votes=tuple(votes),
        facts=facts,
        policy=policy,
    )
