"""Reading the local store: recent runs and their spans, as plain dataclasses.

>>> from agentguard.export import LocalStore
>>> with LocalStore(".agentguard/agentguard.db") as store:  # doctest: +SKIP
...     for run in store.runs(limit=10):
...         print(run.name, run.cost_usd, [s.name for s in store.spans(run_id=run.run_id)])

Runs are :class:`RunRecord` rows; spans are :class:`agentguard.traces.Span` records, the same record
every trace reader gives.

The store is opened read-only, so reading never blocks (or is blocked by) an agent writing to it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from ..traces import SPAN_SELECT, SchemaError, Span, connect_reader, has_schema, span_from_row
from ._sqlite import lost_spans

__all__ = ["DEFAULT_STORE_PATH", "LocalStore", "RunRecord", "SchemaError", "SpanRecord", "default_store_path"]

DEFAULT_STORE_PATH: Final = Path(".agentguard") / "agentguard.db"
STORE_ENV: Final = "AGENTGUARD_STORE"


def default_store_path() -> Path:
    """``$AGENTGUARD_STORE`` if set, else ``.agentguard/agentguard.db`` under the current directory."""
    env = os.environ.get(STORE_ENV, "").strip()
    return Path(env) if env else Path.cwd() / DEFAULT_STORE_PATH


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One guarded run: its root span's identity and the totals recorded when it ended."""

    run_id: str
    trace_id: str
    span_id: str
    conversation_id: str | None
    name: str
    task: str | None
    start_ns: int
    end_ns: int | None
    status: str
    status_message: str | None
    cost_usd: float | None
    input_tokens: int | None
    output_tokens: int | None
    llm_calls: int | None
    tool_calls: int | None
    refusals: int | None

    @property
    def started_at(self) -> datetime:
        """The start time, in local time."""
        return datetime.fromtimestamp(self.start_ns / 1e9).astimezone()

    @property
    def duration_s(self) -> float | None:
        return None if self.end_ns is None else max(0, self.end_ns - self.start_ns) / 1e9

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with ``started_at`` (ISO 8601) and ``duration_s`` added."""
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["started_at"] = self.started_at.isoformat()
        d["duration_s"] = self.duration_s
        return d


SpanRecord = Span
"""The record :meth:`LocalStore.spans` returns: :class:`agentguard.traces.Span` (the one span record)."""

_RUN_COLUMNS: Final = ", ".join(RunRecord.__dataclass_fields__)


class LocalStore:
    """A read-only view of the local store at ``path`` (default: :func:`default_store_path`).

    Raises :class:`FileNotFoundError` when there is no store there, and :class:`SchemaError` when it
    was written by a newer agentguard. Usable from several threads.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self._conn = connect_reader(self.path)
        self._lock = threading.Lock()

    def runs(self, limit: int = 50, offset: int = 0) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._query(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY start_ns DESC, run_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [RunRecord(**dict(r)) for r in rows]

    def run(self, run_id: str) -> RunRecord | None:
        """One run by id, or ``None``."""
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,))
        return RunRecord(**dict(rows[0])) if rows else None

    def spans(self, run_id: str | None = None, trace_id: str | None = None) -> list[Span]:
        """Spans of a run and/or a trace (all spans when neither is given), in start order, as
        :class:`agentguard.traces.Span` records."""
        clauses: list[str] = []
        params: list[Any] = []
        if run_id is not None:
            clauses.append("run_id = ?")
            params.append(run_id)
        if trace_id is not None:
            clauses.append("trace_id = ?")
            params.append(trace_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(f"{SPAN_SELECT}{where} ORDER BY start_ns, span_id", params)
        return [span_from_row(tuple(r)) for r in rows]

    def lost_spans(self) -> int:
        """Spans that writers of this store recorded as lost (locked or full store, queue overflow)."""
        return lost_spans(self._conn)

    def count_runs(self) -> int:
        rows = self._query("SELECT count(*) AS n FROM runs", ())
        return int(rows[0]["n"]) if rows else 0

    def _query(self, sql: str, params: Any) -> list[sqlite3.Row]:
        with self._lock:
            if not has_schema(self._conn):
                return []
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
