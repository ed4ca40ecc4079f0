"""The durable approvals store: pending requests, their answers, and grants, in one SQLite file.

Any number of processes share it (``.agentguard/approvals.db`` by default): the agent's
:class:`~agentguard.approval.QueueApprover` submits a request and polls it; ``agentguard approvals``
(or any code holding an :class:`ApprovalStore`) answers it. WAL mode, a busy timeout, and every
read-modify-write inside ``BEGIN IMMEDIATE``, so two answers to one request cannot both win. The schema
version is ``PRAGMA user_version``.

>>> store = ApprovalStore(":memory:")
>>> store.pending()
[]
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast

from ..telemetry import redact
from ._model import SCOPES, ApprovalRequest, GrantScope

SCHEMA_VERSION: Final = 2
DB_ENV: Final = "AGENTGUARD_APPROVALS_DB"
DEFAULT_DB: Final = Path(".agentguard") / "approvals.db"

Status = Literal["pending", "granted", "denied", "expired", "orphaned"]

# A waiter that has not polled for this long is gone (killed, or its machine lost).
ORPHAN_AFTER_S: Final = 30.0
HEARTBEAT_S: Final = 2.0

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


class ApprovalError(Exception):
    """Something about an approval cannot be done (the store is newer than this agentguard, ...)."""


class UnknownIdError(ApprovalError, LookupError):
    """No request or grant has that id."""


class AlreadyAnsweredError(ApprovalError):
    """The request was answered, expired or orphaned (its waiter is gone) before this answer arrived."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """A request as the store holds it, with its answer once it has one."""

    request: ApprovalRequest
    status: Status
    expires: float | None = None
    answered: float | None = None
    by: str | None = None
    scope: GrantScope | None = None
    reason: str = ""
    grant_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["request"]["rule_ids"] = list(self.request.rule_ids)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A standing approval: identical actions (same hash; same run for ``run``) pass without asking."""

    id: str
    action_hash: str
    scope: Literal["run", "always"]
    run_id: str | None
    tool: str
    kind: str
    summary: str
    created: float
    by: str
    request_id: str | None = None
    revoked: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_db_path() -> Path:
    """``$AGENTGUARD_APPROVALS_DB`` if set, else ``.agentguard/approvals.db`` under the current directory."""
    env = os.environ.get(DB_ENV, "").strip()
    return Path(env) if env else Path.cwd() / DEFAULT_DB


def new_id(prefix: str = "") -> str:
    """A short random id a human can type: 12 hex digits."""
    return prefix + secrets.token_hex(6)


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


class ApprovalStore:
    """Requests, answers and grants in SQLite; safe to share between threads and processes.

    ``path=None`` is :func:`default_db_path`; ``":memory:"`` keeps everything in this process (what the
    in-process approvers use for ``always`` grants when given no store). ``create=False`` raises
    :class:`FileNotFoundError` instead of creating a missing file.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, create: bool = True, busy_timeout: float = 10.0
    ) -> None:
        self.memory = str(path) == ":memory:"
        self.path = Path(":memory:") if self.memory else Path(path) if path is not None else default_db_path()
        if not self.memory:
            if not create and not self.path.is_file():
                raise FileNotFoundError(f"no approvals queue at {self.path}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            ":memory:" if self.memory else self.path,
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

    def __repr__(self) -> str:
        return f"ApprovalStore({str(self.path)!r})"

    # -- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ApprovalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise ApprovalError(
                f"approvals store {self.path} has schema version {version}, newer than this agentguard "
                "supports; upgrade agentguard"
            )
        with self._write():
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding SQLite's write lock from the start (no lost updates)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- requests -----------------------------------------------------------------------------------
    def submit(self, request: ApprovalRequest, *, expires: float | None = None, waiter: bool = False) -> None:
        """Add a pending request; ``expires`` (wall clock) is when its waiter gives up.

        ``waiter=True`` records this process as the one waiting for the answer: it must call
        :meth:`heartbeat` while it waits, and once it stops (killed) the request becomes ``orphaned``.
        """
        with self._write() as conn:
            _insert_request(conn, request, expires=expires)
            if waiter:
                conn.execute(
                    "UPDATE requests SET waiter_pid = ?, waiter_host = ?, waiter_seen = ? WHERE id = ?",
                    (os.getpid(), _HOST, time.time(), request.id),
                )

    def heartbeat(self, request_id: str) -> None:
        """Say that the waiter of ``request_id`` is still waiting."""
        with self._write() as conn:
            conn.execute("UPDATE requests SET waiter_seen = ? WHERE id = ?", (time.time(), request_id))

    def get(self, request_id: str) -> RequestRecord:
        """The request and its answer so far; :class:`UnknownIdError` if there is none."""
        rows = self._query("SELECT * FROM requests WHERE id = ?", (request_id,))
        if not rows:
            raise UnknownIdError(f"no approval request {request_id!r}")
        return _record(rows[0])

    def pending(self) -> list[ApprovalRequest]:
        """Requests still waiting for an answer (whose waiter is there and has not given up), oldest first."""
        return [r.request for r in self.open() if r.status == "pending"]

    def open(self) -> list[RequestRecord]:
        """Requests nobody answered that have not expired, oldest first: ``pending`` ones, and
        ``orphaned`` ones whose waiter is gone (shown, never approvable)."""
        rows = self._query(
            "SELECT * FROM requests WHERE status = 'pending' AND (expires IS NULL OR expires > ?)"
            " ORDER BY created",
            (time.time(),),
        )
        return [_record(r) for r in rows]

    def history(self, *, limit: int = 100) -> list[RequestRecord]:
        """Every request, answered or not, newest first (unanswered ones as ``expired`` or ``orphaned``
        once their waiter gave up or is gone)."""
        rows = self._query("SELECT * FROM requests ORDER BY created DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def answer(
        self,
        request_id: str,
        granted: bool,
        *,
        by: str,
        scope: GrantScope = "once",
        reason: str = "",
    ) -> RequestRecord:
        """Answer a pending request. ``run`` and ``always`` grants are created in the same transaction.

        Raises :class:`UnknownIdError` for an unknown id, :class:`AlreadyAnsweredError` when it was
        answered or expired first, and :class:`ValueError` for a ``run`` grant on a request from outside
        any run.
        """
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        now = time.time()
        refused: Exception | None = None
        with self._write() as conn:
            row = conn.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
            if row is None:
                raise UnknownIdError(f"no approval request {request_id!r}")
            current = _record(row, now)
            if current.status in ("expired", "orphaned") and row["status"] == "pending":
                # Its waiter gave up or is gone: record that (this transaction commits), refuse the answer.
                conn.execute("UPDATE requests SET status = ? WHERE id = ?", (current.status, request_id))
            if current.status != "pending":
                refused = AlreadyAnsweredError(_already(current))
            else:
                grant_id = None
                if granted and scope != "once":
                    if scope == "run" and current.request.run_id is None:
                        raise ValueError(
                            f"request {request_id} is not part of a run; answer with once or always"
                        )
                    grant_id = self._insert_grant(conn, current.request, scope, by=by, now=now)
                conn.execute(
                    "UPDATE requests SET status = ?, answered = ?, answered_by = ?, scope = ?,"
                    " answer_reason = ?, grant_id = ? WHERE id = ?",
                    ("granted" if granted else "denied", now, by, scope, reason, grant_id, request_id),
                )
        if refused is not None:
            raise refused
        return self.get(request_id)

    def expire(self, request_id: str) -> RequestRecord:
        """Mark a request expired if nobody answered it yet; returns it as it now stands."""
        with self._write() as conn:
            conn.execute(
                "UPDATE requests SET status = 'expired', answered = ? WHERE id = ? AND status = 'pending'",
                (time.time(), request_id),
            )
            row = conn.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            raise UnknownIdError(f"no approval request {request_id!r}")
        return _record(row)

    def record(
        self,
        request: ApprovalRequest,
        *,
        granted: bool,
        by: str,
        scope: GrantScope,
        reason: str,
        grant_id: str | None = None,
    ) -> None:
        """Keep an answer given elsewhere (a console, a callback) in the history; a no-op for a request
        already in the store (a queued one)."""
        with self._write() as conn:
            _insert_request(
                conn,
                request,
                status="granted" if granted else "denied",
                answered=time.time(),
                by=by,
                scope=scope,
                reason=reason,
                grant_id=grant_id,
            )

    # -- grants -------------------------------------------------------------------------------------
    def add_grant(self, request: ApprovalRequest, scope: Literal["run", "always"], *, by: str) -> Grant:
        """Grant identical actions from now on (``run``: only in the request's run)."""
        if scope == "run" and request.run_id is None:
            raise ValueError("a run grant needs a request from inside a run")
        with self._write() as conn:
            grant_id = self._insert_grant(conn, request, scope, by=by, now=time.time())
        return self.grant(grant_id)

    def _insert_grant(
        self, conn: sqlite3.Connection, request: ApprovalRequest, scope: GrantScope, *, by: str, now: float
    ) -> str:
        grant_id = new_id("g")
        conn.execute(
            "INSERT INTO grants (id, action_hash, scope, run_id, tool, kind, summary, created, created_by,"
            " request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                grant_id,
                request.action_hash,
                scope,
                request.run_id if scope == "run" else None,
                request.tool,
                request.kind,
                redact(request.summary),
                now,
                by,
                request.id,
            ),
        )
        return grant_id

    def grant(self, grant_id: str) -> Grant:
        rows = self._query("SELECT * FROM grants WHERE id = ?", (grant_id,))
        if not rows:
            raise UnknownIdError(f"no grant {grant_id!r}")
        return _grant(rows[0])

    def find_grant(self, action_hash: str, run_id: str | None) -> Grant | None:
        """A live grant covering this action: ``always``, or ``run`` for this run. Oldest first."""
        rows = self._query(
            "SELECT * FROM grants WHERE action_hash = ? AND revoked IS NULL"
            " AND (scope = 'always' OR (scope = 'run' AND run_id = ?)) ORDER BY created LIMIT 1",
            (action_hash, run_id),
        )
        return _grant(rows[0]) if rows else None

    def grants(self, *, include_revoked: bool = False) -> list[Grant]:
        """Grants, newest first."""
        where = "" if include_revoked else " WHERE revoked IS NULL"
        return [_grant(r) for r in self._query(f"SELECT * FROM grants{where} ORDER BY created DESC")]

    def revoke(self, grant_id: str, *, by: str = "") -> Grant:
        """Withdraw a grant: identical actions are asked about again. Unknown or revoked ids raise."""
        with self._write() as conn:
            row = conn.execute("SELECT * FROM grants WHERE id = ?", (grant_id,)).fetchone()
            if row is None:
                raise UnknownIdError(f"no grant {grant_id!r}")
            if row["revoked"] is not None:
                raise AlreadyAnsweredError(f"grant {grant_id} was already revoked")
            conn.execute(
                "UPDATE grants SET revoked = ?, revoked_by = ? WHERE id = ?", (time.time(), by, grant_id)
            )
        return self.grant(grant_id)


def _insert_request(
    conn: sqlite3.Connection,
    request: ApprovalRequest,
    *,
    expires: float | None = None,
    status: Status = "pending",
    answered: float | None = None,
    by: str | None = None,
    scope: GrantScope | None = None,
    reason: str = "",
    grant_id: str | None = None,
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO requests (id, action_hash, tool, kind, summary, reason, rule_ids, run_id,"
        " agent, created, expires, status, answered, answered_by, scope, answer_reason, grant_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            request.id,
            request.action_hash,
            request.tool,
            request.kind,
            redact(request.summary),  # whoever built the request, no secret reaches the file
            redact(request.reason),
            json.dumps(list(request.rule_ids)),
            request.run_id,
            request.agent,
            request.created,
            expires,
            status,
            answered,
            by,
            scope,
            reason,
            grant_id,
        ),
    )


def _already(record: RequestRecord) -> str:
    rid = record.request.id
    if record.status == "expired":
        return f"request {rid} expired: its waiter gave up before an answer came"
    if record.status == "orphaned":
        return f"request {rid} is orphaned: the agent waiting for it is gone, so it cannot be approved"
    verb = "approved" if record.status == "granted" else "denied"
    return f"request {rid} was already {verb} by {record.by}"


_HOST: Final = socket.gethostname()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no way to tell: assume alive
        return True
    return True


def request_status(row: sqlite3.Row, now: float | None = None) -> Status:
    """The status of a ``requests`` row as the queue reads it: the stored one, or, for an unanswered
    request, ``expired`` / ``orphaned`` once its waiter gave up or is gone (any reader of the file)."""
    return _status(row, time.time() if now is None else now)


def _status(row: sqlite3.Row, now: float) -> Status:
    """The stored status, or for an unanswered request whether its waiter gave up or is gone."""
    status = cast(Status, row["status"])
    if status != "pending":
        return status
    if row["expires"] is not None and row["expires"] <= now:
        return "expired"
    seen = row["waiter_seen"]
    if seen is not None:
        if now - seen > ORPHAN_AFTER_S:
            return "orphaned"
        pid = row["waiter_pid"]
        if pid is not None and row["waiter_host"] == _HOST and not _alive(int(pid)):
            return "orphaned"
    return "pending"


def _record(row: sqlite3.Row, now: float | None = None) -> RequestRecord:
    request = ApprovalRequest(
        id=row["id"],
        action_hash=row["action_hash"],
        tool=row["tool"],
        kind=row["kind"],
        summary=row["summary"],
        reason=row["reason"],
        rule_ids=tuple(json.loads(row["rule_ids"])),
        run_id=row["run_id"],
        agent=row["agent"],
        created=row["created"],
    )
    return RequestRecord(
        request=request,
        status=_status(row, time.time() if now is None else now),
        expires=row["expires"],
        answered=row["answered"],
        by=row["answered_by"],
        scope=cast("GrantScope | None", row["scope"]),
        reason=row["answer_reason"],
        grant_id=row["grant_id"],
    )


def _grant(row: sqlite3.Row) -> Grant:
    return Grant(
        id=row["id"],
        action_hash=row["action_hash"],
        scope=cast(Literal["run", "always"], row["scope"]),
        run_id=row["run_id"],
        tool=row["tool"],
        kind=row["kind"],
        summary=row["summary"],
        created=row["created"],
        by=row["created_by"],
        request_id=row["request_id"],
        revoked=row["revoked"],
    )
