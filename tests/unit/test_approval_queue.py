"""QueueApprover: a request waits in the queue until someone else answers it, or it expires.

Tests taking ``queue`` run on a SQLite file and on a real PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentguard.approval import (
    AlreadyAnsweredError,
    ApprovalRequest,
    ApprovalResult,
    ApprovalStore,
    QueueApprover,
)
from approval_queues import Queue


def _request(rid: str = "r1", run_id: str | None = "run-1") -> ApprovalRequest:
    return ApprovalRequest(
        id=rid,
        action_hash="h1",
        tool="run",
        kind="shell",
        summary="rm -rf build",
        reason="destructive command",
        rule_ids=("destructive_commands",),
        run_id=run_id,
        agent="fixer",
        created=time.time(),
    )


def ask(approver: QueueApprover, mode: str, timeout: float | None, rid: str = "r1") -> ApprovalResult:
    if mode == "sync":
        return approver.approve(_request(rid), timeout=timeout)
    return asyncio.run(approver.aapprove(_request(rid), timeout=timeout))


def answer_when_pending(
    queue: Queue, answer: Callable[[ApprovalStore, str], Any], delay: float = 0.2
) -> None:
    """Another 'process' (its own connection, in a thread) answers the first pending request."""

    def run() -> None:
        with queue.open() as store:
            deadline = time.monotonic() + 5
            while not store.pending() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(delay)
            answer(store, store.pending()[0].id)

    threading.Thread(target=run, daemon=True).start()


both = pytest.mark.parametrize("mode", ["sync", "async"])


@both
@pytest.mark.timeout(10)
@pytest.mark.parametrize("scope", ["once", "run", "always"])
def test_answered_by_someone_else(mode: str, scope: Any, queue: Queue) -> None:
    answer_when_pending(queue, lambda s, rid: s.answer(rid, True, by="alice", scope=scope, reason="fine"))
    result = ask(queue.approver(poll_interval=0.02), mode, timeout=5)
    assert (result.granted, result.by, result.scope, result.reason) == (True, "alice", scope, "fine")
    assert result.wait_s >= 0.2
    assert (result.grant_id is None) == (scope == "once")


@both
@pytest.mark.timeout(10)
def test_denied_by_someone_else(mode: str, queue: Queue) -> None:
    answer_when_pending(queue, lambda s, rid: s.answer(rid, False, by="bob", reason="not today"))
    result = ask(queue.approver(poll_interval=0.02), mode, timeout=5)
    assert (result.granted, result.by, result.reason) == (False, "bob", "not today")


@both
@pytest.mark.timeout(10)
def test_timeout_denies_and_expires_the_request(mode: str, queue: Queue) -> None:
    approver = queue.approver(poll_interval=0.02, timeout=0.2)
    result = ask(approver, mode, timeout=None)
    assert (result.granted, result.by, result.reason) == (False, "queue", "timed out after 0.2s")
    assert result.wait_s >= 0.2
    with queue.open() as store:
        assert store.get("r1").status == "expired"
        assert store.pending() == []
        with pytest.raises(AlreadyAnsweredError, match="expired"):
            store.answer("r1", True, by="late")


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_cancelled_wait_expires_the_request(queue: Queue) -> None:
    approver = queue.approver(poll_interval=0.02)
    task = asyncio.ensure_future(approver.aapprove(_request(), timeout=30))
    with queue.open() as store:  # cancelled while it waits (not before it asked: a loaded machine is slow)
        deadline = time.monotonic() + 5
        while not store.pending() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert [r.id for r in store.pending()] == ["r1"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with queue.open() as store:
        assert store.get("r1").status == "expired"


@pytest.mark.timeout(10)
def test_many_waiters_each_get_their_own_answer(queue: Queue) -> None:
    approver = queue.approver(poll_interval=0.02)
    results: dict[str, ApprovalResult] = {}

    def wait(rid: str) -> None:
        results[rid] = approver.approve(_request(rid), timeout=5)

    threads = [threading.Thread(target=wait, args=(f"r{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    with queue.open() as store:
        deadline = time.monotonic() + 5
        while len(store.pending()) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        for request in store.pending():
            store.answer(request.id, request.id in ("r0", "r2", "r4"), by="alice")
    for t in threads:
        t.join()
    assert {rid: r.granted for rid, r in results.items()} == {f"r{i}": i % 2 == 0 for i in range(6)}


def test_default_path_and_lazy_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTGUARD_APPROVALS_DB", raising=False)
    monkeypatch.delenv("AGENTGUARD_APPROVALS_URL", raising=False)
    approver = QueueApprover()
    assert not (tmp_path / ".agentguard").exists()
    assert approver.store.path == tmp_path / ".agentguard" / "approvals.db"
    assert (tmp_path / ".agentguard" / "approvals.db").is_file()
    approver.close()


def test_rejects_a_nonsense_poll_interval() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        QueueApprover(poll_interval=0)
