"""``scan()``: recorded traces (OTLP files, local stores) assembled into sessions and replayed through
the detectors, optionally in parallel processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..detect import default_detectors
from ..detect._engine import DetectorFactory, DetectorSet
from ..traces import (
    DEFAULT_MEMORY_SPANS,
    ReadIssue,
    Session,
    SessionAssembler,
    attribute_filter,
    expand,
    read_file,
)
from ._sessions import SessionResult, replay

ScanIssue = ReadIssue
"""A line (or a whole file) that could not be read; it was skipped."""


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

    @property
    def incomplete(self) -> list[ScanIssue]:
        """The issues of files that could not be read to their end."""
        return [i for i in self.issues if i.fatal]


def _sessions(
    files: Sequence[Path],
    issues: list[ScanIssue],
    *,
    memory_spans: int,
    spill_dir: str | os.PathLike[str] | None,
) -> tuple[Iterator[Session], SessionAssembler]:
    wanted = attribute_filter()
    asm = SessionAssembler(sources=[str(f) for f in files], memory_spans=memory_spans, spill_dir=spill_dir)
    add = asm.add
    try:
        for number, path in enumerate(files):
            for span in read_file(path, issues, wanted):
                add(span, number)
    except BaseException:
        asm.close()
        raise
    return asm.sessions(), asm


def scan_file(
    path: Path, detectors: DetectorSet, *, transcripts: bool = False
) -> tuple[list[SessionResult], list[ScanIssue], int]:
    """One file's sessions, issues and span count."""
    report = scan([path], detectors=detectors, transcripts=transcripts)
    return report.sessions, report.issues, report.spans


_worker_detectors: DetectorSet | None = None


def _init_worker(factories: tuple[DetectorFactory, ...] | None) -> None:
    global _worker_detectors  # noqa: PLW0603 - one per worker process
    _worker_detectors = DetectorSet(list(factories)) if factories is not None else default_detectors()


def _replay_worker(args: tuple[Session, bool]) -> SessionResult:
    assert _worker_detectors is not None
    return replay(args[0], _worker_detectors, transcripts=args[1])


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def scan(
    paths: Sequence[str | os.PathLike[str]],
    *,
    detectors: DetectorSet | None = None,
    workers: int = 1,
    transcripts: bool = False,
    memory_spans: int = DEFAULT_MEMORY_SPANS,
    spill_dir: str | os.PathLike[str] | None = None,
) -> ScanReport:
    """Replay recorded sessions through the detectors (see :mod:`agentguard.scan`).

    All ``paths`` are read before any session is replayed, so a session split across files, or whose
    conversation id arrives last, is one session. Past ``memory_spans`` spans the spans wait in a
    temporary SQLite file (in ``spill_dir``) rather than in memory.
    """
    ds = detectors if detectors is not None else default_detectors()
    files = expand(paths)
    report = ScanReport()
    sessions, asm = _sessions(files, report.issues, memory_spans=memory_spans, spill_dir=spill_dir)
    report.spans = asm.spans
    try:
        if workers <= 1:
            report.sessions.extend(replay(s, ds, transcripts=transcripts) for s in sessions)
        else:
            factories = None if detectors is None else ds.factories
            with _context().Pool(workers, initializer=_init_worker, initargs=(factories,)) as pool:
                report.sessions.extend(
                    pool.imap(_replay_worker, ((s, transcripts) for s in sessions), chunksize=16)
                )
    finally:
        asm.close()
    report.sessions.sort(key=lambda s: (s.source, s.start, s.id))
    return report
