"""The :class:`Guard`: one object that carries everything a guarded run needs.

Providers, policy, approver, prices and capture settings are injected here; nothing reaches for a
global except the module-level default guard, which is a convenience built from the global OTel
providers the first time it is needed.

>>> import agentguard as ag
>>> guard = ag.Guard(capture_content=False)
>>> @ag.guarded(guard=guard, task="demo")
... def agent() -> str:
...     return "done"
>>> agent()
'done'
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from opentelemetry import metrics, trace

from . import _safe
from . import semconv as sc
from ._version import __version__
from .content import capture_from_env
from .cost import PriceBook
from .decision import ALLOW, Decision, Outcome
from .metrics import Instruments

if TYPE_CHECKING:
    from .action import Action
    from .run import RunState

OnDeny = Literal["raise", "return"]


@runtime_checkable
class PolicyLike(Protocol):
    """What the guard needs from a policy: a decision for an action (the policy issue builds ``Policy``)."""

    def check(self, action: Action, run: RunState | None = None) -> Decision: ...


class Guard:
    """Everything a guarded run uses: telemetry providers, policy, approver, prices, capture settings.

    All arguments are keyword-only and optional; ``None`` means the global OpenTelemetry provider,
    no policy (everything allowed), no approver (``ask`` means deny), the ``genai-prices`` table,
    and content capture from ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
    ``approval_timeout`` bounds how long an ``ask`` waits for the approver (``None``: the approver's
    own default); no answer in time means deny.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        policy: PolicyLike | None = None,
        approver: Any = None,
        prices: PriceBook | None = None,
        capture_content: bool | None = None,
        history_size: int = 256,
        on_deny: OnDeny = "raise",
        propagate_to_threads: bool = True,
        detectors: Any = None,
        approval_timeout: float | None = None,
    ) -> None:
        if on_deny not in ("raise", "return"):
            raise ValueError(f"on_deny must be 'raise' or 'return', not {on_deny!r}")
        if history_size < 1:
            raise ValueError("history_size must be at least 1")
        self.tracer = trace.get_tracer("agentguard", __version__, tracer_provider)
        self.meter = metrics.get_meter("agentguard", __version__, meter_provider)
        self.instruments = Instruments(self.meter)
        self.policy = policy
        self.approver = approver
        self.prices = prices if prices is not None else PriceBook()
        self.capture_content = capture_from_env() if capture_content is None else capture_content
        self.history_size = history_size
        self.on_deny: OnDeny = on_deny
        self.propagate_to_threads = propagate_to_threads
        self.approval_timeout = approval_timeout
        self.detectors = detectors
        """Online misalignment detectors (see :mod:`agentguard.detect`); ``None`` means the built-in set."""

    # -- the decision seam -------------------------------------------------------------------------
    def decide(self, action: Action, run: RunState | None) -> Decision:
        """The one place an action is decided before it runs. Fails closed: an error denies.

        An enforced ``ask`` waits for the approver (blocking); see :meth:`adecide` for async callers.
        """
        policy = run.policy if run is not None and run.policy is not None else self.policy
        if policy is None:  # the hot path without a policy: nothing to decide
            return ALLOW
        decision = self._check(policy, action, run)
        if decision.outcome == "ask" and decision.mode == "enforce":
            return self._approve(action, decision, run)
        return decision

    async def adecide(self, action: Action, run: RunState | None) -> Decision:
        """:meth:`decide` for async callers: an ``ask`` is awaited without blocking the event loop."""
        policy = run.policy if run is not None and run.policy is not None else self.policy
        if policy is None:
            return ALLOW
        decision = self._check(policy, action, run)
        if decision.outcome == "ask" and decision.mode == "enforce":
            return await self._aapprove(action, decision, run)
        return decision

    @staticmethod
    def _check(policy: PolicyLike, action: Action, run: RunState | None) -> Decision:
        try:
            decision = policy.check(action, run)
        except Exception as exc:
            return Decision.deny(f"policy raised {type(exc).__name__}: {exc}", rule_id="policy.error")
        if not isinstance(decision, Decision):
            return Decision.deny(
                f"policy returned {type(decision).__name__}, not a Decision", rule_id="policy.error"
            )
        return decision

    def _approver(self, run: RunState | None) -> Any:
        return run.approver if run is not None and run.approver is not None else self.approver

    def _approve(self, action: Action, decision: Decision, run: RunState | None) -> Decision:
        """Resolve an ``ask``: the run's or the guard's approver answers; none means deny."""
        approver = self._approver(run)
        if approver is None:
            return _no_approver(decision)
        if _is_legacy(approver):
            return _legacy_approve(approver, action, decision, run)
        try:
            from .approval import resolve

            result = resolve(approver, action, decision, run, timeout=self.approval_timeout)
        except Exception as exc:
            return Decision.deny(f"approval failed: {type(exc).__name__}: {exc}", rule_id="approver.error")
        self._record_wait(result)
        return _answered(decision, result)

    async def _aapprove(self, action: Action, decision: Decision, run: RunState | None) -> Decision:
        approver = self._approver(run)
        if approver is None:
            return _no_approver(decision)
        if _is_legacy(approver):
            return await asyncio.to_thread(_legacy_approve, approver, action, decision, run)
        try:
            from .approval import aresolve

            result = await aresolve(approver, action, decision, run, timeout=self.approval_timeout)
        except Exception as exc:
            return Decision.deny(f"approval failed: {type(exc).__name__}: {exc}", rule_id="approver.error")
        self._record_wait(result)
        return _answered(decision, result)

    def _record_wait(self, result: Any) -> None:
        """The approval wait metric (never raises: telemetry)."""
        try:
            wait = float(getattr(result, "wait_s", 0.0) or 0.0)
            granted = "true" if getattr(result, "granted", False) else "false"
            self.instruments.approval_wait.record(wait, {sc.APPROVAL_GRANTED: granted})
        except Exception as exc:
            _safe.report("guard.approval_wait", exc)


def _no_approver(decision: Decision) -> Decision:
    return replace(
        decision,
        outcome="deny",
        reason=f"approval required ({decision.reason}) but no approver is configured",
        rule_ids=decision.rule_ids or ("approval",),
    )


def _answered(asked: Decision, result: Any) -> Decision:
    """The decision that replaces the policy's ``ask``, carrying the approver's answer."""
    if isinstance(result, Decision):
        return result
    granted = bool(getattr(result, "granted", False))
    by = str(getattr(result, "by", "") or "approver")
    verb = "approved" if granted else "denied"
    extra = str(getattr(result, "reason", "") or "")
    reason = (
        f"{verb} by {by}"
        + (f": {extra}" if extra else "")
        + (f" (asked: {asked.reason})" if asked.reason else "")
    )
    outcome: Outcome = "allow" if granted else "deny"
    return replace(asked, outcome=outcome, reason=reason, approval=result)


_legacy_cache: dict[type, bool] = {}


def _is_legacy(approver: Any) -> bool:
    """An approver whose ``approve(action, decision, run)`` answers a bool or a Decision (the core's
    first protocol), rather than ``approve(request, *, timeout)``."""
    cls = type(approver)
    known = _legacy_cache.get(cls)
    if known is not None:
        return known
    legacy = False
    approve = getattr(approver, "approve", None)
    if approve is not None:
        try:
            params = inspect.signature(approve).parameters
            legacy = "timeout" not in params and len(params) >= 3
        except (TypeError, ValueError):
            legacy = False
    _legacy_cache[cls] = legacy
    return legacy


def _legacy_approve(approver: Any, action: Action, decision: Decision, run: RunState | None) -> Decision:
    try:
        answer = approver.approve(action, decision, run)
    except Exception as exc:
        return Decision.deny(f"approver raised {type(exc).__name__}: {exc}", rule_id="approver.error")
    if isinstance(answer, Decision):
        return answer
    outcome: Outcome = "allow" if answer else "deny"
    return replace(decision, outcome=outcome, reason=f"approver said {outcome}: {decision.reason}")


_default: Guard | None = None
_default_lock = threading.Lock()


def default_guard() -> Guard:
    """The guard used when none is given: global providers, no policy. Created on first use."""
    global _default  # noqa: PLW0603 - the one module-level convenience, set once behind a lock
    guard = _default
    if guard is None:
        with _default_lock:
            if _default is None:
                _default = Guard()
            guard = _default
    return guard


def set_default_guard(guard: Guard | None) -> None:
    """Replace the default guard (``None`` rebuilds it from the global providers on next use)."""
    global _default  # noqa: PLW0603
    with _default_lock:
        _default = guard
