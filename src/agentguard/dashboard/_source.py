"""Where the dashboard's data comes from: the local store, or an OTLP JSON file loaded into the same schema.

Both sources hand the queries one SQLite connection with the local store's ``spans`` and ``runs``
tables, so every panel is one SQL query whatever the source:

- :class:`StoreSource` opens the local store read-only (WAL: an agent keeps writing while we read).
  A store that does not exist yet is not an error: the dashboard shows its empty state and picks the
  store up once an agent creates it.
- :class:`OtlpSource` streams an OTLP JSON lines file (the Collector's ``file`` exporter output) into
  a temporary SQLite file, and reads what was appended on each :meth:`~OtlpSource.refresh`. Spans are
  grouped into runs by ``agentguard.run.id`` (inherited from the nearest ancestor), else by their
  session (:func:`agentguard.traces.assemble`: the conversation id on any span of the trace, traces
  joined by trace context), so traces from other instrumentations show too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from ..export._sqlite import connect_reader, connect_writer, has_schema
from ..telemetry import semconv as sc
from ..traces import INSERT_RUN, INSERT_SPAN, SPAN_SELECT, Span, assemble, span_from_row, span_row
from ._otlp import OtlpFileReader

APPROVALS_ENV: Final = "AGENTGUARD_APPROVALS_DB"
Params = Sequence[Any] | Mapping[str, Any]
"""Query parameters: positional (``?``) or named (``:name``)."""
_BATCH: Final = 2000


class Source(Protocol):
    """What the queries need: a lock-guarded SQLite connection (or none yet) and a change marker."""

    description: str
    approvals_path: Path | None

    def query(self, sql: str, params: Params = ()) -> list[Any]: ...

    def version(self) -> object: ...

    def refresh(self) -> None: ...

    def available(self) -> bool: ...

    def close(self) -> None: ...


def _approvals_near(store: Path) -> Path | None:
    env = os.environ.get(APPROVALS_ENV, "").strip()
    candidate = Path(env) if env else store.parent / "approvals.db"
    return candidate if candidate.is_file() else None


class StoreSource:
    """The local store at ``path``, opened read-only when it exists."""

    def __init__(self, path: str | os.PathLike[str], *, approvals: Path | None = None) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        self._explicit_approvals = approvals
        self.approvals_path = approvals
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            if self._conn is None and self.path.is_file():
                self._conn = connect_reader(self.path)
            if self._explicit_approvals is None:
                self.approvals_path = _approvals_near(self.path)

    def available(self) -> bool:
        with self._lock:
            return self._conn is not None and has_schema(self._conn)

    def version(self) -> object:
        with self._lock:
            if self._conn is None:
                return None
            # data_version changes whenever another connection commits to the database.
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def query(self, sql: str, params: Params = ()) -> list[Any]:
        with self._lock:
            if self._conn is None or not has_schema(self._conn):
                return []
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class OtlpSource:
    """An OTLP JSON lines file, loaded incrementally into a temporary copy of the store's schema."""

    def __init__(self, path: str | os.PathLike[str], *, approvals: Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no OTLP file at {self.path}")
        self.description = str(self.path)
        self.approvals_path = approvals
        self.reader = OtlpFileReader(self.path)
        self.malformed = self.reader.malformed
        self._tmp = tempfile.TemporaryDirectory(prefix="agentguard-otlp-")
        self._conn = connect_writer(Path(self._tmp.name) / "otlp.db", busy_timeout_s=5.0)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self.refresh()

    def available(self) -> bool:
        return True

    def version(self) -> object:
        return self.reader.offset

    def refresh(self) -> None:
        with self._lock:
            if not self.reader.changed():
                return
            batch: list[Span] = []
            new_traces: set[str] = set()
            for span in self.reader.read_new():
                batch.append(span)
                if len(batch) >= _BATCH:
                    new_traces.update(self._load(batch))
                    batch = []
            if batch:
                new_traces.update(self._load(batch))
            if new_traces:
                self._attribute(new_traces)

    def query(self, sql: str, params: Params = ()) -> list[Any]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._tmp.cleanup()

    # -- loading ------------------------------------------------------------------------------------
    def _load(self, spans: list[Span]) -> set[str]:
        """Store a batch of spans; returns their trace ids."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(INSERT_SPAN, [span_row(s) for s in spans])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return {s.trace_id for s in spans}

    def _attribute(self, new_traces: set[str]) -> None:
        """Runs for the sessions the new spans belong to (once per refresh, after every batch)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for run_id in _attribute(conn, new_traces):
                _upsert_run(conn, run_id)
            conn.execute(
                "DELETE FROM runs WHERE run_id NOT IN (SELECT run_id FROM spans WHERE run_id IS NOT NULL)"
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _attribute(conn: sqlite3.Connection, new_traces: set[str]) -> set[str]:
    """Give every span of the sessions that ``new_traces`` belong to a run id; returns those run ids.

    Sessions are :func:`agentguard.traces.assemble`'s; within one, a span's run is its own
    ``agentguard.run.id``, else its nearest ancestor's, else the session's id."""
    spans = [span_from_row(tuple(r)) for r in conn.execute(SPAN_SELECT)]
    runs: set[str] = set()
    updates: list[tuple[str, str, str]] = []
    for session in assemble(spans):
        if new_traces.isdisjoint(session.traces):
            continue
        by_key = {(s.trace_id, s.span_id): s for s in session.spans}
        resolved: dict[tuple[str, str], str] = {}
        for span in session.spans:
            chain: list[tuple[str, str]] = []
            current: Span | None = span
            found = session.id
            while current is not None and len(chain) < 1000:
                key = (current.trace_id, current.span_id)
                if key in resolved:
                    found = resolved[key]
                    break
                chain.append(key)
                own = current.attributes.get(sc.RUN_ID)
                if own is not None and own != "":
                    found = str(own)
                    break
                current = by_key.get((current.trace_id, current.parent_id)) if current.parent_id else None
            for key in chain:
                resolved[key] = found
            runs.add(found)
            updates.append((found, span.trace_id, span.span_id))
    conn.executemany("UPDATE spans SET run_id = ? WHERE trace_id = ? AND span_id = ?", updates)
    return runs


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _upsert_run(conn: sqlite3.Connection, run_id: str) -> None:
    rows = conn.execute(
        "SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status_code, status_message,"
        " operation, attributes FROM spans WHERE run_id = ? ORDER BY start_ns",
        (run_id,),
    ).fetchall()
    if not rows:
        return
    spans = [(r, json.loads(r["attributes"])) for r in rows]
    root = next(
        ((r, a) for r, a in spans if r["operation"] == sc.OP_INVOKE_AGENT and a.get(sc.RUN_ID) == run_id),
        None,
    ) or next(((r, a) for r, a in spans if not r["parent_span_id"]), spans[0])
    r, a = root
    chats = [a2 for r2, a2 in spans if r2["operation"] == sc.OP_CHAT]
    tools = sum(1 for r2, _ in spans if r2["operation"] == sc.OP_EXECUTE_TOOL)
    cost = a.get(sc.RUN_COST_USD)
    chat_costs = [c.get(sc.COST_USD) for c in chats if isinstance(c.get(sc.COST_USD), int | float)]
    end = max((x["end_ns"] or x["start_ns"]) for x, _ in spans)
    error = r["status_code"] == "ERROR"
    name = a.get(sc.GEN_AI_AGENT_NAME) or str(r["name"]).removeprefix(f"{sc.OP_INVOKE_AGENT} ")
    conn.execute(
        INSERT_RUN,
        (
            run_id,
            r["trace_id"],
            r["span_id"],
            str(a.get(sc.GEN_AI_CONVERSATION_ID) or run_id),
            str(name),
            str(a[sc.TASK]) if a.get(sc.TASK) is not None else None,
            min(x["start_ns"] for x, _ in spans),
            end,
            "error" if error else "ok",
            r["status_message"],
            float(cost) if isinstance(cost, int | float) else (sum(chat_costs) if chat_costs else None),
            _total(a.get(sc.RUN_INPUT_TOKENS), chats, sc.GEN_AI_USAGE_INPUT_TOKENS),
            _total(a.get(sc.RUN_OUTPUT_TOKENS), chats, sc.GEN_AI_USAGE_OUTPUT_TOKENS),
            _total(a.get(sc.RUN_LLM_CALLS), None, None) or len(chats),
            _total(a.get(sc.RUN_TOOL_CALLS), None, None) or tools,
            _total(a.get(sc.RUN_REFUSALS), None, None) or sum(1 for c in chats if c.get(sc.REFUSAL) is True),
        ),
    )


def _total(value: Any, chats: Iterable[dict[str, Any]] | None, key: str | None) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if chats is None or key is None:
        return 0
    return int(sum(_num(c.get(key)) for c in chats))
