"""The one seam between the approvals queue and its database: SQLite or PostgreSQL.

:class:`~agentguard.approval.ApprovalStore` writes its queries once, with ``?`` placeholders and SQL
both databases read the same way, and runs them through a :class:`Backend`:

- :meth:`Backend.read` runs one statement and returns its rows;
- :meth:`Backend.write` is one write transaction that holds the queue's write lock from its first
  statement to its commit, so a read-modify-write inside it (answering a request) cannot lose an
  update. SQLite takes the file's write lock (``BEGIN IMMEDIATE``); PostgreSQL takes one transaction
  advisory lock per queue.

Creating and migrating the schema is each backend's own business (their DDL and version records differ).
Rows are read by column name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Final, Protocol

SCHEMA_VERSION: Final = 2
"""The version of the queue's tables; both backends keep the same tables and columns."""


class Row(Protocol):
    """A result row, read by column name (``sqlite3.Row``, or a ``dict`` from psycopg)."""

    def __getitem__(self, key: str, /) -> Any: ...


class Transaction(Protocol):
    """Statements inside one :meth:`Backend.write` transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement (``?`` placeholders); its rows, ``[]`` for statements that return none."""
        ...


class Backend(Protocol):
    """Where an :class:`~agentguard.approval.ApprovalStore` keeps its rows; safe to use from threads."""

    name: str
    """``"sqlite"`` or ``"postgresql"``."""
    location: str
    """Where the queue is, for people: a file path, or a URL with its password masked."""
    memory: bool
    """Everything is in this process and goes when it ends (SQLite's ``:memory:``)."""

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def write(self) -> AbstractContextManager[Transaction]: ...

    def close(self) -> None: ...
