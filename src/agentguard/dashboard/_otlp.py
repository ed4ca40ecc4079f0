"""Following an OTLP JSON lines file as it grows: one ``ExportTraceServiceRequest`` JSON per line.

That is what the OpenTelemetry Collector's ``file`` exporter writes. Lines are read one at a time (a
1 GB file does not have to fit in memory) with :mod:`agentguard.traces`' codec, a malformed line is
counted and skipped, and a partial last line (the collector is still writing it) is left for the next
read. A ``.gz`` file is read through gzip (a damaged or still-growing end is left for the next read)::

    reader = OtlpFileReader("traces.jsonl")
    for span in reader.read_new():       # span records appended since the last call
        ...
    reader.malformed                     # [(line number, reason), ...]
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final, cast

from ..traces import KIND_LOG, FormatError, Span, decode_line

_MAX_MALFORMED: Final = 100


class OtlpFileReader:
    """Reads an OTLP JSON lines file incrementally: :meth:`read_new` returns what was appended."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._gzip = self.path.name.endswith(".gz")
        self._offset = 0  # in the file's (decompressed) text
        self._size = -1  # the file's size on disk when last read
        self._line = 0
        self.malformed: list[tuple[int, str]] = []
        """``(line number, reason)`` of skipped lines (the first 100)."""
        self.malformed_count = 0

    @property
    def offset(self) -> int:
        """Bytes consumed so far (complete lines only, decompressed for ``.gz``)."""
        return self._offset

    def _disk_size(self) -> int | None:
        try:
            return self.path.stat().st_size
        except OSError:
            return None

    def changed(self) -> bool:
        """Whether the file has grown (or been replaced by a shorter one) since the last read."""
        size = self._disk_size()
        if size is None:
            return False
        return size != (self._size if self._gzip else self._offset)

    def _open(self) -> IO[bytes]:
        if self._gzip:
            return cast("IO[bytes]", gzip.open(self.path, "rb"))
        return self.path.open("rb")

    def read_new(self) -> Iterator[Span]:
        """Span records from the complete lines appended since the last call (all of them the first
        time); log records are left out (the dashboard shows spans)."""
        size = self._disk_size()
        if size is None:
            return
        if size < (self._size if self._gzip else self._offset):  # truncated or rotated: start over
            self._offset, self._line = 0, 0
        self._size = size
        try:
            with self._open() as f:
                f.seek(self._offset)
                for raw in f:
                    try:
                        spans = decode_line(raw) if raw.strip() else []
                    except (ValueError, FormatError, RecursionError) as exc:
                        if not raw.endswith(b"\n"):
                            break  # a last line still being written: read it next time
                        error = str(exc) or type(exc).__name__
                    else:
                        error = ""
                    self._offset += len(raw)
                    self._line += 1
                    if error:
                        self._skip(error)
                        continue
                    yield from (s for s in spans if s.kind != KIND_LOG)
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return  # a gzip stream that ends early (still being written, or damaged): what was read stays

    def _skip(self, reason: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < _MAX_MALFORMED:
            self.malformed.append((self._line, reason[:200]))
