"""The local store's SQLite schema and connections, shared by the writer and the reader.

One file, WAL mode (readers never block the writer), schema versioned with ``PRAGMA user_version``.
``spans`` holds every exported span; ``runs`` holds one row per guarded run, upserted when the run's
``invoke_agent`` span is exported. JSON columns are plain ``json.dumps`` text.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Final

SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
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


# Spans a writer could not store (the store was locked or full, or a queue overflowed), one row per
# exporter instance, kept up to date whenever the store can be written. Created by writers on connect,
# outside the versioned schema, so stores written before it stay readable by every version.
_LOSSES: Final = """
CREATE TABLE IF NOT EXISTS export_losses (
    writer     TEXT PRIMARY KEY,
    pid        INTEGER NOT NULL,
    started_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    lost       INTEGER NOT NULL
)
"""


class SchemaError(Exception):
    """The store was written by a newer agentguard (its schema version is unknown here)."""


def connect_writer(path: Path, *, busy_timeout_s: float) -> sqlite3.Connection:
    """Open (creating if needed) the store for writing: WAL, autocommit, usable from any thread."""
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn)
        conn.execute(_LOSSES)
    except BaseException:
        conn.close()
        raise
    return conn


def record_losses(conn: sqlite3.Connection, *, writer: str, pid: int, started_ns: int, lost: int) -> None:
    """Store how many spans the exporter ``writer`` has lost so far (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO export_losses (writer, pid, started_ns, updated_ns, lost) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (writer) DO UPDATE SET updated_ns = excluded.updated_ns, lost = excluded.lost",
        (writer, pid, started_ns, time.time_ns(), lost),
    )


def lost_spans(conn: sqlite3.Connection, *, since_ns: int = 0) -> int:
    """Spans that writers recorded as lost (by writers started at or after ``since_ns``); 0 if none."""
    try:
        row = conn.execute(
            "SELECT COALESCE(SUM(lost), 0) FROM export_losses WHERE started_ns >= ?", (since_ns,)
        ).fetchone()
    except sqlite3.OperationalError:  # written before losses were recorded: no table
        return 0
    return int(row[0])


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise SchemaError(f"store schema version {version} is newer than this agentguard supports")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have created the schema while we waited for the write lock.
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


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
