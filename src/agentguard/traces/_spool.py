"""Where session assembly keeps the spans it has read: in memory, then on disk once there are many.

The first ``memory_spans`` spans stay in a dict by trace; past that, every span moves to a temporary
SQLite file (stdlib, no server) as one ``marshal`` blob per span, indexed by trace and span id once
reading is done. Either way the spool answers the same three questions: the spans of some traces, the
traces whose spans name a parent in another trace, and which traces hold a span id.
"""

from __future__ import annotations

import marshal
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from ._record import Span, span_from_tuple, span_tuple

Row = tuple[int, str, str, int, Span]
"""``(start, span id, trace id, source number, span)``: sorting rows by their first four fields
puts a session's spans in start order, and the same span read twice side by side."""

DEFAULT_MEMORY_SPANS: Final = 20_000
_BATCH: Final = 4096
_CHUNK: Final = 500  # trace ids per IN (...) query, well under SQLite's variable limit


class Spool:
    """Spans by trace, in memory up to ``memory_spans``, then in a temporary SQLite file under
    ``directory`` (default: the system's temporary directory). Close it to remove the file."""

    def __init__(
        self, *, memory_spans: int = DEFAULT_MEMORY_SPANS, directory: str | os.PathLike[str] | None = None
    ) -> None:
        self.memory_spans = memory_spans
        self.directory = directory
        self.count = 0
        self._mem: dict[str, list[Row]] = {}
        self._db: sqlite3.Connection | None = None
        self._dir: str | None = None
        self._pending: list[tuple[str, str, str, int, bytes]] = []
        self._indexed = False

    @property
    def on_disk(self) -> bool:
        return self._db is not None

    def add(self, span: Span, source: int) -> None:
        self.count += 1
        if self._db is None:
            row = (span.start, span.span_id, span.trace_id, source, span)
            bucket = self._mem.get(span.trace_id)
            if bucket is None:
                self._mem[span.trace_id] = [row]
            else:
                bucket.append(row)
            if self.count > self.memory_spans:
                self._spill()
            return
        self._pending.append(
            (span.trace_id, span.span_id, span.parent_id, source, marshal.dumps(span_tuple(span)))
        )
        if len(self._pending) >= _BATCH:
            self._flush()

    def _spill(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="agentguard-spool-", dir=self.directory)
        # one reader at a time, but not always the thread that spilled: scan(workers=N) hands the
        # sessions to its process pool from the pool's feeder thread
        db = sqlite3.connect(Path(self._dir) / "spool.db", isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA temp_store = FILE")
        db.execute("PRAGMA cache_size = -16384")
        db.execute("CREATE TABLE spool (trace TEXT, span TEXT, parent TEXT, src INTEGER, data BLOB)")
        self._db = db
        for bucket in self._mem.values():
            for _, _, _, source, span in bucket:
                self._pending.append(
                    (span.trace_id, span.span_id, span.parent_id, source, marshal.dumps(span_tuple(span)))
                )
                if len(self._pending) >= _BATCH:
                    self._flush()
        self._mem.clear()
        self._flush()

    def _flush(self) -> None:
        if self._db is not None and self._pending:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO spool VALUES (?, ?, ?, ?, ?)", self._pending)
            self._db.execute("COMMIT")
            self._pending.clear()

    def _index(self) -> sqlite3.Connection:
        assert self._db is not None
        if not self._indexed:
            self._flush()
            self._db.execute("CREATE INDEX spool_trace ON spool (trace, span)")
            self._db.execute("CREATE INDEX spool_span ON spool (span)")
            self._indexed = True
        return self._db

    def cross_trace_parents(self) -> Iterator[tuple[str, str]]:
        """``(trace, other trace)`` for each span whose parent is not in its own trace but is a span
        of another one."""
        if self._db is None:
            where: dict[str, str] = {}
            for trace_id, bucket in self._mem.items():
                for row in bucket:
                    where.setdefault(row[1], trace_id)
            for trace_id, bucket in self._mem.items():
                own = {row[1] for row in bucket}
                for *_, span in bucket:
                    if span.parent_id and span.parent_id not in own:
                        other = where.get(span.parent_id)
                        if other is not None and other != trace_id:
                            yield trace_id, other
            return
        db = self._index()
        yield from db.execute(
            "SELECT DISTINCT a.trace, b.trace FROM spool a JOIN spool b ON b.span = a.parent"
            " WHERE a.parent != '' AND b.trace != a.trace AND NOT EXISTS"
            " (SELECT 1 FROM spool c WHERE c.trace = a.trace AND c.span = a.parent)"
        )

    def traces_holding(self, span_ids: Iterable[str]) -> dict[str, str]:
        """For each of ``span_ids`` found, a trace holding that span."""
        wanted = set(span_ids)
        if not wanted:
            return {}
        if self._db is None:
            found: dict[str, str] = {}
            for trace_id, bucket in self._mem.items():
                for row in bucket:
                    if row[1] in wanted:
                        found.setdefault(row[1], trace_id)
            return found
        db = self._index()
        ids = sorted(wanted)
        out: dict[str, str] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for span_id, trace_id in db.execute(
                f"SELECT span, trace FROM spool WHERE span IN ({marks})", chunk
            ):
                out.setdefault(span_id, trace_id)
        return out

    def traces(self) -> list[str]:
        if self._db is None:
            return list(self._mem)
        db = self._index()
        return [row[0] for row in db.execute("SELECT DISTINCT trace FROM spool")]

    def fetch(self, trace_ids: Iterable[str]) -> list[Row]:
        """The rows of ``trace_ids`` (in no particular order)."""
        if self._db is None:
            out: list[Row] = []
            for t in trace_ids:
                out.extend(self._mem.get(t, ()))
            return out
        db = self._index()
        ids = list(trace_ids)
        rows: list[Row] = []
        loads = marshal.loads
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for src, data in db.execute(f"SELECT src, data FROM spool WHERE trace IN ({marks})", chunk):
                span = span_from_tuple(loads(data))
                rows.append((span.start, span.span_id, span.trace_id, src, span))
        return rows

    def close(self) -> None:
        self._mem.clear()
        self._pending.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
