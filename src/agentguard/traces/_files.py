"""Reading span records from files: OTLP JSON lines (traces or logs, ``.gz`` too), OTLP protobuf files,
local stores, whole directories of them, and any format a registered :class:`FileFormat` claims.

>>> from agentguard.traces import read_file
>>> issues = []
>>> spans = list(read_file("traces.jsonl.gz", issues))  # doctest: +SKIP

A malformed line is an issue (file and line) and is skipped; a file that cannot be read to its end
(missing, truncated or corrupt gzip, not a store) is an issue with ``fatal=True`` after the spans read
before the damage. Nothing here raises for bad input.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, cast

from ._otlp_json import FormatError, decode_line
from ._readers import AttributeFilter
from ._record import Span

_JSON_SUFFIXES: Final = (".json", ".jsonl", ".ndjson")
_PROTO_SUFFIXES: Final = (".pb", ".binpb", ".protobuf")
_STORE_SUFFIXES: Final = (".db", ".sqlite", ".sqlite3")
_GZIP_ERRORS: Final = (EOFError, zlib.error, gzip.BadGzipFile)


@dataclass(frozen=True, slots=True)
class ReadIssue:
    """A line (``line`` > 0) or a whole file (``line`` 0) that could not be read; it was skipped.
    ``fatal`` marks a file that could not be read to its end."""

    path: str
    line: int
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message, "fatal": self.fatal}


Issues = list[ReadIssue]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileFormat:
    """A file format besides OTLP and the store (agent transcripts...): ``claims(path)`` says whether
    a file is one, ``read(path, issues, attributes)`` yields its span records."""

    name: str
    claims: Callable[[Path], bool]
    read: Callable[[Path, Issues, AttributeFilter], Iterator[Span]]


_formats: dict[str, FileFormat] = {}
_lock = threading.Lock()


def register_format(fmt: FileFormat) -> None:
    """Add a file format (replacing one of the same name); it is tried before OTLP JSON."""
    with _lock:
        _formats[fmt.name] = fmt


def _claimed(path: Path) -> FileFormat | None:
    from . import _builtin_readers

    _builtin_readers.register()
    with _lock:
        formats = list(_formats.values())
    for fmt in formats:
        try:
            if fmt.claims(path):
                return fmt
        except Exception:
            continue
    return None


def is_store(path: Path) -> bool:
    if path.suffix in _STORE_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _plain_name(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def is_protobuf(path: Path) -> bool:
    return _plain_name(path).endswith(_PROTO_SUFFIXES)


def expand(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Files to read: directories expand (recursively, sorted) to their OTLP JSON, protobuf and store
    files (``.gz`` too) and whatever a registered format claims; files are kept as given."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(
                sorted(
                    q
                    for q in p.rglob("*")
                    if q.is_file()
                    and (
                        _plain_name(q).endswith(_JSON_SUFFIXES + _PROTO_SUFFIXES)
                        or q.suffix in _STORE_SUFFIXES
                        or _claimed(q) is not None
                    )
                )
            )
        else:
            out.append(p)
    return out


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return open(path, "rb")


def read_file(
    path: str | os.PathLike[str], issues: Issues, attributes: AttributeFilter | None = None
) -> Iterator[Span]:
    """The span records of one file (see the module docstring)."""
    p = Path(path)
    wanted = attributes or AttributeFilter(None)
    if not p.exists():
        issues.append(ReadIssue(str(p), 0, "no such file", fatal=True))
        return
    if p.is_dir():
        issues.append(ReadIssue(str(p), 0, "is a directory", fatal=True))
        return
    fmt = _claimed(p)
    if fmt is not None:
        yield from fmt.read(p, issues, wanted)
    elif is_store(p):
        yield from read_store(p, issues)
    elif is_protobuf(p):
        from ._otlp_proto import read_protobuf

        yield from read_protobuf(p, issues, wanted)
    else:
        yield from read_otlp_json(p, issues, wanted)


def read_otlp_json(path: Path, issues: Issues, attributes: AttributeFilter) -> Iterator[Span]:
    """Span records of an OTLP JSON lines file (traces or logs), streamed."""
    keys, prefixes = attributes.keys, attributes.prefixes
    lineno = 0
    try:
        with _open_binary(path) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    spans = decode_line(line, keys, prefixes)
                except json.JSONDecodeError as exc:
                    issues.append(
                        ReadIssue(str(path), lineno, f"malformed JSON: {exc.msg} (column {exc.colno})")
                    )
                    continue
                except FormatError as exc:
                    issues.append(ReadIssue(str(path), lineno, str(exc)))
                    continue
                except RecursionError:
                    issues.append(ReadIssue(str(path), lineno, "malformed JSON: nested too deeply"))
                    continue
                yield from spans
    except _GZIP_ERRORS as exc:
        where = f"after line {lineno}" if lineno else "before its first line"
        issues.append(
            ReadIssue(str(path), 0, f"truncated or corrupt gzip {where}: {_reason(exc)}", fatal=True)
        )
    except OSError as exc:
        issues.append(ReadIssue(str(path), 0, f"cannot read: {_reason(exc)}", fatal=True))


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def read_store(path: Path, issues: Issues) -> Iterator[Span]:
    """Span records of a local store, trace by trace in start order."""
    from ._store_schema import SPAN_SELECT, SchemaError, connect_reader, has_schema, span_from_row

    try:
        conn = connect_reader(path)
    except (OSError, SchemaError, sqlite3.Error) as exc:
        issues.append(ReadIssue(str(path), 0, f"cannot open the store: {exc}", fatal=True))
        return
    try:
        if not has_schema(conn):
            return
        for row in conn.execute(f"{SPAN_SELECT} ORDER BY trace_id, start_ns, span_id"):
            try:
                span = span_from_row(tuple(row))
            except (ValueError, TypeError, AttributeError) as exc:
                issues.append(ReadIssue(str(path), 0, f"span {row[1]}: {exc}"))
                continue
            yield span
    except sqlite3.Error as exc:
        issues.append(ReadIssue(str(path), 0, f"cannot read the store: {exc}", fatal=True))
    finally:
        conn.close()
