"""The local store's schema (SQLite): the one definition its writer, its readers and the dashboard share.

One file, WAL mode (readers never block the writer), schema versioned with ``PRAGMA user_version``.
``spans`` holds every exported span; ``runs`` holds one row per guarded run, upserted when the run's
``invoke_agent`` span is stored. JSON columns are plain ``json.dumps`` text: ``attributes`` and
``resource`` objects, ``events`` a list of ``{"name", "timestamp_ns", "attributes"}``. Kinds and status
codes are stored by name (``INTERNAL``, ``ERROR``...).

:func:`span_row` and :func:`span_from_row` convert between a ``spans`` row and a
:class:`~agentguard.traces.Span` record.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..telemetry import semconv as sc
from ._record import KIND_NAMES, STATUS_NAMES, Span, SpanEvent, make_span

SCHEMA_VERSION: Final = 1

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS spans (
    trace_id       TEXT NOT NULL,
    span_id        TEXT NOT NULL,
    parent_span_id TEXT,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    start_ns       INTEGER NOT NULL,
    end_ns         INTEGER,
    status_code    TEXT NOT NULL,
    status_message TEXT,
    run_id         TEXT,
    operation      TEXT,
    attributes     TEXT NOT NULL,
    events         TEXT NOT NULL,
    resource       TEXT NOT NULL,
    scope          TEXT,
    scope_version  TEXT,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS spans_run_id ON spans (run_id);
CREATE INDEX IF NOT EXISTS spans_trace_parent ON spans (trace_id, parent_span_id);
CREATE INDEX IF NOT EXISTS spans_start_ns ON spans (start_ns);

CREATE TABLE IF NOT EXISTS runs (
    run_id          TEXT PRIMARY KEY,
    trace_id        TEXT NOT NULL,
    span_id         TEXT NOT NULL,
    conversation_id TEXT,
    name            TEXT NOT NULL,
    task            TEXT,
    start_ns        INTEGER NOT NULL,
    end_ns          INTEGER,
    status          TEXT NOT NULL,
    status_message  TEXT,
    cost_usd        REAL,
    input_tokens    INTEGER,
    output_tokens   INTEGER,
    llm_calls       INTEGER,
    tool_calls      INTEGER,
    refusals        INTEGER
);
CREATE INDEX IF NOT EXISTS runs_start_ns ON runs (start_ns);
CREATE INDEX IF NOT EXISTS runs_trace_id ON runs (trace_id);
"""

SPAN_COLUMNS: Final = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_ns", "end_ns", "status_code",
    "status_message", "run_id", "operation", "attributes", "events", "resource", "scope", "scope_version",
)  # fmt: skip
RUN_COLUMNS: Final = (
    "run_id", "trace_id", "span_id", "conversation_id", "name", "task", "start_ns", "end_ns", "status",
    "status_message", "cost_usd", "input_tokens", "output_tokens", "llm_calls", "tool_calls", "refusals",
)  # fmt: skip
INSERT_SPAN: Final = (
    f"INSERT OR REPLACE INTO spans ({', '.join(SPAN_COLUMNS)}) VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
)
INSERT_RUN: Final = (
    f"INSERT OR REPLACE INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})"
)
_STATUS_CODES: Final = {name: i for i, name in enumerate(STATUS_NAMES)}
_KIND_CODES: Final = {name: i for i, name in enumerate(KIND_NAMES)}


class SchemaError(Exception):
    """The store was written by a newer agentguard (its schema version is unknown here)."""


def create_schema(conn: sqlite3.Connection) -> None:
    """Run the schema's statements on ``conn`` (inside the caller's transaction) and set its version."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def connect_reader(path: Path, *, busy_timeout_s: float = 5.0) -> sqlite3.Connection:
    """Open an existing store read-only; works while a writer is active (WAL).

    Raises :class:`FileNotFoundError` when there is no store at ``path`` and :class:`SchemaError` when
    it was written by a newer agentguard.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no agentguard store at {path}")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"store {path} has schema version {version}, newer than this agentguard supports; "
                "upgrade agentguard"
            )
    except BaseException:
        conn.close()
        raise
    return conn


def has_schema(conn: sqlite3.Connection) -> bool:
    """Whether the schema exists (a store created but never written to has none)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0]) >= 1


_encode = json.JSONEncoder(default=str, separators=(",", ":")).encode


def span_row(span: Span, run_id: str | None = None) -> tuple[Any, ...]:
    """The ``spans`` row of a record (``INSERT_SPAN``'s parameters); ``run_id`` is the run it belongs to
    (default: its own ``agentguard.run.id``)."""
    attrs = span.attributes
    own = attrs.get(sc.RUN_ID) if run_id is None else run_id
    operation = attrs.get(sc.GEN_AI_OPERATION_NAME)
    return (
        span.trace_id,
        span.span_id,
        span.parent_id or None,
        span.name,
        span.kind_name,
        span.start,
        span.end or None,
        span.status_name,
        span.status_message or None,
        str(own) if own is not None else None,
        str(operation) if operation is not None else None,
        _encode(attrs),
        _encode([{"name": e.name, "timestamp_ns": e.time, "attributes": e.attributes} for e in span.events]),
        _encode(span.resource),
        span.scope or None,
        span.scope_version or None,
    )


SPAN_SELECT: Final = (
    "SELECT trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_message,"
    " attributes, events, resource, scope, scope_version FROM spans"
)
"""The columns :func:`span_from_row` reads, in its order."""


def span_from_row(row: Sequence[Any]) -> Span:
    """A record from a row of :data:`SPAN_SELECT`; raises ``ValueError``/``TypeError`` on a bad row."""
    events = [
        SpanEvent(str(e.get("name") or ""), int(e.get("timestamp_ns") or 0), dict(e.get("attributes") or {}))
        for e in json.loads(row[10] or "[]")
    ]
    attributes = json.loads(row[9] or "{}")
    resource = json.loads(row[11] or "{}")
    if not isinstance(attributes, dict) or not isinstance(resource, dict):
        raise TypeError("attributes and resource must be JSON objects")
    return make_span(
        str(row[0]), str(row[1]), str(row[2] or ""), str(row[3] or ""), _KIND_CODES.get(str(row[4]), 1),
        int(row[5] or 0), int(row[6] or 0), _STATUS_CODES.get(str(row[7]), 0), str(row[8] or ""),
        attributes, events, [], resource, str(row[12] or ""), str(row[13] or ""),
    )  # fmt: skip
