"""The local store's connections: the writer's here; the schema itself, and the read-only
connection, are :mod:`agentguard.traces._store_schema` (one definition for the writer and every reader).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Final

from ..traces import SCHEMA_VERSION, SchemaError, connect_reader, create_schema, has_schema

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


__all__ = [
    "SCHEMA_VERSION",
    "SchemaError",
    "connect_reader",
    "connect_writer",
    "has_schema",
    "lost_spans",
    "record_losses",
]


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
            create_schema(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
