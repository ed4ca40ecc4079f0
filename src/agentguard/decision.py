"""Decisions and the exception a denied action raises.

Exceptions::

    Exception
     └── Denied          a policy denied the action (or an approver said no); carries the Decision
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["allow", "deny", "ask"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What the policy says about one action: ``allow``, ``deny`` or ``ask`` (a human approves)."""

    outcome: Outcome
    reason: str = ""
    rule_ids: tuple[str, ...] = ()
    """The rules that decided."""
    matched: tuple[str, ...] = ()
    """Every other rule that matched the action."""
    mode: Literal["enforce", "shadow"] = "enforce"

    @classmethod
    def allow(cls, reason: str = "", *, rule_id: str | None = None) -> Decision:
        return cls(outcome="allow", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @classmethod
    def deny(cls, reason: str, *, rule_id: str | None = None) -> Decision:
        return cls(outcome="deny", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @classmethod
    def ask(cls, reason: str, *, rule_id: str | None = None) -> Decision:
        return cls(outcome="ask", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    @property
    def denied(self) -> bool:
        return self.outcome == "deny"

    def explain(self) -> str:
        rules = ", ".join(self.rule_ids) or "default"
        return f"{self.outcome} by {rules}: {self.reason}" if self.reason else f"{self.outcome} by {rules}"


ALLOW = Decision(outcome="allow", reason="no policy")


class Denied(Exception):
    """The guard refused to run an action. ``decision`` says which rule and why."""

    def __init__(self, decision: Decision, *, tool: str = "") -> None:
        self.decision = decision
        self.tool = tool
        where = f"{tool}: " if tool else ""
        super().__init__(f"{where}denied: {decision.explain()}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_denied, (self.decision, self.tool))


def _rebuild_denied(decision: Decision, tool: str) -> Denied:
    return Denied(decision, tool=tool)
