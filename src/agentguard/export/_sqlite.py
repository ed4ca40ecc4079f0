"""The local store's connections: the writer's here; the schema itself, and the read-only
connection, are :mod:`agentguard.traces._store_schema` (one definition for the writer and every reader).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..traces._store_schema import SCHEMA_VERSION, SchemaError, connect_reader, create_schema, has_schema

__all__ = ["SCHEMA_VERSION", "SchemaError", "connect_reader", "connect_writer", "has_schema"]


def connect_writer(path: Path, *, busy_timeout_s: float) -> sqlite3.Connection:
    """Open (creating if needed) the store for writing: WAL, autocommit, usable from any thread."""
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


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
