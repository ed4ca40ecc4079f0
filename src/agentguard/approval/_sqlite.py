"""The approvals queue in one SQLite file (the default backend), or in memory.

WAL mode, a busy timeout, and every write transaction inside ``BEGIN IMMEDIATE``, so two answers to one
request cannot both win. The schema version is ``PRAGMA user_version``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from ._backend import SCHEMA_VERSION, Row
from ._errors import ApprovalError

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS requests (
    id            TEXT PRIMARY KEY,
    action_hash   TEXT NOT NULL,
    tool          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    summary       TEXT NOT NULL,
    reason        TEXT NOT NULL,
    rule_ids      TEXT NOT NULL,
    run_id        TEXT,
    agent         TEXT,
    created       REAL NOT NULL,
    expires       REAL,
    status        TEXT NOT NULL,
    answered      REAL,
    answered_by   TEXT,
    scope         TEXT,
    answer_reason TEXT NOT NULL DEFAULT '',
    grant_id      TEXT
);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, created);

CREATE TABLE IF NOT EXISTS grants (
    id          TEXT PRIMARY KEY,
    action_hash TEXT NOT NULL,
    scope       TEXT NOT NULL,
    run_id      TEXT,
    tool        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    created     REAL NOT NULL,
    created_by  TEXT NOT NULL,
    request_id  TEXT,
    revoked     REAL,
    revoked_by  TEXT
);
CREATE INDEX IF NOT EXISTS grants_hash ON grants (action_hash);
"""

# Version 2: who waits for each request, so a request whose waiter is gone is never approvable.
_WAITER_COLUMNS: Final = (("waiter_pid", "INTEGER"), ("waiter_host", "TEXT"), ("waiter_seen", "REAL"))


def _retry_busy(step: Callable[[], None], timeout: float) -> None:
    """Run ``step``, retrying while SQLite says the database is locked or busy, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class _Tx:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self._conn.execute(sql, tuple(params)).fetchall()
        return rows


class SQLiteBackend:
    """One connection to the file (or ``:memory:``), shared by this process's threads behind a lock.

    ``create=False`` raises :class:`FileNotFoundError` instead of creating a missing file.
    """

    name = "sqlite"

    def __init__(self, path: Path, *, create: bool = True, busy_timeout: float = 10.0) -> None:
        self.memory = str(path) == ":memory:"
        self.path = path
        self.location = str(path)
        if not self.memory:
            if not create and not path.is_file():
                raise FileNotFoundError(f"no approvals queue at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            ":memory:" if self.memory else path,
            timeout=busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # Two processes opening a new queue at once can get SQLITE_BUSY here without the busy
            # handler's help (switching to WAL and creating the schema): retry within the timeout.
            _retry_busy(self._setup, busy_timeout)
        except BaseException:
            self._conn.close()
            raise

    def _setup(self) -> None:
        if not self.memory:
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise ApprovalError(
                f"approvals store {self.path} has schema version {version}, newer than this agentguard "
                "supports; upgrade agentguard"
            )
        with self.write():
            # Another process may have migrated while we waited for the write lock.
            current = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if current < 1:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
            if current < 2:
                have = {row[1] for row in self._conn.execute("PRAGMA table_info(requests)")}
                for name, kind in _WAITER_COLUMNS:
                    if name not in have:
                        self._conn.execute(f"ALTER TABLE requests ADD COLUMN {name} {kind}")
            if current < SCHEMA_VERSION:
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def write(self) -> Iterator[_Tx]:
        """One write transaction, holding SQLite's write lock from the start (no lost updates)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            rows: list[Row] = self._conn.execute(sql, tuple(params)).fetchall()
            return rows

    def close(self) -> None:
        with self._lock:
            self._conn.close()
