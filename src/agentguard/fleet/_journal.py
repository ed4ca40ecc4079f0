"""The monitor's durable state: received spans, per-trace progress, reviews, findings, an alert outbox.

One SQLite file (WAL). A batch of received spans is committed before the receiver answers the
exporter, so what was acknowledged survives ``kill -9``. A review's findings, its alerts and the
"reviewed" mark on its traces are written in one transaction, so a restart neither loses a session nor
reviews one twice.

Spans are kept per trace in OTLP itself: the protobuf bodies a receiver got, cut per trace
(:func:`agentguard.traces.split_by_trace`), or OTLP JSON for what arrived as JSON; both are read back
through :mod:`agentguard.traces`' codec, so what the review sees is what any OTLP reader would.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..traces import (
    Span,
    UnionFind,
    decode_request,
    encode_records,
    session_key,
    spans_from_request,
    split_by_trace,
)
from ..traces import trace_keys as summarise_request

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    trace_id TEXT NOT NULL,
    fmt TEXT NOT NULL,
    doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_trace ON batches(trace_id);
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    root_seen INTEGER NOT NULL DEFAULT 0,
    spans INTEGER NOT NULL DEFAULT 0,
    last_end_ns INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'open',
    session_id TEXT
);
CREATE INDEX IF NOT EXISTS traces_state ON traces(state, last_seen);
CREATE TABLE IF NOT EXISTS trace_keys (
    key TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    PRIMARY KEY (key, trace_id)
);
CREATE INDEX IF NOT EXISTS trace_keys_trace ON trace_keys(trace_id);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    ended_ns INTEGER NOT NULL,
    reviewed_at REAL NOT NULL,
    latency_s REAL NOT NULL,
    spans INTEGER NOT NULL,
    traces TEXT NOT NULL,
    judged TEXT NOT NULL DEFAULT '[]',
    reviews INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    code TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    confidence REAL NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'new',
    UNIQUE (session_id, reviewer, code, message)
);
CREATE INDEX IF NOT EXISTS findings_session ON findings(session_id);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    delivered INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS triage_log (
    id INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    previous TEXT NOT NULL,
    by TEXT NOT NULL,
    note TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trend_facts (
    session_id TEXT PRIMARY KEY,
    reviews INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    facts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trend_facts_start ON trend_facts(start_ns);
CREATE TABLE IF NOT EXISTS follow (
    path TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    offset INTEGER NOT NULL
);
"""

TRIAGE_STATES: Final = ("new", "acknowledged", "false_positive", "confirmed")
"""A finding's triage states; every finding starts ``new``."""

UNATTRIBUTED: Final = ""
"""The trace id of log records that carry no trace context: kept, counted, never reviewed."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One stored finding of a review (``reviewer`` is ``rules`` or the judge model's name)."""

    session_id: str
    reviewer: str
    code: str
    category: str
    severity: str
    confidence: float
    message: str
    evidence: dict[str, Any]
    created: float
    state: str = "new"
    id: int | None = None
    """The journal's id of a stored finding (``None`` before it is stored)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "reviewer": self.reviewer,
            "code": self.code,
            "category": self.category,
            "severity": self.severity,
            "confidence": self.confidence,
            "message": self.message,
            "evidence": self.evidence,
            "created": self.created,
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class Status:
    """Counts over the journal: what was received, what is waiting, what was reviewed."""

    spans: int
    traces: int
    open_traces: int
    reviewed_traces: int
    sessions: int
    judged_sessions: int
    findings: int
    alerts_pending: int
    alerts_failed: int

    @property
    def coverage(self) -> float:
        """Reviewed traces over all received traces (1.0 when nothing was received)."""
        return 1.0 if self.traces == 0 else self.reviewed_traces / self.traces

    def to_dict(self) -> dict[str, Any]:
        return {
            "spans": self.spans,
            "traces": self.traces,
            "open_traces": self.open_traces,
            "reviewed_traces": self.reviewed_traces,
            "sessions": self.sessions,
            "judged_sessions": self.judged_sessions,
            "findings": self.findings,
            "alerts_pending": self.alerts_pending,
            "alerts_failed": self.alerts_failed,
            "coverage": round(self.coverage, 6),
        }


@dataclass(frozen=True, slots=True)
class Component:
    """A session's traces as the journal knows them: still open, already reviewed, all open ones due."""

    open: list[str]
    reviewed: list[str]
    ready: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRecord:
    """What one review writes: its session, the traces it closes, its findings and alerts."""

    session_id: str
    trace_ids: Sequence[str]
    ended_ns: int
    reviewed_at: float
    latency_s: float
    spans: int
    findings: Sequence[Finding] = ()
    judged: Sequence[str] = ()
    alerts: Sequence[dict[str, Any]] = ()


@dataclass(slots=True)
class Compaction:
    """What one :meth:`Journal.compact` removed: sessions (``kept`` of them stay, with their
    findings, as rows without spans), traces and spans."""

    sessions: int = 0
    kept: int = 0
    traces: int = 0
    spans: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class _Batch:
    trace_id: str
    fmt: str
    doc: bytes
    spans: int
    root: bool
    last_end: int
    keys: set[str] = field(default_factory=set)


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def _trace_request_class() -> Any:
    module = importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    return module.ExportTraceServiceRequest


def _keys(span: Span) -> list[str]:
    conversations, run = session_key(span.attributes)
    keys = [f"c:{c}" for c in conversations]
    if run is not None:
        keys.append(f"r:{run}")
    return keys


class Journal:
    """The monitor's SQLite file (thread-safe: one connection behind a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- ingest ------------------------------------------------------------------------------------
    def append(
        self,
        spans: Iterable[Span],
        *,
        now: float | None = None,
        follow: tuple[str, int, int] | None = None,
    ) -> int:
        """Store received spans (committed when this returns); returns how many.

        ``follow`` = ``(path, inode, offset)`` records a followed file's new offset in the same
        transaction, so a crash never stores a line twice or skips one.
        """
        by_trace: dict[str, list[Span]] = defaultdict(list)
        for span in spans:
            by_trace[span.trace_id or UNATTRIBUTED].append(span)
        rows: list[_Batch] = []
        for trace_id, group in by_trace.items():
            keys: set[str] = set()
            for s in group:
                keys.update(_keys(s))
            rows.append(
                _Batch(
                    trace_id=trace_id,
                    fmt="json",
                    doc=json.dumps(encode_records(group), separators=(",", ":")).encode(),
                    spans=len(group),
                    root=any(not s.parent_id for s in group if s.span_id),
                    last_end=max((s.end for s in group), default=0),
                    keys=keys,
                )
            )
        return self._store(rows, now=now, follow=follow)

    def append_protobuf(self, request: Any, *, now: float | None = None) -> int:
        """Store a parsed ``ExportTraceServiceRequest`` as it came, cut per trace; returns the span count."""
        summaries = summarise_request(request)
        rows = []
        for trace_id, sub in split_by_trace(request).items():
            root, last_end, count, conversations, runs = summaries[trace_id]
            keys = {f"c:{c}" for c in conversations} | {f"r:{r}" for r in runs if r is not None}
            rows.append(
                _Batch(
                    trace_id=trace_id or UNATTRIBUTED,
                    fmt="pb",
                    doc=sub.SerializeToString(),
                    spans=count,
                    root=root,
                    last_end=last_end,
                    keys=keys,
                )
            )
        return self._store(rows, now=now, follow=None)

    def _store(
        self, rows: Sequence[_Batch], *, now: float | None, follow: tuple[str, int, int] | None
    ) -> int:
        if not rows and follow is None:
            return 0
        at = time.time() if now is None else now
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for b in rows:
                    db.execute(
                        "INSERT INTO batches (trace_id, fmt, doc) VALUES (?, ?, ?)",
                        (b.trace_id, b.fmt, b.doc),
                    )
                    db.execute(
                        "INSERT INTO traces (trace_id, first_seen, last_seen, root_seen, spans, last_end_ns)"
                        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(trace_id) DO UPDATE SET"
                        " last_seen = excluded.last_seen,"
                        " root_seen = MAX(root_seen, excluded.root_seen),"
                        " spans = spans + excluded.spans,"
                        " last_end_ns = MAX(last_end_ns, excluded.last_end_ns)",
                        (b.trace_id, at, at, int(b.root), b.spans, b.last_end),
                    )
                    if b.keys:
                        db.executemany(
                            "INSERT OR IGNORE INTO trace_keys (key, trace_id) VALUES (?, ?)",
                            [(k, b.trace_id) for k in b.keys],
                        )
                if follow is not None:
                    db.execute(
                        "INSERT INTO follow (path, inode, offset) VALUES (?, ?, ?) ON CONFLICT(path)"
                        " DO UPDATE SET inode = excluded.inode, offset = excluded.offset",
                        follow,
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return sum(b.spans for b in rows)

    # -- review ------------------------------------------------------------------------------------
    def due(self, *, now: float, settle_s: float, idle_s: float, limit: int = 512) -> list[str]:
        """Open traces that are complete (root received and quiet for ``settle_s``) or idle."""
        with self._lock:
            rows = self._db.execute(
                "SELECT trace_id FROM traces WHERE state = 'open' AND trace_id != ?"
                " AND ((root_seen = 1 AND last_seen <= ?) OR last_seen <= ?)"
                " ORDER BY last_seen LIMIT ?",
                (UNATTRIBUTED, now - settle_s, now - idle_s, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def components(
        self, trace_ids: Sequence[str], *, now: float, settle_s: float, idle_s: float
    ) -> list[Component]:
        """The sessions these traces belong to: every trace sharing a session key with them,
        transitively, with which of those are still open and whether all the open ones are due."""
        groups = UnionFind()
        seen = set(trace_ids)
        frontier = list(trace_ids)
        states: dict[str, tuple[str, int, float]] = {}
        with self._lock:
            db = self._db
            while frontier:
                found: list[str] = []
                for chunk in _chunks(frontier):
                    marks = ",".join("?" * len(chunk))
                    for key, tid in db.execute(
                        "SELECT b.key, b.trace_id FROM trace_keys a JOIN trace_keys b ON a.key = b.key"
                        f" WHERE a.trace_id IN ({marks})",
                        chunk,
                    ):
                        groups.union("k:" + key, tid)
                        if tid not in seen:
                            seen.add(tid)
                            found.append(tid)
                frontier = found
            for chunk in _chunks(sorted(seen)):
                marks = ",".join("?" * len(chunk))
                for tid, state, root, last in db.execute(
                    f"SELECT trace_id, state, root_seen, last_seen FROM traces WHERE trace_id IN ({marks})",
                    chunk,
                ):
                    states[tid] = (state, int(root), float(last))
        members: dict[str, list[str]] = defaultdict(list)
        for tid in sorted(seen):
            members[groups.find(tid)].append(tid)
        out = []
        for traces in members.values():
            open_ = [t for t in traces if states.get(t, ("open", 0, 0.0))[0] == "open"]
            if not open_:
                continue
            ready = all(
                (states[t][1] and states[t][2] <= now - settle_s) or states[t][2] <= now - idle_s
                for t in open_
                if t in states
            )
            reviewed = [t for t in traces if t not in open_]
            out.append(Component(open=open_, reviewed=reviewed, ready=ready))
        return out

    def spans_by_trace(self, trace_ids: Iterable[str]) -> dict[str, list[Span]]:
        """The stored spans of these traces, decoded by the OTLP codec, in arrival order."""
        out: dict[str, list[Span]] = defaultdict(list)
        request_cls: Any = None
        with self._lock:
            rows = []
            for chunk in _chunks(sorted(set(trace_ids))):
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    self._db.execute(
                        f"SELECT trace_id, fmt, doc FROM batches WHERE trace_id IN ({marks}) ORDER BY id",
                        chunk,
                    ).fetchall()
                )
        for tid, fmt, doc in rows:
            if fmt == "pb":
                if request_cls is None:
                    request_cls = _trace_request_class()
                out[tid].extend(spans_from_request(request_cls.FromString(doc)))
            else:
                out[tid].extend(decode_request(json.loads(doc)))
        return out

    def record_reviews(self, reviews: Sequence[ReviewRecord]) -> list[list[Finding]]:
        """Store reviews atomically (one transaction); returns, per review, its findings that were new."""
        result: list[list[Finding]] = []
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for r in reviews:
                    result.append(self._record(db, r))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return result

    def record_review(self, **fields: Any) -> list[Finding]:
        """:meth:`record_reviews` for one review, given as :class:`ReviewRecord`'s fields."""
        return self.record_reviews([ReviewRecord(**fields)])[0]

    @staticmethod
    def _record(db: sqlite3.Connection, r: ReviewRecord) -> list[Finding]:
        new: list[Finding] = []
        for f in r.findings:
            cur = db.execute(
                "INSERT OR IGNORE INTO findings (session_id, reviewer, code, category, severity,"
                " confidence, message, evidence, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f.session_id,
                    f.reviewer,
                    f.code,
                    f.category,
                    f.severity,
                    f.confidence,
                    f.message,
                    json.dumps(f.evidence),
                    f.created,
                ),
            )
            if cur.rowcount:
                new.append(f)
        db.execute(
            "INSERT INTO sessions (session_id, ended_ns, reviewed_at, latency_s, spans, traces,"
            " judged) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET"
            " ended_ns = excluded.ended_ns, reviewed_at = excluded.reviewed_at,"
            " latency_s = excluded.latency_s, spans = excluded.spans, traces = excluded.traces,"
            " judged = excluded.judged, reviews = reviews + 1",
            (
                r.session_id,
                r.ended_ns,
                r.reviewed_at,
                r.latency_s,
                r.spans,
                json.dumps(sorted(r.trace_ids)),
                json.dumps(sorted(r.judged)),
            ),
        )
        for chunk in _chunks(list(r.trace_ids)):
            marks = ",".join("?" * len(chunk))
            db.execute(
                f"UPDATE traces SET state = 'reviewed', session_id = ? WHERE trace_id IN ({marks})",
                [r.session_id, *chunk],
            )
        new_keys = {(f.reviewer, f.code, f.message) for f in new}
        for alert in r.alerts:
            if (alert.get("reviewer"), alert.get("code"), alert.get("message")) in new_keys:
                db.execute("INSERT INTO outbox (payload) VALUES (?)", (json.dumps(alert),))
        return new

    def record_fleet_findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """Store findings that belong to no one session (the fleet trends'); returns those that were new.

        A finding already stored (same key, reviewer, code and message) keeps its triage state.
        """
        new: list[Finding] = []
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for f in findings:
                    cur = db.execute(
                        "INSERT OR IGNORE INTO findings (session_id, reviewer, code, category, severity,"
                        " confidence, message, evidence, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (f.session_id, f.reviewer, f.code, f.category, f.severity, f.confidence, f.message,
                         json.dumps(f.evidence), f.created),
                    )  # fmt: skip
                    if cur.rowcount:
                        new.append(f)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return new

    # -- fleet trends ------------------------------------------------------------------------------
    def sessions_without_facts(self, limit: int = 256) -> list[tuple[str, list[str], int]]:
        """Reviewed sessions with spans whose trend facts are missing or older than their last review:
        ``(session_id, trace_ids, reviews)``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.session_id, s.traces, s.reviews FROM sessions s LEFT JOIN trend_facts f"
                " ON f.session_id = s.session_id WHERE s.spans > 0 AND (f.session_id IS NULL"
                " OR f.reviews != s.reviews) ORDER BY s.reviewed_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [(r[0], list(json.loads(r[1])), int(r[2])) for r in rows]

    def store_facts(self, rows: Sequence[tuple[str, int, int, dict[str, Any]]]) -> None:
        """Keep trend facts ``(session_id, reviews, start_ns, facts)``, replacing older ones."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO trend_facts (session_id, reviews, start_ns, facts) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(session_id) DO UPDATE SET reviews = excluded.reviews,"
                    " start_ns = excluded.start_ns, facts = excluded.facts",
                    [(sid, reviews, start, json.dumps(facts)) for sid, reviews, start, facts in rows],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def facts_since(self, start_ns: int | None = None) -> list[dict[str, Any]]:
        """The stored trend facts of sessions that started at ``start_ns`` or later (all: ``None``)."""
        with self._lock:
            if start_ns is None:
                rows = self._db.execute("SELECT facts FROM trend_facts ORDER BY start_ns").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT facts FROM trend_facts WHERE start_ns >= ? ORDER BY start_ns", (start_ns,)
                ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def latest_fact_start(self) -> int | None:
        with self._lock:
            (value,) = self._db.execute("SELECT MAX(start_ns) FROM trend_facts").fetchone()
        return None if value is None else int(value)

    # -- retention ---------------------------------------------------------------------------------
    def compact(self, *, before: float, batch: int = 1000) -> Compaction:
        """Forget sessions reviewed before ``before`` (epoch seconds): their spans, trace rows and keys.

        A session with findings keeps its ``sessions`` row and its findings (triage, the dashboard and
        ``agentguard triage export`` read them); one without findings is dropped whole. Delivered
        alerts leave the outbox. The work is done ``batch`` sessions per transaction, so ingest waits
        for one short transaction at a time. SQLite reuses the freed pages: the file stops growing
        once what arrives per retention window is steady.
        """
        done = Compaction()
        while True:
            with self._lock:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    rows = db.execute(
                        "SELECT session_id, traces FROM sessions WHERE reviewed_at < ? AND traces != '[]'"
                        " LIMIT ?",
                        (before, batch),
                    ).fetchall()
                    if not rows:
                        db.execute("DELETE FROM outbox WHERE delivered = 1")
                        db.execute("COMMIT")
                        return done
                    sessions = [str(r[0]) for r in rows]
                    traces = sorted({str(t) for r in rows for t in json.loads(r[1])})
                    flagged: set[str] = set()
                    for chunk in _chunks(sessions):
                        marks = ",".join("?" * len(chunk))
                        flagged.update(
                            r[0]
                            for r in db.execute(
                                f"SELECT DISTINCT session_id FROM findings WHERE session_id IN ({marks})",
                                chunk,
                            )
                        )
                    for chunk in _chunks(traces):
                        marks = ",".join("?" * len(chunk))
                        done.spans += db.execute(
                            f"SELECT COALESCE(SUM(spans), 0) FROM traces WHERE trace_id IN ({marks})", chunk
                        ).fetchone()[0]
                        for table in ("batches", "trace_keys", "traces"):
                            db.execute(f"DELETE FROM {table} WHERE trace_id IN ({marks})", chunk)
                    kept = [s for s in sessions if s in flagged]
                    dropped = [s for s in sessions if s not in flagged]
                    for chunk in _chunks(dropped):
                        marks = ",".join("?" * len(chunk))
                        db.execute(f"DELETE FROM sessions WHERE session_id IN ({marks})", chunk)
                    for chunk in _chunks(kept):
                        marks = ",".join("?" * len(chunk))
                        db.execute(f"UPDATE sessions SET traces = '[]' WHERE session_id IN ({marks})", chunk)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            done.sessions += len(sessions)
            done.kept += len(kept)
            done.traces += len(traces)

    # -- alerts ------------------------------------------------------------------------------------
    def pending_alerts(self, *, now: float, limit: int = 64) -> list[tuple[int, dict[str, Any], int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, payload, attempts FROM outbox WHERE delivered = 0 AND failed = 0"
                " AND next_try <= ? ORDER BY id LIMIT ?",
                (now, limit),
            ).fetchall()
        return [(int(i), json.loads(p), int(a)) for i, p, a in rows]

    def alert_done(self, alert_id: int) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET delivered = 1 WHERE id = ?", (alert_id,))

    def alert_retry(self, alert_id: int, *, next_try: float, failed: bool) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_try = ?, failed = ? WHERE id = ?",
                (next_try, int(failed), alert_id),
            )

    # -- follow mode -------------------------------------------------------------------------------
    def follow_offset(self, path: str) -> tuple[int, int] | None:
        with self._lock:
            row = self._db.execute("SELECT inode, offset FROM follow WHERE path = ?", (path,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    # -- reading -----------------------------------------------------------------------------------
    def findings(self, session_id: str | None = None) -> list[Finding]:
        return self.query_findings(session_id=session_id)

    def query_findings(
        self, *, session_id: str | None = None, state: str | None = None, finding_id: int | None = None
    ) -> list[Finding]:
        """Stored findings, oldest first, filtered by session, triage state or id."""
        query = (
            "SELECT session_id, reviewer, code, category, severity, confidence, message, evidence,"
            " created, state, id FROM findings"
        )
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("session_id", session_id), ("state", state), ("id", finding_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if where:
            query += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [
            Finding(
                session_id=r[0],
                reviewer=r[1],
                code=r[2],
                category=r[3],
                severity=r[4],
                confidence=float(r[5]),
                message=r[6],
                evidence=json.loads(r[7]),
                created=float(r[8]),
                state=r[9],
                id=int(r[10]),
            )
            for r in rows
        ]

    def set_state(self, finding_id: int, state: str, *, by: str, note: str = "") -> Finding:
        """Triage a finding (one of :data:`TRIAGE_STATES`), keeping the change in its history."""
        if state not in TRIAGE_STATES:
            raise ValueError(f"unknown triage state {state!r}; use one of {', '.join(TRIAGE_STATES)}")
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT state FROM findings WHERE id = ?", (finding_id,)).fetchone()
                if row is None:
                    raise KeyError(finding_id)
                db.execute("UPDATE findings SET state = ? WHERE id = ?", (state, finding_id))
                db.execute(
                    "INSERT INTO triage_log (finding_id, state, previous, by, note, at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (finding_id, state, row[0], by, note, time.time()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.query_findings(finding_id=finding_id)[0]

    def triage_history(self, finding_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT state, previous, by, note, at FROM triage_log WHERE finding_id = ? ORDER BY id",
                (finding_id,),
            ).fetchall()
        return [{"state": r[0], "previous": r[1], "by": r[2], "note": r[3], "at": r[4]} for r in rows]

    def session_traces(self, session_id: str) -> list[str]:
        """The trace ids a reviewed session was made of."""
        with self._lock:
            row = self._db.execute(
                "SELECT traces FROM sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
        return [] if row is None else list(json.loads(row[0]))

    def sessions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id, ended_ns, reviewed_at, latency_s, spans, traces, judged, reviews"
                " FROM sessions ORDER BY reviewed_at"
            ).fetchall()
        return [
            {
                "session_id": r[0],
                "ended_ns": r[1],
                "reviewed_at": r[2],
                "latency_s": r[3],
                "spans": r[4],
                "traces": json.loads(r[5]),
                "judged": json.loads(r[6]),
                "reviews": r[7],
            }
            for r in rows
        ]

    def status(self) -> Status:
        with self._lock:
            db = self._db
            spans, traces, open_, reviewed = db.execute(
                "SELECT COALESCE(SUM(spans), 0), COUNT(*), SUM(state = 'open'), SUM(state != 'open')"
                " FROM traces WHERE trace_id != ?",
                (UNATTRIBUTED,),
            ).fetchone()
            sessions, judged = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(judged != '[]'), 0) FROM sessions"
            ).fetchone()
            (findings,) = db.execute("SELECT COUNT(*) FROM findings").fetchone()
            pending, failed = db.execute(
                "SELECT COALESCE(SUM(delivered = 0 AND failed = 0), 0), COALESCE(SUM(failed), 0) FROM outbox"
            ).fetchone()
        return Status(
            spans=int(spans or 0),
            traces=int(traces or 0),
            open_traces=int(open_ or 0),
            reviewed_traces=int(reviewed or 0),
            sessions=int(sessions or 0),
            judged_sessions=int(judged or 0),
            findings=int(findings or 0),
            alerts_pending=int(pending or 0),
            alerts_failed=int(failed or 0),
        )
