"""A durable queue of approval requests that another process answers.

The agent waits; a human (or a service) answers from anywhere that can open the same queue: the same
SQLite file on one machine, or the same PostgreSQL database from any machine::

    $ agentguard approvals list
    ID            AGE  STATUS   AGENT  TOOL  REASON
    3f9c0a1b2c4d   4s  pending  fixer  run   destructive command

    3f9c0a1b2c4d  rm -rf build
    $ agentguard approvals approve 3f9c0a1b2c4d --scope run

No answer by the timeout denies, and the request is marked expired so a late answer is refused.
While it waits, the approver records that it is alive (a heartbeat every few seconds, and its pid):
a request whose waiter was killed shows as ``orphaned`` and cannot be approved.

Waiters poll (every ``poll_interval``, a primary-key read) on both backends rather than LISTEN on
PostgreSQL: one code path, and the heartbeat writes that mark a waiter alive are needed either way.
"""

from __future__ import annotations

import asyncio
import os
import time

from .. import _safe
from ._model import ApprovalRequest, ApprovalResult, timed_out
from ._postgres import SecretURL
from ._store import HEARTBEAT_S, ApprovalStore, RequestRecord


class QueueApprover:
    """Put each request in an :class:`ApprovalStore` and poll until it is answered or ``timeout`` passes.

    ``url="postgresql://..."`` is a queue in PostgreSQL (``agentguard[postgres]``) that agents and
    approvers on other machines share; ``path`` is a SQLite file. With neither: ``$AGENTGUARD_APPROVALS_URL``,
    else ``$AGENTGUARD_APPROVALS_DB``, else ``.agentguard/approvals.db`` under the current directory. The
    queue is opened on first use. ``aapprove`` polls with ``asyncio.sleep`` and does its database work
    in a worker thread, so the event loop never waits on the database.
    """

    enforces_timeout = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        poll_interval: float = 0.2,
        timeout: float = 300,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        if path is not None and url is not None:
            raise ValueError("give a QueueApprover a path or a url, not both")
        self.path = path
        self._url = None if url is None else SecretURL(url)
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._store: ApprovalStore | None = None

    @property
    def url(self) -> str | None:
        """The PostgreSQL URL given, with its password masked."""
        return None if self._url is None else self._url.location

    def __repr__(self) -> str:
        if self._store is not None:
            return f"QueueApprover({self._store.location!r})"
        return (
            f"QueueApprover(url={self.url!r})" if self._url is not None else f"QueueApprover({self.path!r})"
        )

    @property
    def store(self) -> ApprovalStore:
        """The store, opened (and created) on first use."""
        if self._store is None:
            self._store = ApprovalStore(self.path, url=None if self._url is None else self._url.reveal())
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
