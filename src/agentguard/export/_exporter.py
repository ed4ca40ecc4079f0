"""``LocalStoreSpanExporter``: an OpenTelemetry SDK span exporter into the local SQLite store.

::

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from agentguard.export import LocalStoreSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(LocalStoreSpanExporter(".agentguard/agentguard.db")))

Each batch is one transaction. A span's ``run_id`` is its own ``agentguard.run.id``, else the run of
its nearest ancestor (children usually end, and so arrive, before their run's root span; the root's
arrival attributes them), else its ``gen_ai.conversation.id``. An ``invoke_agent`` span carrying
``agentguard.run.id`` upserts its row in ``runs``.

Faults never reach the agent: a locked or full database, or an unwritable path, makes ``export()``
return ``FAILURE``, logs one warning (through :func:`agentguard._safe.report`) and adds the batch to
:attr:`LocalStoreSpanExporter.dropped`. Spans lost before they reached the exporter (a batching
processor's queue overflowed) are reported to it with :meth:`LocalStoreSpanExporter.note_lost`. The
total is written to the store's ``export_losses`` table with the next batch that can be written (and
on shutdown), so ``agentguard runs`` and the dashboard can warn that the store is incomplete.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext, StatusCode

from .. import _safe
from ..telemetry import semconv as sc
from ._sqlite import connect_writer, record_losses

_INSERT_SPAN = """
INSERT OR REPLACE INTO spans (
    trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message,
    run_id, operation, attributes, events, resource, scope, scope_version
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_UPSERT_RUN = """
INSERT INTO runs (
    run_id, trace_id, span_id, conversation_id, name, task, start_ns, end_ns, status, status_message,
    cost_usd, input_tokens, output_tokens, llm_calls, tool_calls, refusals
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET
    trace_id = excluded.trace_id, span_id = excluded.span_id,
    conversation_id = excluded.conversation_id, name = excluded.name, task = excluded.task,
    start_ns = excluded.start_ns, end_ns = excluded.end_ns, status = excluded.status,
    status_message = excluded.status_message, cost_usd = excluded.cost_usd,
    input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
    llm_calls = excluded.llm_calls, tool_calls = excluded.tool_calls, refusals = excluded.refusals
"""

# Spans stored earlier under the run's root but without a run id (they ended before the root):
# attribute them, without descending into nested runs (their roots are rows of ``runs``).
_ADOPT_DESCENDANTS = """
WITH RECURSIVE sub (span_id) AS (
    SELECT :root
    UNION
    SELECT s.span_id FROM spans AS s JOIN sub ON s.parent_span_id = sub.span_id
    WHERE s.trace_id = :trace AND s.span_id NOT IN (SELECT span_id FROM runs WHERE trace_id = :trace)
)
UPDATE spans SET run_id = :run
WHERE trace_id = :trace AND span_id IN sub AND span_id != :root AND run_id IS NOT :run
"""

_WHERE = "export.local_store"


_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def _json(value: Any) -> str:
    return _encode(value)


def _attrs(attributes: Any) -> dict[str, Any]:
    return dict(attributes) if attributes else {}


class _Row:
    """One span flattened for the ``spans`` table, plus what run attribution needs."""

    __slots__ = ("attributes", "own_run_id", "parent_id", "run_id", "span", "span_id", "trace_id")

    def __init__(self, span: ReadableSpan, ctx: SpanContext) -> None:
        self.span = span
        self.trace_id = format(ctx.trace_id, "032x")
        self.span_id = format(ctx.span_id, "016x")
        self.parent_id = format(span.parent.span_id, "016x") if span.parent is not None else None
        self.attributes = _attrs(span.attributes)
        own = self.attributes.get(sc.RUN_ID)
        self.own_run_id = str(own) if own is not None else None
        self.run_id: str | None = self.own_run_id

    def values(self, resources: dict[int, tuple[Resource, str]]) -> tuple[Any, ...]:
        span = self.span
        scope = span.instrumentation_scope
        events = [
            {"name": e.name, "timestamp_ns": e.timestamp, "attributes": _attrs(e.attributes)}
            for e in span.events
        ]
        operation = self.attributes.get(sc.GEN_AI_OPERATION_NAME)
        return (
            self.trace_id,
            self.span_id,
            self.parent_id,
            span.name,
            span.kind.name,
            span.start_time or 0,
            span.end_time,
            span.status.status_code.name,
            span.status.description,
            self.run_id,
            str(operation) if operation is not None else None,
            _json(self.attributes),
            _json(events),
            _resource_json(span.resource, resources),
            scope.name if scope is not None else None,
            scope.version if scope is not None else None,
        )

    def run_values(self) -> tuple[Any, ...] | None:
        """The ``runs`` row when this is a guarded run's root span, else ``None``."""
        a = self.attributes
        if self.own_run_id is None or a.get(sc.GEN_AI_OPERATION_NAME) != sc.OP_INVOKE_AGENT:
            return None
        span = self.span
        name = a.get(sc.GEN_AI_AGENT_NAME) or span.name.removeprefix(f"{sc.OP_INVOKE_AGENT} ")
        cost = a.get(sc.RUN_COST_USD)
        conversation = a.get(sc.GEN_AI_CONVERSATION_ID)
        task = a.get(sc.TASK)
        return (
            self.own_run_id,
            self.trace_id,
            self.span_id,
            str(conversation) if conversation is not None else None,
            str(name),
            str(task) if task is not None else None,
            span.start_time or 0,
            span.end_time,
            "error" if span.status.status_code is StatusCode.ERROR else "ok",
            span.status.description,
            float(cost) if isinstance(cost, int | float) else None,
            _int(a.get(sc.RUN_INPUT_TOKENS)),
            _int(a.get(sc.RUN_OUTPUT_TOKENS)),
            _int(a.get(sc.RUN_LLM_CALLS)),
            _int(a.get(sc.RUN_TOOL_CALLS)),
            _int(a.get(sc.RUN_REFUSALS)),
        )


def _resource_json(resource: Resource, cache: dict[int, tuple[Resource, str]]) -> str:
    # Every span of a provider shares one Resource object: encode it once per batch.
    cached = cache.get(id(resource))
    if cached is None or cached[0] is not resource:
        cached = cache[id(resource)] = (resource, _json(_attrs(resource.attributes)))
    return cached[1]


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _attribute_runs(rows: list[_Row], conn: sqlite3.Connection) -> None:
    """Give every row without its own run id the run of its nearest ancestor (in the batch or stored)."""
    in_batch = {(r.trace_id, r.span_id): r for r in rows}
    resolved: dict[tuple[str, str], str | None] = {}
    for row in rows:
        if row.run_id is not None:
            continue
        chain: list[tuple[str, str]] = []
        key: tuple[str, str] | None = (row.trace_id, row.parent_id) if row.parent_id else None
        run_id: str | None = None
        while key is not None:
            if key in resolved:
                run_id = resolved[key]
                break
            chain.append(key)
            parent = in_batch.get(key)
            if parent is None:
                found = conn.execute(
                    "SELECT run_id FROM spans WHERE trace_id = ? AND span_id = ?", key
                ).fetchone()
                run_id = found[0] if found is not None else None
                break
            if parent.own_run_id is not None:
                run_id = parent.own_run_id
                break
            key = (parent.trace_id, parent.parent_id) if parent.parent_id else None
            if len(chain) > 1000:  # a malformed cycle; give up on this span
                break
        for k in chain:
            resolved[k] = run_id
        if run_id is None:
            conversation = row.attributes.get(sc.GEN_AI_CONVERSATION_ID)
            run_id = str(conversation) if conversation is not None else None
        row.run_id = run_id


class LocalStoreSpanExporter(SpanExporter):
    """Write finished spans into the local SQLite store at ``path`` (created on first export).

    Thread-safe; one connection, one transaction per batch. ``busy_timeout_s`` bounds how long a
    batch waits for a lock held by another writer before it is dropped.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 5.0) -> None:
        self._path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._dropped = 0
        self._lost_elsewhere = 0
        self._count_lock = threading.Lock()
        self._lost_recorded = 0
        self._writer = uuid.uuid4().hex
        self._started_ns = time.time_ns()
        self._shutdown = False

    @property
    def path(self) -> Path:
        """Where the store is written."""
        return self._path

    @property
    def dropped(self) -> int:
        """Spans that could not be written (the store was locked, full or unwritable)."""
        return self._dropped

    @property
    def lost(self) -> int:
        """:attr:`dropped` plus the spans reported through :meth:`note_lost`."""
        return self._dropped + self._lost_elsewhere

    def note_lost(self, count: int) -> None:
        """Count ``count`` spans meant for this store that were lost before they reached it."""
        with self._count_lock:
            self._lost_elsewhere += count

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        with self._lock:
            if self._shutdown:
                self._dropped += len(spans)
                return SpanExportResult.FAILURE
            try:
                conn = self._connection()
                self._write(conn, spans)
            except Exception as exc:
                self._dropped += len(spans)
                _safe.report(_WHERE, exc)
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            parent = self._path.parent
            if not parent.exists():
                parent.mkdir(parents=True, exist_ok=True)
                if parent.name == ".agentguard":
                    # Our own directory: keep the store out of version control.
                    (parent / ".gitignore").write_text("*\n", encoding="utf-8")
            self._conn = connect_writer(self._path, busy_timeout_s=self._busy_timeout_s)
        return self._conn

    def _write(self, conn: sqlite3.Connection, spans: Sequence[ReadableSpan]) -> None:
        rows = [_Row(s, ctx) for s in spans if (ctx := s.get_span_context()) is not None]
        try:
            conn.execute("BEGIN IMMEDIATE")
            _attribute_runs(rows, conn)
            resources: dict[int, tuple[Resource, str]] = {}
            conn.executemany(_INSERT_SPAN, [r.values(resources) for r in rows])
            for row in rows:
                run = row.run_values()
                if run is not None:
                    conn.execute(_UPSERT_RUN, run)
                    conn.execute(
                        _ADOPT_DESCENDANTS,
                        {"trace": row.trace_id, "root": row.span_id, "run": row.own_run_id},
                    )
            lost = self.lost
            if lost != self._lost_recorded:
                record_losses(
                    conn, writer=self._writer, pid=os.getpid(), started_ns=self._started_ns, lost=lost
                )
            conn.execute("COMMIT")
            self._lost_recorded = lost
        except BaseException:
            self._rollback(conn)
            raise

    def _rollback(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except Exception:
            # The connection is unusable; open a fresh one on the next batch.
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:
                _safe.report(_WHERE + ".close", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered here: every batch is committed before ``export`` returns."""
        return True

    def shutdown(self) -> None:
        with self._lock:
            self._shutdown = True
            if self.lost != self._lost_recorded:
                try:  # one short try: the store may be the reason spans were lost
                    conn = self._connection()
                    conn.execute("PRAGMA busy_timeout = 200")
                    lost = self.lost
                    record_losses(
                        conn, writer=self._writer, pid=os.getpid(), started_ns=self._started_ns, lost=lost
                    )
                    self._lost_recorded = lost
                except Exception as exc:
                    _safe.report(_WHERE + ".losses", exc)
            self._close()
