"""The durable approvals store: pending requests, their answers, and grants, in SQLite or PostgreSQL.

Any number of processes share it: the agent's :class:`~agentguard.approval.QueueApprover` submits a
request and polls it; ``agentguard approvals`` (or any code holding an :class:`ApprovalStore`) answers
it. One SQLite file (``.agentguard/approvals.db`` by default) serves the processes of one machine; a
PostgreSQL database (``url="postgresql://..."``, or ``$AGENTGUARD_APPROVALS_URL``) serves agents and
approvers on different machines. The queue's logic is written once here; the database is behind the
small :class:`~agentguard.approval._backend.Backend` seam (``_sqlite.py``, ``_postgres.py``). Every
read-modify-write holds the queue's write lock, so two answers to one request cannot both win.

Times are wall-clock seconds from the writer's clock (``time.time()``): on PostgreSQL the machines
sharing a queue are assumed to keep their clocks in step (NTP), as expiry and heartbeats compare them.

>>> store = ApprovalStore(":memory:")
>>> store.pending()
[]
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast

from ..telemetry import redact
from ._backend import Backend, Row, Transaction
from ._errors import AlreadyAnsweredError, UnknownIdError
from ._model import SCOPES, ApprovalRequest, GrantScope
from ._postgres import PostgresBackend, is_postgres_url, redact_url
from ._sqlite import SQLiteBackend

DB_ENV: Final = "AGENTGUARD_APPROVALS_DB"
URL_ENV: Final = "AGENTGUARD_APPROVALS_URL"
DEFAULT_DB: Final = Path(".agentguard") / "approvals.db"

Status = Literal["pending", "granted", "denied", "expired", "orphaned"]

# A waiter that has not polled for this long is gone (killed, or its machine lost).
ORPHAN_AFTER_S: Final = 30.0
HEARTBEAT_S: Final = 2.0


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


def default_url() -> str | None:
    """``$AGENTGUARD_APPROVALS_URL`` (a ``postgresql://`` URL) if set, else ``None``."""
    return os.environ.get(URL_ENV, "").strip() or None


def new_id(prefix: str = "") -> str:
    """A short random id a human can type: 12 hex digits."""
    return prefix + secrets.token_hex(6)


class ApprovalStore:
    """Requests, answers and grants in SQLite or PostgreSQL; safe to share between threads and processes.

    Where the queue is: ``url`` (``postgresql://...``, needs ``agentguard[postgres]``), else ``path``
    (a SQLite file; ``":memory:"`` keeps everything in this process, what the in-process approvers use
    for ``always`` grants when given no store), else ``$AGENTGUARD_APPROVALS_URL``, else
    :func:`default_db_path`. ``create=False`` raises :class:`FileNotFoundError` instead of creating a
    missing queue. ``busy_timeout`` is how long a write waits for another writer (SQLite's busy
    timeout, PostgreSQL's ``lock_timeout``).

    ``location`` says where the queue is for people (a URL with its password masked); ``path`` is the
    SQLite file, ``None`` on PostgreSQL.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        create: bool = True,
        busy_timeout: float = 10.0,
    ) -> None:
        if url is not None and path is not None:
            raise ValueError("give an ApprovalStore a path or a url, not both")
        if path is not None and is_postgres_url(os.fspath(path)):
            raise ValueError(f"{redact_url(os.fspath(path))!r} is a URL: pass it as url=, not as a path")
        if url is None and path is None:
            url = default_url()
        self._backend: Backend
        if url is not None:
            self.path: Path | None = None
            self._backend = PostgresBackend(url, create=create, lock_timeout=busy_timeout)
        else:
            memory = str(path) == ":memory:"
            self.path = Path(":memory:") if memory else Path(path) if path is not None else default_db_path()
            self._backend = SQLiteBackend(self.path, create=create, busy_timeout=busy_timeout)
        self.memory = self._backend.memory
        self.backend = self._backend.name
        """``"sqlite"`` or ``"postgresql"``."""
        self.location = self._backend.location

    def __repr__(self) -> str:
        return (
            f"ApprovalStore({self.location!r})"
            if self.path is not None
            else f"ApprovalStore(url={self.location!r})"
        )

    # -- lifecycle ----------------------------------------------------------------------------------
    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> ApprovalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[Transaction]:
        """One write transaction, holding the queue's write lock from the start (no lost updates)."""
        return self._backend.write()

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return self._backend.read(sql, params)

    # -- requests -----------------------------------------------------------------------------------
    def submit(self, request: ApprovalRequest, *, expires: float | None = None, waiter: bool = False) -> None:
        """Add a pending request; ``expires`` (wall clock) is when its waiter gives up.

        ``waiter=True`` records this process as the one waiting for the answer: it must call
        :meth:`heartbeat` while it waits, and once it stops (killed) the request becomes ``orphaned``.
        """
        with self._write() as tx:
            _insert_request(tx, request, expires=expires)
            if waiter:
                tx.execute(
                    "UPDATE requests SET waiter_pid = ?, waiter_host = ?, waiter_seen = ? WHERE id = ?",
                    (os.getpid(), _HOST, time.time(), request.id),
                )

    def heartbeat(self, request_id: str) -> None:
        """Say that the waiter of ``request_id`` is still waiting."""
        with self._write() as tx:
            tx.execute("UPDATE requests SET waiter_seen = ? WHERE id = ?", (time.time(), request_id))

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
        with self._write() as tx:
            rows = tx.execute("SELECT * FROM requests WHERE id = ?", (request_id,))
            if not rows:
                raise UnknownIdError(f"no approval request {request_id!r}")
            row = rows[0]
            current = _record(row, now)
            if current.status in ("expired", "orphaned") and row["status"] == "pending":
                # Its waiter gave up or is gone: record that (this transaction commits), refuse the answer.
                tx.execute("UPDATE requests SET status = ? WHERE id = ?", (current.status, request_id))
            if current.status != "pending":
                refused = AlreadyAnsweredError(_already(current))
            else:
                grant_id = None
                if granted and scope != "once":
                    if scope == "run" and current.request.run_id is None:
                        raise ValueError(
                            f"request {request_id} is not part of a run; answer with once or always"
                        )
                    grant_id = self._insert_grant(tx, current.request, scope, by=by, now=now)
                tx.execute(
                    "UPDATE requests SET status = ?, answered = ?, answered_by = ?, scope = ?,"
                    " answer_reason = ?, grant_id = ? WHERE id = ?",
                    ("granted" if granted else "denied", now, by, scope, reason, grant_id, request_id),
                )
        if refused is not None:
            raise refused
        return self.get(request_id)

    def expire(self, request_id: str) -> RequestRecord:
        """Mark a request expired if nobody answered it yet; returns it as it now stands."""
        with self._write() as tx:
            tx.execute(
                "UPDATE requests SET status = 'expired', answered = ? WHERE id = ? AND status = 'pending'",
                (time.time(), request_id),
            )
            rows = tx.execute("SELECT * FROM requests WHERE id = ?", (request_id,))
        if not rows:
            raise UnknownIdError(f"no approval request {request_id!r}")
        return _record(rows[0])

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
        with self._write() as tx:
            _insert_request(
                tx,
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
        with self._write() as tx:
            grant_id = self._insert_grant(tx, request, scope, by=by, now=time.time())
        return self.grant(grant_id)

    def _insert_grant(
        self, tx: Transaction, request: ApprovalRequest, scope: GrantScope, *, by: str, now: float
    ) -> str:
        grant_id = new_id("g")
        tx.execute(
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
        with self._write() as tx:
            rows = tx.execute("SELECT * FROM grants WHERE id = ?", (grant_id,))
            if not rows:
                raise UnknownIdError(f"no grant {grant_id!r}")
            if rows[0]["revoked"] is not None:
                raise AlreadyAnsweredError(f"grant {grant_id} was already revoked")
            tx.execute(
                "UPDATE grants SET revoked = ?, revoked_by = ? WHERE id = ?", (time.time(), by, grant_id)
            )
        return self.grant(grant_id)


def _insert_request(
    tx: Transaction,
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
    tx.execute(
        "INSERT INTO requests (id, action_hash, tool, kind, summary, reason, rule_ids, run_id,"
        " agent, created, expires, status, answered, answered_by, scope, answer_reason, grant_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
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


def request_status(row: Row, now: float | None = None) -> Status:
    """The status of a ``requests`` row as the queue reads it: the stored one, or, for an unanswered
    request, ``expired`` / ``orphaned`` once its waiter gave up or is gone (any reader of the file)."""
    return _status(row, time.time() if now is None else now)


def _status(row: Row, now: float) -> Status:
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


def _record(row: Row, now: float | None = None) -> RequestRecord:
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


def _grant(row: Row) -> Grant:
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
