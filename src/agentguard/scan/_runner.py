"""``scan()``: OTLP JSON files and local stores through the detectors, optionally in parallel."""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..detect import default_detectors
from ..detect._engine import DetectorFactory, DetectorSet
from ._replay import WANTED
from ._sessions import Assembler, SessionResult, split_trace
from ._spans import FormatError, SpanData, decode_line

_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


@dataclass(frozen=True, slots=True)
class ScanIssue:
    """A line (or a whole file) that could not be read; it was skipped."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(slots=True)
class ScanReport:
    sessions: list[SessionResult] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)
    spans: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sessions": [s.to_dict() for s in self.sessions],
            "issues": [i.to_dict() for i in self.issues],
            "spans": self.spans,
        }

    def worst(self) -> int:
        """The highest severity rank of any signal (-1 when there is none)."""
        return max((sig.rank for s in self.sessions for sig in s.signals), default=-1)


# -- sources -----------------------------------------------------------------------------------------
def is_store(path: Path) -> bool:
    if path.suffix in (".db", ".sqlite", ".sqlite3"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def expand(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files to scan: directories expand to their ``*.json``/``*.jsonl``(``.gz``) files and stores."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(
                q
                for q in p.rglob("*")
                if q.is_file()
                and (q.name.endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz")) or q.suffix == ".db")
            )
            out.extend(found)
        else:
            out.append(p)
    return out


def _open_text(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_otlp(path: Path, issues: list[ScanIssue]) -> Iterator[SpanData]:
    """Spans of an OTLP JSON lines file, streamed; bad lines become issues and are skipped."""
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                spans = decode_line(line, WANTED)
            except json.JSONDecodeError as exc:
                issues.append(ScanIssue(str(path), lineno, f"malformed JSON: {exc.msg} (column {exc.colno})"))
                continue
            except FormatError as exc:
                issues.append(ScanIssue(str(path), lineno, str(exc)))
                continue
            except RecursionError:
                issues.append(ScanIssue(str(path), lineno, "malformed JSON: nested too deeply"))
                continue
            yield from spans


def read_store(path: Path, issues: list[ScanIssue]) -> Iterator[tuple[SpanData, bool]]:
    """Spans of a local store, trace by trace; the flag marks the last span of each trace."""
    from ..export._sqlite import SchemaError, connect_reader, has_schema

    try:
        conn = connect_reader(path)
    except (OSError, SchemaError, sqlite3.Error) as exc:
        issues.append(ScanIssue(str(path), 0, f"cannot open the store: {exc}"))
        return
    try:
        if not has_schema(conn):
            return
        rows = conn.execute(
            "SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status_code, status_message,"
            " attributes, events FROM spans ORDER BY trace_id, start_ns, span_id"
        )
        prev: SpanData | None = None
        for row in rows:
            try:
                events = [
                    (
                        str(e.get("name") or ""),
                        int(e.get("timestamp_ns") or 0),
                        dict(e.get("attributes") or {}),
                    )
                    for e in json.loads(row[9])
                ]
                span = SpanData(
                    row[0], row[1], row[2] or "", row[3], int(row[4] or 0), int(row[5] or 0),
                    json.loads(row[8]), events, _STATUS.get(row[6], 0), row[7] or "",
                )  # fmt: skip
            except (ValueError, TypeError, AttributeError) as exc:
                issues.append(ScanIssue(str(path), 0, f"span {row[1]}: {exc}"))
                continue
            if prev is not None:
                yield prev, prev.trace_id != span.trace_id
            prev = span
        if prev is not None:
            yield prev, True
    finally:
        conn.close()


# -- scanning ----------------------------------------------------------------------------------------
def scan_file(
    path: Path, detectors: DetectorSet, *, transcripts: bool = False
) -> tuple[list[SessionResult], list[ScanIssue], int]:
    results: list[SessionResult] = []
    issues: list[ScanIssue] = []
    asm = Assembler(detectors, str(path), results.append, transcripts=transcripts)
    if not path.exists():
        issues.append(ScanIssue(str(path), 0, "no such file"))
        return results, issues, 0
    if is_store(path):
        for span, last in read_store(path, issues):
            asm.add(span, root_completes=False)  # the store yields spans in start order: root first
            if last:
                asm.trace_complete(span.trace_id)
    else:
        try:
            for span in read_otlp(path, issues):
                asm.add(span)
        except OSError as exc:
            issues.append(ScanIssue(str(path), 0, f"cannot read: {exc}"))
    asm.finish()
    return results, issues, asm.spans


_worker_detectors: DetectorSet | None = None


def _init_worker(factories: tuple[DetectorFactory, ...] | None) -> None:
    global _worker_detectors  # noqa: PLW0603 - one per worker process
    _worker_detectors = DetectorSet(list(factories)) if factories is not None else default_detectors()


def _scan_file_worker(args: tuple[str, bool]) -> tuple[list[SessionResult], list[ScanIssue], int]:
    assert _worker_detectors is not None
    return scan_file(Path(args[0]), _worker_detectors, transcripts=args[1])


def _replay_worker(args: tuple[str, str, list[SpanData], bool]) -> SessionResult:
    assert _worker_detectors is not None
    sid, source, spans, transcripts = args
    out: list[SessionResult] = []
    asm = Assembler(_worker_detectors, source, out.append, transcripts=transcripts)
    asm.replay(sid, spans)
    asm.close(sid)
    return out[0]


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def scan(
    paths: Sequence[str | os.PathLike[str]],
    *,
    detectors: DetectorSet | None = None,
    workers: int = 1,
    transcripts: bool = False,
) -> ScanReport:
    """Replay recorded sessions through the detectors (see :mod:`agentguard.scan`)."""
    ds = detectors if detectors is not None else default_detectors()
    files = expand(paths)
    report = ScanReport()
    if workers <= 1 or not files:
        for f in files:
            sessions, issues, n = scan_file(f, ds, transcripts=transcripts)
            report.sessions.extend(sessions)
            report.issues.extend(issues)
            report.spans += n
    else:
        factories = None if detectors is None else ds.factories
        with _context().Pool(workers, initializer=_init_worker, initargs=(factories,)) as pool:
            if len(files) > 1:
                for sessions, issues, n in pool.imap(
                    _scan_file_worker, [(str(f), transcripts) for f in files]
                ):
                    report.sessions.extend(sessions)
                    report.issues.extend(issues)
                    report.spans += n
            else:
                _scan_one_parallel(files[0], ds, pool, workers, transcripts, report)
    report.sessions.sort(key=lambda s: (s.source, s.start, s.id))
    return report


def _scan_one_parallel(
    path: Path, ds: DetectorSet, pool: Any, workers: int, transcripts: bool, report: ScanReport
) -> None:
    """One big file: this process parses and groups, the workers replay complete sessions."""
    results: list[SessionResult] = []
    issues: list[ScanIssue] = []
    asm = Assembler(ds, str(path), results.append, transcripts=transcripts)
    pending: list[Any] = []
    batch: list[tuple[str, str, list[SpanData], bool]] = []

    def flush() -> None:
        if batch:
            pending.append(pool.map_async(_replay_worker, list(batch)))
            batch.clear()
        while len(pending) > workers * 4:
            results.extend(pending.pop(0).get())

    def complete(trace_id: str) -> None:
        spans = asm.traces.pop(trace_id, None)
        if not spans:
            return
        groups, closable = split_trace(spans)
        for sid, group in groups.items():
            if sid in closable and sid not in asm.open:
                batch.append((sid, str(path), group, transcripts))
            else:
                asm.replay(sid, group)
                if sid in closable:
                    asm.close(sid)
        if len(batch) >= 64:
            flush()

    def spans() -> Iterable[tuple[SpanData, bool]]:
        if is_store(path):
            yield from read_store(path, issues)
        else:
            for s in read_otlp(path, issues):
                yield s, not s.parent_id

    if not path.exists():
        report.issues.append(ScanIssue(str(path), 0, "no such file"))
        return
    for span, last in spans():
        asm.spans += 1
        asm.traces.setdefault(span.trace_id, []).append(span)
        if last:
            complete(span.trace_id)
    for trace_id in list(asm.traces):
        complete(trace_id)
    flush()
    for p in pending:
        results.extend(p.get())
    for sid in list(asm.open):
        asm.close(sid)
    report.sessions.extend(results)
    report.issues.extend(issues)
    report.spans += asm.spans
