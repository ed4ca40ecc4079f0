"""ApprovalStore: pending requests, answers (exactly one wins), grants, revocation, history, schema.

Tests taking ``queue`` or ``store`` run twice: on a SQLite file and on a real PostgreSQL (the ``queue``
fixture in tests/conftest.py). PostgreSQL-only behaviour is in test_approval_postgres.py.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentguard.approval import (
    AlreadyAnsweredError,
    ApprovalError,
    ApprovalRequest,
    ApprovalStore,
    UnknownIdError,
)
from approval_queues import Queue


def _request(rid: str = "r1", *, run_id: str | None = "run-1", action_hash: str = "h1") -> ApprovalRequest:
    return ApprovalRequest(
        id=rid,
        action_hash=action_hash,
        tool="run",
        kind="shell",
        summary="rm -rf build",
        reason="destructive command",
        rule_ids=("destructive_commands",),
        run_id=run_id,
        agent="fixer",
        created=time.time(),
    )


@pytest.fixture
def store(queue: Queue) -> Iterator[ApprovalStore]:
    s = queue.open()
    yield s
    s.close()


def test_file_is_created_in_wal_mode_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "approvals.db"
    ApprovalStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_default_path_is_under_dot_agentguard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTGUARD_APPROVALS_DB", raising=False)
    monkeypatch.delenv("AGENTGUARD_APPROVALS_URL", raising=False)
    with ApprovalStore() as s:
        assert s.path == tmp_path / ".agentguard" / "approvals.db"
    monkeypatch.setenv("AGENTGUARD_APPROVALS_DB", str(tmp_path / "env.db"))
    with ApprovalStore() as s:
        assert s.path == tmp_path / "env.db"


def test_create_false_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ApprovalStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "approvals.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ApprovalError, match="newer"):
        ApprovalStore(path)


def test_pending_request_round_trips(store: ApprovalStore) -> None:
    request = _request()
    store.submit(request)
    assert store.pending() == [request]
    assert store.get("r1").status == "pending"


def test_answer_once_grants_without_a_grant(store: ApprovalStore) -> None:
    store.submit(_request())
    record = store.answer("r1", True, by="alice", reason="looks fine")
    assert (record.status, record.by, record.scope, record.grant_id, record.reason) == (
        "granted",
        "alice",
        "once",
        None,
        "looks fine",
    )
    assert store.pending() == []
    assert store.grants() == []


@pytest.mark.parametrize("scope", ["run", "always"])
def test_answer_with_scope_creates_a_grant_bound_to_the_hash(store: ApprovalStore, scope: str) -> None:
    store.submit(_request())
    record = store.answer("r1", True, by="alice", scope=scope)  # type: ignore[arg-type]
    (grant,) = store.grants()
    assert grant.id == record.grant_id
    assert (grant.action_hash, grant.scope, grant.by, grant.request_id) == ("h1", scope, "alice", "r1")
    assert grant.run_id == ("run-1" if scope == "run" else None)
    assert store.find_grant("h1", "run-1") == grant
    assert store.find_grant("h2", "run-1") is None
    assert (store.find_grant("h1", "run-2") is None) == (scope == "run")


def test_run_scope_needs_a_run(store: ApprovalStore) -> None:
    store.submit(_request(run_id=None))
    with pytest.raises(ValueError, match="not part of a run"):
        store.answer("r1", True, by="alice", scope="run")
    assert store.get("r1").status == "pending"


def test_deny_creates_no_grant(store: ApprovalStore) -> None:
    store.submit(_request())
    record = store.answer("r1", False, by="bob", scope="always", reason="no")
    assert record.status == "denied"
    assert store.grants() == []


def test_unknown_and_already_answered_ids_raise(store: ApprovalStore) -> None:
    with pytest.raises(UnknownIdError):
        store.answer("nope", True, by="alice")
    store.submit(_request())
    store.answer("r1", False, by="bob")
    with pytest.raises(AlreadyAnsweredError, match="already denied by bob"):
        store.answer("r1", True, by="alice")


def test_expired_requests_leave_pending_and_refuse_answers(store: ApprovalStore) -> None:
    store.submit(_request(), expires=time.time() - 1)
    assert store.pending() == []
    with pytest.raises(AlreadyAnsweredError, match="expired"):
        store.answer("r1", True, by="alice")
    assert store.get("r1").status == "expired"


def test_expire_keeps_an_answer_that_came_first(store: ApprovalStore) -> None:
    store.submit(_request())
    store.answer("r1", True, by="alice")
    assert store.expire("r1").status == "granted"


def test_concurrent_answers_exactly_one_wins(queue: Queue) -> None:
    with queue.open() as s:
        s.submit(_request())
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def answer(i: int) -> None:
        with queue.open() as own:  # one connection each, as separate processes would have
            barrier.wait()
            try:
                own.answer("r1", i % 2 == 0, by=f"user{i}", scope="always")
                outcomes.append("won")
            except AlreadyAnsweredError:
                outcomes.append("lost")

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    with queue.open() as s:
        assert len(s.grants()) <= 1
        assert s.get("r1").status in ("granted", "denied")


def test_revoke_hides_a_grant_and_cannot_repeat(store: ApprovalStore) -> None:
    store.submit(_request())
    grant_id = store.answer("r1", True, by="alice", scope="always").grant_id
    assert grant_id is not None
    revoked = store.revoke(grant_id, by="carol")
    assert revoked.revoked is not None
    assert store.grants() == []
    assert [g.id for g in store.grants(include_revoked=True)] == [grant_id]
    assert store.find_grant("h1", None) is None
    with pytest.raises(AlreadyAnsweredError, match="already revoked"):
        store.revoke(grant_id)
    with pytest.raises(UnknownIdError):
        store.revoke("gnope")


def test_history_holds_every_request_newest_first(store: ApprovalStore) -> None:
    store.submit(_request("r1"))
    time.sleep(0.01)
    store.submit(_request("r2"))
    store.answer("r1", False, by="bob")
    records = store.history()
    assert [(r.request.id, r.status) for r in records] == [("r2", "pending"), ("r1", "denied")]
    assert records[1].to_dict()["request"]["rule_ids"] == ["destructive_commands"]


def test_record_keeps_an_outside_answer_once(store: ApprovalStore) -> None:
    request = _request()
    store.record(request, granted=True, by="console", scope="once", reason="ok")
    store.record(request, granted=False, by="console", scope="once", reason="again")
    (record,) = store.history()
    assert (record.status, record.by, record.reason) == ("granted", "console", "ok")


def test_memory_store_works_from_many_threads() -> None:
    s = ApprovalStore(":memory:")

    def work(i: int) -> None:
        s.submit(_request(f"r{i}"))
        s.answer(f"r{i}", True, by="t", scope="always")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.grants()) == 10
    s.close()


@pytest.mark.timeout(30)
def test_many_openers_of_a_new_queue_at_once(queue: Queue) -> None:
    """Processes racing to create the same queue (agent and CLI) must all get a working store."""
    if queue.path is not None:
        queue = Queue(queue.backend, path=queue.path.parent / "new" / "approvals.db")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            with queue.open() as store:
                store.pending()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_waiter_that_stops_polling_leaves_its_request_orphaned(store: ApprovalStore) -> None:
    store.submit(_request("w1"), expires=time.time() + 600, waiter=True)
    assert store.get("w1").status == "pending", "this process is waiting and alive"
    store.heartbeat("w1")
    with store._write() as conn:  # the waiter's last heartbeat was long ago
        conn.execute("UPDATE requests SET waiter_seen = ? WHERE id = 'w1'", (time.time() - 3600,))
    assert store.get("w1").status == "orphaned"
    assert store.pending() == []
    assert [r.status for r in store.open()] == ["orphaned"]
    with pytest.raises(AlreadyAnsweredError, match="orphaned"):
        store.answer("w1", True, by="alice", scope="always")
    assert store.grants() == []
    assert store.history()[0].status == "orphaned"


def test_a_request_without_a_recorded_waiter_is_never_orphaned(store: ApprovalStore) -> None:
    store.submit(_request("w2"))
    assert store.get("w2").status == "pending"
    assert store.answer("w2", True, by="alice").status == "granted"


def test_an_unanswered_request_past_its_expiry_reads_as_expired(store: ApprovalStore) -> None:
    store.submit(_request("w3"), expires=time.time() - 1)
    assert store.get("w3").status == "expired"
    assert store.history()[0].status == "expired"


def test_a_version_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE requests (id TEXT PRIMARY KEY, action_hash TEXT NOT NULL, tool TEXT NOT NULL,"
        " kind TEXT NOT NULL, summary TEXT NOT NULL, reason TEXT NOT NULL, rule_ids TEXT NOT NULL,"
        " run_id TEXT, agent TEXT, created REAL NOT NULL, expires REAL, status TEXT NOT NULL,"
        " answered REAL, answered_by TEXT, scope TEXT, answer_reason TEXT NOT NULL DEFAULT '',"
        " grant_id TEXT);"
        "INSERT INTO requests (id, action_hash, tool, kind, summary, reason, rule_ids, created, status)"
        " VALUES ('old1', 'h', 'run', 'shell', 'ls', 'r', '[]', 1.0, 'pending');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    with ApprovalStore(path) as store:
        assert store.get("old1").status == "pending"
        store.submit(_request("new1"), waiter=True)
        assert store.get("new1").status == "pending"


def test_summaries_and_reasons_are_redacted_in_the_queue(queue: Queue) -> None:
    secret = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9"
    request = ApprovalRequest(
        id="s1",
        action_hash="h",
        tool="run",
        kind="shell",
        summary=f"git push https://{secret}@github.com/o/r.git",
        reason=f"pushes with {secret}",
        rule_ids=(),
        run_id="run-1",
        agent="fixer",
        created=time.time(),
    )
    with queue.open() as s:
        s.submit(request)
        s.add_grant(request, "always", by="alice")
        assert secret not in s.get("s1").request.summary
        stored = [
            *(r["summary"] + r["reason"] for r in s._query("SELECT summary, reason FROM requests")),
            *(r["summary"] for r in s._query("SELECT summary FROM grants")),
        ]
    assert len(stored) == 2
    assert not any(secret in text for text in stored)
    assert all("github.com" in text for text in stored)
    if queue.path is not None:
        assert all(secret.encode() not in p.read_bytes() for p in queue.path.parent.iterdir())
