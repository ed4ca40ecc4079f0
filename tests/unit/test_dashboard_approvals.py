"""The dashboard's Approvals panel lists what a reviewer can still answer: not requests whose waiting
agent is gone (orphaned) or gave up (expired), which the queue itself refuses to approve."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import agentguard as ag
from agentguard.approval import ApprovalStore, build_request
from agentguard.dashboard import StoreSource
from agentguard.dashboard._queries import _pending


def _request(store: ApprovalStore, command: str, *, expires: float | None = None) -> str:
    action = ag.Action(kind="shell", tool="run", command=command)
    request = build_request(action, ag.Decision.ask("a human decides"), None)
    store.submit(request, expires=expires, waiter=True)
    return request.id


def test_orphaned_and_expired_requests_are_not_pending_on_the_dashboard(tmp_path: Path) -> None:
    db = tmp_path / "approvals.db"
    store = ApprovalStore(db)
    live = _request(store, "git push origin main")
    _request(store, "git push --tags", expires=time.time() - 1)
    orphan = _request(store, "rm -rf build")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    with sqlite3.connect(db) as conn:  # the agent that waited for this one has exited
        conn.execute("UPDATE requests SET waiter_pid = ? WHERE id = ?", (int(gone.stdout), orphan))
    source = StoreSource(tmp_path / "store.db", approvals=db)
    assert [p["id"] for p in _pending(source)] == [live]
    assert {r.status for r in store.history()} >= {"pending", "expired", "orphaned"}
