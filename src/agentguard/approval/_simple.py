"""Approvers that need no human at a prompt: a callback of yours, and a fixed answer."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from ._model import ApprovalRequest, ApprovalResult, timed_out
from ._resolve import call_in_thread, in_daemon_thread
from ._store import ApprovalStore

CallbackResult = bool | ApprovalResult
Callback = Callable[[ApprovalRequest], CallbackResult | Awaitable[CallbackResult]]


class CallbackApprover:
    """Your function decides: ``fn(request)`` returns a bool or an :class:`ApprovalResult`.

    ``fn`` may be sync or async; either works from sync and async callers (a sync ``fn`` called from
    ``aapprove`` runs in a worker thread, so a slow one never blocks the event loop). With a timeout, a
    ``fn`` that overruns is a denial.

    >>> approver = CallbackApprover(lambda request: request.tool != "deploy")
    """

    enforces_timeout = True

    def __init__(self, fn: Callback, *, name: str = "callback", store: ApprovalStore | None = None) -> None:
        self.fn = fn
        self.name = name
        self.store = store if store is not None else ApprovalStore(":memory:")

    def __repr__(self) -> str:
        return f"CallbackApprover({getattr(self.fn, '__qualname__', self.fn)!r})"

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        if timeout is None and not inspect.iscoroutinefunction(self.fn):
            return self._result(self.fn(request))
        try:  # an async fn gets its own loop in a worker thread: the caller may be inside one already
            answer = call_in_thread(functools.partial(_call_to_completion, self.fn, request), timeout)
        except TimeoutError:
            return timed_out(timeout or 0.0, by=self.name, wait_s=timeout or 0.0)
        return self._result(answer)

    async def aapprove(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        if inspect.iscoroutinefunction(self.fn):
            pending: Awaitable[Any] = self.fn(request)
        else:
            pending = in_daemon_thread(functools.partial(_call_to_completion, self.fn, request))
        try:
            answer = await asyncio.wait_for(pending, timeout)
        except TimeoutError:
            return timed_out(timeout or 0.0, by=self.name, wait_s=timeout or 0.0)
        return self._result(answer)

    def _result(self, answer: Any) -> ApprovalResult:
        if isinstance(answer, ApprovalResult):
            return answer
        if isinstance(answer, bool):
            verb = "approved" if answer else "denied"
            return ApprovalResult(granted=answer, by=self.name, reason=f"{verb} by {self.name}")
        raise TypeError(
            f"approval callback returned {type(answer).__name__}, expected bool or ApprovalResult"
        )


def _call_to_completion(fn: Callback, request: ApprovalRequest) -> Any:
    answer = fn(request)
    if inspect.isawaitable(answer):
        return asyncio.run(_await(answer))
    return answer


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class AutoApprover:
    """The same answer every time, without asking: ``"deny"`` (default) for unattended runs, ``"allow"``
    for tests and sandboxes."""

    enforces_timeout = True

    def __init__(self, decision: Literal["allow", "deny"] = "deny") -> None:
        if decision not in ("allow", "deny"):
            raise ValueError(f"decision must be 'allow' or 'deny', not {decision!r}")
        self.decision = decision

    def __repr__(self) -> str:
        return f"AutoApprover({self.decision!r})"

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        granted = self.decision == "allow"
        return ApprovalResult(
            granted=granted,
            by="auto",
            reason="allowed without asking" if granted else "denied without asking (no one to ask)",
        )

    async def aapprove(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        return self.approve(request, timeout=timeout)
