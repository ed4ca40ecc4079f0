"""A run's spend ledger: what its LLM calls spent, and reservations of the calls in flight.

Concurrent LLM calls in one run must not overshoot a budget together, so a call is admitted by
*reserving* an estimate under the ledger's lock (spent + outstanding reservations + estimate must fit)
and the reservation is *reconciled* with the real usage when the call ends (or released when it does
not happen)::

    >>> ledger = Budget()
    >>> ledger.reserve("call-1", usd=0.5, tokens=0, limit_usd=1.0, limit_tokens=None) is None
    True
    >>> ledger.reserve("call-2", usd=0.6, tokens=0, limit_usd=1.0, limit_tokens=None)
    'would exceed the budget of $1.00 (spent $0.00, reserved $0.50, this call ~$0.60)'
    >>> ledger.reconcile("call-1", usd=0.25, tokens=1200)
    >>> round(ledger.spent_usd, 2), ledger.spent_tokens
    (0.25, 1200)

The ledger sits below the guard: every :class:`~agentguard.guard.RunState` holds one, the ``budget``
policy rule reserves against it, and the guard's LLM step reconciles (or releases) the reservation of
each call it decided. A call whose price is unknown is counted at its estimate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..action import Action
    from ..guard import RunState

_TTL_S = 3600.0
_EPSILON = 1e-9  # sums of float estimates may land a hair above a limit they exactly meet


def format_usd(value: float) -> str:
    """``value`` in dollars with two decimals, and more when two would round it to another amount.

    >>> format_usd(2.0), format_usd(0.99996), format_usd(0.00002)
    ('2.00', '0.99996', '0.00002')
    """
    for places in range(2, 11):
        text = f"{value:.{places}f}"
        if float(text) == value:
            return text
    text = f"{value:.10f}".rstrip("0")
    return text if float(text) != 0.0 or value == 0.0 else repr(value)


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
                    f"would exceed the budget of ${format_usd(limit_usd)} (spent ${format_usd(base_usd)}, "
                    f"reserved ${format_usd(reserved_usd)}, this call ~${format_usd(usd)})"
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


def key_of(action: Action) -> Hashable:
    """The reservation key of an LLM call's action."""
    return action  # identity-hashed; held by the ledger until reconciled, so never reused


def reconcile(run: RunState | None, action: Action, *, cost_usd: float | None, tokens: int | None) -> None:
    """An LLM call decided for ``action`` ended with this usage."""
    if run is not None:
        run.budget.reconcile(key_of(action), usd=cost_usd, tokens=tokens)


def release(run: RunState | None, action: Action) -> None:
    """The LLM call decided for ``action`` did not happen."""
    if run is not None:
        run.budget.release(key_of(action))
