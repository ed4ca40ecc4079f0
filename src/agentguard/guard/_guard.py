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

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from opentelemetry import metrics, trace

from .. import _safe
from .._version import __version__
from ..action import ALLOW, Decision
from ..detect import DetectorSet, default_detectors
from ..spend import PriceBook
from ..telemetry import capture_from_env
from ..telemetry import semconv as sc
from ._llm_step import LlmStep
from ._llm_step import start_llm as _start_llm
from ._metrics import Instruments
from ._run import RunScope, RunState, current_run
from ._step import ToolSpec, ToolStep
from ._step import start_tool as _start_tool

if TYPE_CHECKING:
    from opentelemetry._logs import Logger, LoggerProvider

    from ..action import Action, Scope
    from ..approval import AnyApprover, ApprovalResult
    from ..detect import Detector

OnDeny = Literal["raise", "return"]


@runtime_checkable
class PolicyLike(Protocol):
    """What the guard needs from a policy: a decision for an action (:class:`agentguard.Policy` is one)."""

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
        logger_provider: LoggerProvider | None = None,
        policy: PolicyLike | None = None,
        approver: AnyApprover | None = None,
        prices: PriceBook | None = None,
        capture_content: bool | None = None,
        history_size: int = 256,
        on_deny: OnDeny = "raise",
        propagate_to_threads: bool = True,
        detectors: DetectorSet | Sequence[Callable[[], Detector]] | Literal[False] | None = None,
        approval_timeout: float | None = None,
    ) -> None:
        if on_deny not in ("raise", "return"):
            raise ValueError(f"on_deny must be 'raise' or 'return', not {on_deny!r}")
        if history_size < 1:
            raise ValueError("history_size must be at least 1")
        self.tracer = trace.get_tracer("agentguard", __version__, tracer_provider)
        self.meter = metrics.get_meter("agentguard", __version__, meter_provider)
        self.instruments = Instruments(self.meter)
        self._logger_provider = logger_provider
        self._logger: Logger | None = None
        self.policy = policy
        self.approver = approver
        self.prices = prices if prices is not None else PriceBook()
        self.capture_content = capture_from_env() if capture_content is None else capture_content
        self.history_size = history_size
        self.on_deny: OnDeny = on_deny
        self.propagate_to_threads = propagate_to_threads
        self.approval_timeout = approval_timeout
        self.detectors = detectors
        """Online misalignment detectors as given (see :mod:`agentguard.detect`); ``None`` means the
        built-in set, ``False`` or an empty sequence none."""
        self.detector_set: DetectorSet | None = _detector_set(detectors)
        """:attr:`detectors` as the set every run's session is made from (``None``: detection off)."""

    @property
    def logger(self) -> Logger:
        """The OpenTelemetry logger for ``gen_ai.evaluation.result`` records (from ``logger_provider``,
        else the global one); made on first use."""
        found = self._logger
        if found is None:
            from opentelemetry import _logs

            found = self._logger = _logs.get_logger("agentguard", __version__, self._logger_provider)
        return found

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

    def _approver(self, run: RunState | None) -> AnyApprover | None:
        return run.approver if run is not None and run.approver is not None else self.approver

    def _approve(self, action: Action, decision: Decision, run: RunState | None) -> Decision:
        """Resolve an ``ask``: the run's or the guard's approver answers; none means deny."""
        approver = self._approver(run)
        if approver is None:
            return _no_approver(decision)
        try:
            from ..approval import resolve

            result = resolve(approver, action, decision, run, timeout=self.approval_timeout)
        except Exception as exc:
            return Decision.deny(f"approval failed: {type(exc).__name__}: {exc}", rule_id="approver.error")
        self._record_wait(result)
        return result.as_decision(decision)

    async def _aapprove(self, action: Action, decision: Decision, run: RunState | None) -> Decision:
        approver = self._approver(run)
        if approver is None:
            return _no_approver(decision)
        try:
            from ..approval import aresolve

            result = await aresolve(approver, action, decision, run, timeout=self.approval_timeout)
        except Exception as exc:
            return Decision.deny(f"approval failed: {type(exc).__name__}: {exc}", rule_id="approver.error")
        self._record_wait(result)
        return result.as_decision(decision)

    def _record_wait(self, result: ApprovalResult) -> None:
        """The approval wait metric (never raises: telemetry)."""
        try:
            granted = "true" if result.granted else "false"
            self.instruments.approval_wait.record(result.wait_s, {sc.APPROVAL_GRANTED: granted})
        except Exception as exc:
            _safe.report("guard.approval_wait", exc)

    # -- steps: one call's lifecycle (see agentguard.step) --------------------------------------------
    def start_tool(
        self,
        action: Action,
        *,
        run: RunState | Literal["current"] | None = "current",
        spec: ToolSpec | None = None,
        on_deny: OnDeny | None = None,
    ) -> ToolStep:
        """Start one tool call's step: its ``execute_tool`` span (not yet current) and detector event.

        ``run`` defaults to the current run (``None``: outside any run). ``spec`` is what every call
        of the tool shares (built once per tool); without it one is built from the action.
        """
        state = current_run() if run == "current" else run
        return _start_tool(self, action, run=state, spec=spec, on_deny=on_deny)

    def start_llm(
        self,
        *,
        request_model: str,
        attributes: dict[str, Any] | None = None,
        tool: str = "openai.chat.completions",
        run: RunState | Literal["current"] | None = "current",
        operation: str = sc.OP_CHAT,
        provider: str = sc.PROVIDER_OPENAI,
    ) -> LlmStep:
        """Start one model call's step: its ``{operation} {model}`` client span (not yet current).

        ``attributes`` (handed over: the step adds the run's ids to it) are the request's span
        attributes, operation, provider and request model included; ``None`` means just those three.
        ``tool`` names the call in decisions and budget rules (``Action(kind="llm", tool=tool)``).
        """
        state = current_run() if run == "current" else run
        return _start_llm(
            self,
            request_model=request_model,
            attributes=attributes,
            tool=tool,
            run=state,
            operation=operation,
            provider=provider,
        )

    def run(
        self,
        *,
        name: str = "agent",
        task: str | None = None,
        scope: Scope | None = None,
        policy: PolicyLike | None = None,
        approver: AnyApprover | None = None,
        conversation_id: str | None = None,
        join: bool = False,
    ) -> RunScope:
        """A run for a ``with`` or ``async with`` block, without the decorator.

        ``with guard.run(name="fixer", task="fix the parser test", policy=policy) as run:`` opens an
        ``invoke_agent fixer`` run for the block, as :func:`agentguard.guarded` does for a call.
        ``join=True`` joins the current run instead when there is one (integrations use it so that a
        framework run inside ``@guarded`` stays one run).
        """
        return RunScope(
            self,
            join=join,
            name=name,
            task=task,
            scope=scope if scope is not None else getattr(policy, "scope", None),
            policy=policy,
            approver=approver,
            conversation_id=conversation_id,
        )


def _detector_set(
    configured: DetectorSet | Sequence[Callable[[], Detector]] | Literal[False] | None,
) -> DetectorSet | None:
    if configured is None:
        return default_detectors()
    if isinstance(configured, DetectorSet):
        return configured if len(configured) else None
    if configured is False or not configured:
        return None
    return DetectorSet(list(configured))


def _no_approver(decision: Decision) -> Decision:
    return replace(
        decision,
        outcome="deny",
        reason=f"approval required ({decision.reason}) but no approver is configured",
        rule_ids=decision.rule_ids or ("approval",),
    )


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
