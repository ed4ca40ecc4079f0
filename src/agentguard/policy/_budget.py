"""A run's spend ledger, and the ``budget`` rule that reserves against it before each LLM call.

Concurrent LLM calls in one run must not overshoot a budget together, so a call is admitted by
*reserving* an estimate under the ledger's lock (spent + outstanding reservations + estimate must fit)
and the reservation is *reconciled* with the real usage when the call ends (or released when it does
not happen)::

    >>> ledger = Budget()
    >>> ledger.reserve("call-1", usd=0.5, tokens=0, limit_usd=1.0, limit_tokens=None) is None
    True
    >>> ledger.reserve("call-2", usd=0.6, tokens=0, limit_usd=1.0, limit_tokens=None)
    'would exceed the budget of $1.0000 (spent $0.0000, reserved $0.5000, this call ~$0.6000)'
    >>> ledger.reconcile("call-1", usd=0.25, tokens=1200)
    >>> round(ledger.spent_usd, 2), ledger.spent_tokens
    (0.25, 1200)

The instrumentation calls :func:`reconcile` (or :func:`release`) for each LLM call it decided; a call
whose price is unknown is counted at its estimate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._base import BuiltinRule

if TYPE_CHECKING:
    from ..action import Action
    from ..decision import Decision
    from ..run import RunState

_TTL_S = 3600.0
_EPSILON = 1e-9  # sums of float estimates may land a hair above a limit they exactly meet


@dataclass(slots=True)
class _Reservation:
    usd: float
    tokens: int
    at: float


class Budget:
    """Spent USD and tokens of one run, plus reservations of calls in flight; thread-safe."""

    __slots__ = ("_lock", "_pending", "calls", "spent_tokens", "spent_usd")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Hashable, _Reservation] = {}
        self.spent_usd = 0.0
        self.spent_tokens = 0
        self.calls = 0

    @property
    def reserved_usd(self) -> float:
        with self._lock:
            return sum(r.usd for r in self._pending.values())

    @property
    def reserved_tokens(self) -> int:
        with self._lock:
            return sum(r.tokens for r in self._pending.values())

    def average(self) -> tuple[float, int] | None:
        """Mean USD and tokens of the calls reconciled so far (``None`` before the first)."""
        with self._lock:
            if not self.calls:
                return None
            return self.spent_usd / self.calls, self.spent_tokens // self.calls

    def reserve(
        self,
        key: Hashable,
        *,
        usd: float,
        tokens: int,
        limit_usd: float | None,
        limit_tokens: int | None,
        spent_usd: float = 0.0,
        spent_tokens: int = 0,
    ) -> str | None:
        """Reserve for ``key`` if it fits; the reason it does not otherwise (nothing reserved then).

        ``spent_*`` are spend the caller knows of from elsewhere (the run's own totals); the larger of
        them and the ledger's counts. Reserving again for the same key (a second budget rule) keeps
        the larger of each estimate.
        """
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            previous = self._pending.get(key)
            reserved_usd = sum(r.usd for r in self._pending.values()) - (previous.usd if previous else 0.0)
            reserved_tokens = sum(r.tokens for r in self._pending.values()) - (
                previous.tokens if previous else 0
            )
            if previous is not None:
                usd, tokens = max(usd, previous.usd), max(tokens, previous.tokens)
            base_usd = max(self.spent_usd, spent_usd)
            base_tokens = max(self.spent_tokens, spent_tokens)
            if limit_usd is not None and (
                base_usd >= limit_usd or base_usd + reserved_usd + usd > limit_usd + _EPSILON
            ):
                return (
                    f"would exceed the budget of ${limit_usd:.4f} (spent ${base_usd:.4f}, "
                    f"reserved ${reserved_usd:.4f}, this call ~${usd:.4f})"
                )
            if limit_tokens is not None and (
                base_tokens >= limit_tokens or base_tokens + reserved_tokens + tokens > limit_tokens
            ):
                return (
                    f"would exceed the budget of {limit_tokens} tokens (spent {base_tokens}, "
                    f"reserved {reserved_tokens}, this call ~{tokens})"
                )
            self._pending[key] = _Reservation(usd=usd, tokens=tokens, at=now)
            return None

    def reconcile(self, key: Hashable, *, usd: float | None, tokens: int | None) -> None:
        """The call for ``key`` ended: drop its reservation and count what it really cost.

        ``None`` means unknown: the reservation's estimate is counted instead.
        """
        with self._lock:
            reservation = self._pending.pop(key, None)
            if usd is None:
                usd = reservation.usd if reservation is not None else 0.0
            if tokens is None:
                tokens = reservation.tokens if reservation is not None else 0
            self.spent_usd += usd
            self.spent_tokens += tokens
            self.calls += 1

    def release(self, key: Hashable) -> None:
        """The call for ``key`` did not happen (denied, failed before sending): drop its reservation."""
        with self._lock:
            self._pending.pop(key, None)

    def _expire(self, now: float) -> None:
        if self._pending:
            stale = [k for k, r in self._pending.items() if now - r.at > _TTL_S]
            for k in stale:
                del self._pending[k]


def _key(action: Action) -> Hashable:
    return action  # identity-hashed; held by the ledger until reconciled, so never reused


def reconcile(run: RunState | None, action: Action, *, cost_usd: float | None, tokens: int | None) -> None:
    """Hook for instrumentations: an LLM call decided for ``action`` ended with this usage."""
    if run is not None:
        run.budget.reconcile(_key(action), usd=cost_usd, tokens=tokens)


def release(run: RunState | None, action: Action) -> None:
    """Hook for instrumentations: the LLM call decided for ``action`` did not happen."""
    if run is not None:
        run.budget.release(_key(action))


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
                return self.deny(f"one call (~${usd:.4f}) exceeds the budget of ${self.usd:.4f}")
            if self.tokens is not None and self.estimate_tokens is not None and tokens > self.tokens:
                return self.deny(f"one call (~{tokens} tokens) exceeds the budget of {self.tokens} tokens")
            return None
        ledger = run.budget
        usd, tokens = self.estimate(action, ledger)
        reason = ledger.reserve(
            _key(action),
            usd=usd,
            tokens=tokens,
            limit_usd=self.usd,
            limit_tokens=self.tokens,
            spent_usd=run.cost_usd,
            spent_tokens=run.input_tokens + run.output_tokens,
        )
        return self.deny(reason) if reason is not None else None
