"""A durable queue of approval requests that another process answers.

The agent waits; a human (or a service) answers from anywhere that can open the same SQLite file::

    $ agentguard approvals list
    ID            AGE  STATUS   AGENT  TOOL  REASON
    3f9c0a1b2c4d   4s  pending  fixer  run   destructive command

    3f9c0a1b2c4d  rm -rf build
    $ agentguard approvals approve 3f9c0a1b2c4d --scope run

No answer by the timeout denies, and the request is marked expired so a late answer is refused.
While it waits, the approver records that it is alive (a heartbeat every few seconds, and its pid):
a request whose waiter was killed shows as ``orphaned`` and cannot be approved.
"""

from __future__ import annotations

import asyncio
import os
import time

from .. import _safe
from ._model import ApprovalRequest, ApprovalResult, timed_out
from ._store import HEARTBEAT_S, ApprovalStore, RequestRecord


class QueueApprover:
    """Put each request in an :class:`ApprovalStore` and poll until it is answered or ``timeout`` passes.

    ``path=None`` is ``$AGENTGUARD_APPROVALS_DB``, else ``.agentguard/approvals.db`` under the current
    directory; the file is opened on first use. ``aapprove`` polls with ``asyncio.sleep`` and does its
    SQLite work in a worker thread, so the event loop never waits on the database.
    """

    enforces_timeout = True

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, poll_interval: float = 0.2, timeout: float = 300
    ) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.path = path
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._store: ApprovalStore | None = None

    def __repr__(self) -> str:
        return f"QueueApprover({str(self.store.path)!r})" if self._store else f"QueueApprover({self.path!r})"

    @property
    def store(self) -> ApprovalStore:
        """The store, opened (and created) on first use."""
        if self._store is None:
            self._store = ApprovalStore(self.path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        limit = self.timeout if timeout is None else timeout
        store = self.store
        started = time.monotonic()
        store.submit(request, expires=time.time() + limit, waiter=True)
        finished = False
        beat = time.monotonic()
        try:
            while True:
                if time.monotonic() - beat >= HEARTBEAT_S:
                    beat = time.monotonic()
                    store.heartbeat(request.id)
                record = store.get(request.id)
                remaining = limit - (time.monotonic() - started)
                if record.status == "pending" and remaining <= 0:
                    record = store.expire(request.id)
                if record.status != "pending":
                    finished = True
                    return _result(record, limit, time.monotonic() - started)
                time.sleep(min(self.poll_interval, remaining))
        finally:
            if not finished:  # interrupted: nobody is waiting for this answer any more
                _expire_quietly(store, request.id)

    async def aapprove(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        limit = self.timeout if timeout is None else timeout
        store = await asyncio.to_thread(lambda: self.store)
        started = time.monotonic()
        await asyncio.to_thread(store.submit, request, expires=time.time() + limit, waiter=True)
        finished = False
        beat = time.monotonic()
        try:
            while True:
                if time.monotonic() - beat >= HEARTBEAT_S:
                    beat = time.monotonic()
                    await asyncio.to_thread(store.heartbeat, request.id)
                record = await asyncio.to_thread(store.get, request.id)
                remaining = limit - (time.monotonic() - started)
                if record.status == "pending" and remaining <= 0:
                    record = await asyncio.to_thread(store.expire, request.id)
                if record.status != "pending":
                    finished = True
                    return _result(record, limit, time.monotonic() - started)
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            if not finished:  # cancelled: expire it now (one short write), so a late answer is refused
                _expire_quietly(store, request.id)


def _expire_quietly(store: ApprovalStore, request_id: str) -> None:
    try:
        store.expire(request_id)
    except Exception as exc:  # never mask the interruption that brought us here
        _safe.report("approval.expire", exc)


def _result(record: RequestRecord, limit: float, wait_s: float) -> ApprovalResult:
    if record.status == "expired":
        return timed_out(limit, by="queue", wait_s=wait_s)
    return ApprovalResult(
        granted=record.status == "granted",
        by=record.by or "queue",
        scope=record.scope or "once",
        wait_s=wait_s,
        grant_id=record.grant_id,
        reason=record.reason,
    )
