"""Resolving an ``ask``: existing grants first, then the approver, then remembering the answer.

This is what the guard calls when the policy says ``ask``::

    result = resolve(guard.approver, action, decision, run, timeout=30)
    decision = result.as_decision(decision)

Everything that can go wrong is a denial with a reason, never an exception: no approver (``"no
approver"``), an approver that raises (``"approver raised ValueError: ..."``), nobody answering in time
(``"timed out after 30s"``). :func:`aresolve` is the same for async callers and never blocks the event
loop: it awaits ``aapprove`` when the approver has one, else runs ``approve`` in a worker thread.

Grants: an answer scoped ``run`` or ``always`` becomes a grant bound to the action's hash (and run), kept
in the approver's ``store`` (an :class:`~agentguard.approval.ApprovalStore`; the built-in approvers
always have one, in memory unless given a file). Later identical actions are granted without asking,
with ``by="grant:<id>"``. Answers given through a file store are also kept in its history.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _safe
from ._hash import action_hash, summarise
from ._model import ApprovalRequest, ApprovalResult, timed_out
from ._store import ApprovalStore, new_id

if TYPE_CHECKING:
    from ..action import Action, Decision
    from ..guard import RunState

T = TypeVar("T")

# How much longer than ``timeout`` we wait for an approver that enforces the timeout itself.
_GRACE_S = 1.0

_stores: weakref.WeakKeyDictionary[Any, ApprovalStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def build_request(action: Action, decision: Decision, run: RunState | None) -> ApprovalRequest:
    """The request a human sees for ``action``, which the policy answered with ``decision``."""
    return ApprovalRequest(
        id=new_id(),
        action_hash=action_hash(action),
        tool=action.tool,
        kind=action.kind,
        summary=summarise(action),
        reason=decision.reason,
        rule_ids=tuple(decision.rule_ids),
        run_id=run.run_id if run is not None else None,
        agent=run.name if run is not None else None,
        created=time.time(),
    )


def resolve(
    approver: Any, action: Action, decision: Decision, run: RunState | None, *, timeout: float | None = None
) -> ApprovalResult:
    """Ask ``approver`` about ``action`` (blocking), unless a grant already covers it."""
    request = build_request(action, decision, run)
    if approver is None:
        return ApprovalResult.deny("no approver")
    store = grant_store(approver)
    hit = _find_grant(store, request)
    if hit is not None:
        return hit
    started = time.perf_counter()
    try:
        if getattr(approver, "enforces_timeout", False) or timeout is None:
            answer: Any = approver.approve(request, timeout=timeout)
        else:  # a foreign approver may ignore the timeout: bound it from here
            answer = call_in_thread(functools.partial(approver.approve, request, timeout=timeout), timeout)
    except TimeoutError:
        answer = timed_out(timeout or 0.0, by="agentguard", wait_s=time.perf_counter() - started)
    except Exception as exc:
        answer = ApprovalResult.deny(f"approver raised {type(exc).__name__}: {exc}")
    result = _checked(answer, time.perf_counter() - started)
    return _remember(store, request, result)


async def aresolve(
    approver: Any, action: Action, decision: Decision, run: RunState | None, *, timeout: float | None = None
) -> ApprovalResult:
    """The async form of :func:`resolve`: waits without blocking the event loop."""
    request = build_request(action, decision, run)
    if approver is None:
        return ApprovalResult.deny("no approver")
    store = grant_store(approver)
    durable = store is not None and not store.memory
    hit = await asyncio.to_thread(_find_grant, store, request) if durable else _find_grant(store, request)
    if hit is not None:
        return hit
    started = time.perf_counter()
    limit = (
        None
        if timeout is None
        else timeout + (_GRACE_S if getattr(approver, "enforces_timeout", False) else 0)
    )
    try:
        aapprove = getattr(approver, "aapprove", None)
        if callable(aapprove):
            answer: Any = await asyncio.wait_for(aapprove(request, timeout=timeout), limit)
        else:
            call = functools.partial(approver.approve, request, timeout=timeout)
            answer = await asyncio.wait_for(in_daemon_thread(call), limit)
    except TimeoutError:
        answer = timed_out(timeout or 0.0, by="agentguard", wait_s=time.perf_counter() - started)
    except Exception as exc:
        answer = ApprovalResult.deny(f"approver raised {type(exc).__name__}: {exc}")
    result = _checked(answer, time.perf_counter() - started)
    if durable:
        return await asyncio.to_thread(_remember, store, request, result)
    return _remember(store, request, result)


def grant_store(approver: Any) -> ApprovalStore | None:
    """Where ``approver``'s grants live: its ``store``, else one kept in memory beside it.

    ``None`` when its store cannot be opened (an unreachable database): then its ``approve`` meets the
    same error, and the answer is a denial that says so.
    """
    try:
        store = getattr(approver, "store", None)
    except Exception as exc:
        _safe.report("approval.store", exc)
        return None
    if isinstance(store, ApprovalStore):
        return store
    try:
        with _stores_lock:
            store = _stores.get(approver)
            if store is None:
                store = _stores[approver] = ApprovalStore(":memory:")
        return store
    except TypeError:  # cannot hold a weak reference to it: answers are not remembered
        return None


def call_in_thread(fn: Callable[[], T], timeout: float | None) -> T:
    """Run ``fn`` in a daemon thread (with the caller's context); :class:`TimeoutError` if it overruns.

    An overrunning ``fn`` is abandoned, not stopped: its answer, if it ever comes, is dropped.
    """
    ctx = contextvars.copy_context()
    done = threading.Event()
    box: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(ctx.run(fn))
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="agentguard-approval", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError
    if errors:
        raise errors[0]
    return box[0]  # type: ignore[no-any-return]


async def in_daemon_thread(fn: Callable[[], T]) -> T:
    """Await ``fn`` run in a daemon thread (with the caller's context).

    Unlike :func:`asyncio.to_thread`, a thread still blocked when the awaiter gives up (a prompt
    nobody answers) does not hold up the loop's shutdown or the interpreter's exit.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    ctx = contextvars.copy_context()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def target() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = ctx.run(fn)
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed while we ran: nobody is waiting
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=target, name="agentguard-approval", daemon=True).start()
    return await future


def _checked(answer: Any, elapsed: float) -> ApprovalResult:
    if not isinstance(answer, ApprovalResult):
        return ApprovalResult.deny(
            f"approver returned {type(answer).__name__}, not an ApprovalResult", wait_s=elapsed
        )
    result: ApprovalResult = answer
    return replace(result, wait_s=elapsed) if result.wait_s <= 0 else result


def _find_grant(store: ApprovalStore | None, request: ApprovalRequest) -> ApprovalResult | None:
    if store is None:
        return None
    try:
        grant = store.find_grant(request.action_hash, request.run_id)
    except Exception as exc:  # an unreadable store means asking again, never allowing
        _safe.report("approval.find_grant", exc)
        return None
    if grant is None:
        return None
    return ApprovalResult(
        granted=True,
        by=f"grant:{grant.id}",
        scope=grant.scope,
        wait_s=0.0,
        grant_id=grant.id,
        reason=f"{grant.scope} grant from {grant.by}",
    )


def _remember(
    store: ApprovalStore | None, request: ApprovalRequest, result: ApprovalResult
) -> ApprovalResult:
    """Turn a ``run``/``always`` answer into a grant (unless the approver made one) and keep history."""
    if result.scope == "run" and request.run_id is None:
        result = replace(result, scope="once")
    if store is None:
        return result if result.scope == "once" else replace(result, scope="once")
    try:
        if result.granted and result.scope != "once" and result.grant_id is None:
            grant = store.add_grant(request, result.scope, by=result.by)
            result = replace(result, grant_id=grant.id)
        if not store.memory:
            store.record(
                request,
                granted=result.granted,
                by=result.by,
                scope=result.scope,
                reason=result.reason,
                grant_id=result.grant_id,
            )
    except Exception as exc:  # the answer stands; only remembering it failed
        _safe.report("approval.remember", exc)
    return result
