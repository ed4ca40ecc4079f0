"""The ``budget`` rule: reserves against the run's spend ledger (:mod:`agentguard.spend`) before
each LLM call, and denies the call when it would not fit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spend import Budget, format_usd, key_of
from ._base import BuiltinRule

if TYPE_CHECKING:
    from ..action import Action, Decision
    from ..guard import RunState


class BudgetRule(BuiltinRule):
    """LLM calls only while the run's spend plus calls in flight fit ``usd`` and/or ``tokens``.

    Each call reserves an estimate: ``estimate_usd``/``estimate_tokens`` when given, else the run's
    average call so far, else a tenth of the limit (so at most ten first calls race). Tokens also
    count the request's ``max_tokens`` when the action carries it. Outside a run nothing is spent and
    only an estimate above the limit is denied.
    """

    rule_id = "budget"
    kinds = frozenset({"llm"})

    def __init__(
        self,
        usd: float | None = None,
        tokens: int | None = None,
        *,
        estimate_usd: float | None = None,
        estimate_tokens: int | None = None,
    ) -> None:
        if usd is None and tokens is None:
            raise ValueError("budget() needs usd=... and/or tokens=...")
        if (usd is not None and usd < 0) or (tokens is not None and tokens < 0):
            raise ValueError("budget limits must not be negative")
        self.usd = usd
        self.tokens = tokens
        self.estimate_usd = estimate_usd
        self.estimate_tokens = estimate_tokens

    def estimate(self, action: Action, ledger: Budget | None) -> tuple[float, int]:
        average = ledger.average() if ledger is not None else None
        usd = self.estimate_usd
        if usd is None:
            usd = average[0] if average is not None else (self.usd or 0.0) / 10
        tokens = self.estimate_tokens
        if tokens is None:
            tokens = average[1] if average is not None else (self.tokens or 0) // 10
            max_tokens = action.arguments.get("max_tokens") or action.arguments.get("max_output_tokens")
            if isinstance(max_tokens, int) and max_tokens > 0:
                tokens = max(tokens, max_tokens)
        return usd, tokens

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        if run is None:
            usd, tokens = self.estimate(action, None)
            if self.usd is not None and self.estimate_usd is not None and usd > self.usd:
                return self.deny(
                    f"one call (~${format_usd(usd)}) exceeds the budget of ${format_usd(self.usd)}"
                )
            if self.tokens is not None and self.estimate_tokens is not None and tokens > self.tokens:
                return self.deny(f"one call (~{tokens} tokens) exceeds the budget of {self.tokens} tokens")
            return None
        ledger = run.budget
        usd, tokens = self.estimate(action, ledger)
        reason = ledger.reserve(
            key_of(action),
            usd=usd,
            tokens=tokens,
            limit_usd=self.usd,
            limit_tokens=self.tokens,
            spent_usd=run.cost_usd,
            spent_tokens=run.input_tokens + run.output_tokens,
        )
        return self.deny(reason) if reason is not None else None
