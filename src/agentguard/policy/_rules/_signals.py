"""``after_signal`` and ``no_egress_after_secret_read``: rules that read the run's detector signals.

They read ``run.signals``, which the online detectors fill as the run goes, so a signal raised by an
action counts from that very action's decision on (detectors see an action before the policy does).
The detector package is imported when such a rule is made or first needs facts, not with the policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from ...action import Decision
from .._base import NON_LLM_KINDS, facts_of

if TYPE_CHECKING:
    from ...action import Action
    from ...guard import RunState

_EGRESS = frozenset({"shell", "network", "other", "agent"})


class AfterSignal:
    """Ask (or deny) every further action once a signal of at least ``severity`` was raised."""

    rule_id = "detect.after_signal"

    def __init__(
        self,
        *,
        severity: str = "critical",
        then: Literal["ask", "deny"] = "ask",
        categories: Iterable[str] | None = None,
        kinds: Iterable[str] = NON_LLM_KINDS,
    ) -> None:
        from ...detect import CATEGORIES, severity_rank

        if then not in ("ask", "deny"):
            raise ValueError(f"then must be 'ask' or 'deny', not {then!r}")
        self.rank = severity_rank(severity)
        self.severity = severity
        self.then = then
        self.categories = frozenset(categories) if categories is not None else None
        if self.categories is not None and not self.categories <= set(CATEGORIES):
            raise ValueError(f"unknown categories {sorted(self.categories - set(CATEGORIES))}")
        self.kinds = frozenset(kinds)

    def __call__(self, action: Action, run: RunState | None) -> Decision | None:
        if run is None or not run.signals:
            return None
        for sig in run.signals:
            if sig.rank >= self.rank and (self.categories is None or sig.category in self.categories):
                reason = f"after signal {sig.code} ({sig.severity}): {sig.message}"
                if self.then == "deny":
                    return Decision.deny(reason, rule_id=self.rule_id)
                return Decision.ask(reason, rule_id=self.rule_id)
        return None

    def __repr__(self) -> str:
        return f"<rule {self.rule_id} severity>={self.severity} then={self.then}>"


class NoEgressAfterSecretRead:
    """Deny network egress (network tools, shell commands reaching a public host) after a secret read."""

    rule_id = "detect.no_egress_after_secret_read"
    kinds = _EGRESS

    def __call__(self, action: Action, run: RunState | None) -> Decision | None:
        if run is None or not any(s.code == "exfiltration.secret_read" for s in run.signals):
            return None
        if action.kind == "network":
            return Decision.deny("network egress after a secret was read in this run", rule_id=self.rule_id)
        if not action.command and not action.url:
            return None
        from ...detect import egress_hosts

        hosts = egress_hosts(facts_of(action))
        if not hosts:
            return None
        return Decision.deny(
            f"egress to {', '.join(hosts[:3])} after a secret was read in this run", rule_id=self.rule_id
        )

    def __repr__(self) -> str:
        return f"<rule {self.rule_id}>"
