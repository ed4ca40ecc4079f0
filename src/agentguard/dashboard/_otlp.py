"""A streaming reader of OTLP JSON trace files: one ``ExportTraceServiceRequest`` JSON per line.

That is what the OpenTelemetry Collector's ``file`` exporter writes. Lines are read one at a time (a
1 GB file does not have to fit in memory), a malformed line is counted and skipped, and a partial last
line (the collector is still writing it) is left for the next read::

    reader = OtlpFileReader("traces.jsonl")
    for span in reader.read_new():       # spans appended since the last call
        ...
    reader.malformed                     # [(line number, reason), ...]

Each span comes out in the local store's row shape (:class:`OtlpSpan`), so the dashboard can load an
OTLP file into the same SQLite schema and run the same queries over it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

_KINDS: Final = {0: "INTERNAL", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS: Final = {0: "UNSET", 1: "OK", 2: "ERROR"}
_MAX_MALFORMED: Final = 100


@dataclass(frozen=True, slots=True)
class OtlpSpan:
    """One span from an OTLP JSON file, flattened like a row of the local store's ``spans`` table."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int | None
    status_code: str
    status_message: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    resource: dict[str, Any]
    scope: str | None
    scope_version: str | None


def any_value(value: Any) -> Any:
    """An OTLP JSON ``AnyValue`` as a plain Python value."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            return value["doubleValue"]
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", []) or []]
    if "kvlistValue" in value:
        return key_values((value["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def key_values(items: Any) -> dict[str, Any]:
    """A list of OTLP ``KeyValue`` objects as a dict."""
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = any_value(item.get("value"))
    return out


def _ns(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _enum(value: Any, table: dict[int, str], prefix: str, default: str) -> str:
    if isinstance(value, int):
        return table.get(value, default)
    if isinstance(value, str) and value:
        return value.removeprefix(prefix) or default
    return default


def _hex_id(value: Any) -> str:
    return str(value or "").lower()


def spans_of_request(request: Any) -> Iterator[OtlpSpan]:
    """The spans of one decoded ``ExportTraceServiceRequest``; raises ``ValueError`` on a bad shape."""
    if not isinstance(request, dict):
        raise ValueError("not a JSON object")
    for resource_spans in request.get("resourceSpans") or []:
        resource = key_values((resource_spans.get("resource") or {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or []:
            scope = scope_spans.get("scope") or {}
            for span in scope_spans.get("spans") or []:
                trace_id, span_id = _hex_id(span.get("traceId")), _hex_id(span.get("spanId"))
                if not trace_id or not span_id:
                    raise ValueError("a span without traceId or spanId")
                status = span.get("status") or {}
                events = [
                    {
                        "name": str(e.get("name", "")),
                        "timestamp_ns": _ns(e.get("timeUnixNano")) or 0,
                        "attributes": key_values(e.get("attributes")),
                    }
                    for e in span.get("events") or []
                ]
                yield OtlpSpan(
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_span_id=_hex_id(span.get("parentSpanId")) or None,
                    name=str(span.get("name", "")),
                    kind=_enum(span.get("kind"), _KINDS, "SPAN_KIND_", "INTERNAL"),
                    start_ns=_ns(span.get("startTimeUnixNano")) or 0,
                    end_ns=_ns(span.get("endTimeUnixNano")),
                    status_code=_enum(status.get("code"), _STATUS, "STATUS_CODE_", "UNSET"),
                    status_message=status.get("message") or None,
                    attributes=key_values(span.get("attributes")),
                    events=events,
                    resource=resource,
                    scope=scope.get("name") or None,
                    scope_version=scope.get("version") or None,
                )


class OtlpFileReader:
    """Reads an OTLP JSON lines file incrementally: :meth:`read_new` returns what was appended."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offset = 0
        self._line = 0
        self.malformed: list[tuple[int, str]] = []
        """``(line number, reason)`` of skipped lines (the first 100)."""
        self.malformed_count = 0

    @property
    def offset(self) -> int:
        """Bytes consumed so far (complete lines only)."""
        return self._offset

    def changed(self) -> bool:
        """Whether the file has grown (or been replaced by a shorter one) since the last read."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return False
        return size != self._offset

    def read_new(self) -> Iterator[OtlpSpan]:
        """Spans from the complete lines appended since the last call (all of them the first time)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        if size < self._offset:  # truncated or rotated: start over
            self._offset, self._line = 0, 0
        with self.path.open("rb") as f:
            f.seek(self._offset)
            for raw in f:
                try:
                    request = json.loads(raw) if raw.strip() else None
                except ValueError as exc:
                    if not raw.endswith(b"\n"):
                        break  # a last line still being written: read it next time
                    request, error = None, str(exc)
                else:
                    error = ""
                self._offset += len(raw)
                self._line += 1
                if error:
                    self._skip(error)
                    continue
                if request is None:
                    continue
                try:
                    spans = list(spans_of_request(request))
                except (ValueError, TypeError, AttributeError) as exc:
                    self._skip(str(exc) or type(exc).__name__)
                    continue
                yield from spans

    def _skip(self, reason: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < _MAX_MALFORMED:
            self.malformed.append((self._line, reason[:200]))
