"""Spans as the scanner reads them, from OTLP JSON lines or the local store.

OTLP JSON is what the OpenTelemetry Collector's ``file`` exporter writes: one
``ExportTraceServiceRequest`` per line (``{"resourceSpans": [{"resource": ..., "scopeSpans": [{"scope":
..., "spans": [...]}]}]}``), trace and span ids in hex, times as strings of nanoseconds, attribute values
as ``AnyValue`` objects. :func:`decode_request` turns one parsed line into :class:`SpanData`;
:func:`encode_spans` does the reverse for SDK spans (what :class:`OtlpJsonFileExporter` writes).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

_STATUS_NAMES = {
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
    "UNSET": 0,
    "OK": 1,
    "ERROR": 2,
}


class SpanData:
    """One span, reduced to what detectors read."""

    __slots__ = (
        "attrs",
        "end",
        "events",
        "name",
        "parent_id",
        "span_id",
        "start",
        "status",
        "status_message",
        "trace_id",
    )

    def __init__(
        self,
        trace_id: str,
        span_id: str,
        parent_id: str,
        name: str,
        start: int,
        end: int,
        attrs: dict[str, Any],
        events: list[tuple[str, int, dict[str, Any]]],
        status: int,
        status_message: str,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self.start = start
        self.end = end
        self.attrs = attrs
        self.events = events
        self.status = status
        self.status_message = status_message

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            SpanData,
            (
                self.trace_id,
                self.span_id,
                self.parent_id,
                self.name,
                self.start,
                self.end,
                self.attrs,
                self.events,
                self.status,
                self.status_message,
            ),
        )


# the scanner json.loads ends in (C), with the same (default) settings
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def json_loads(text: str) -> Any:
    """``json.loads(text)``, same value and same errors, without its Python-level layers for the
    common case (a document with no leading whitespace): the scanner reads it directly, and anything
    else (whitespace around, trailing data, an error) goes through ``json.loads`` itself."""
    try:
        value, end = _scan_once(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return json.loads(text)  # raises "Extra data" exactly as it does
    return value


def _orjson_reader() -> Callable[[str], Any] | None:
    """orjson's ``loads`` when the ``scan`` extra is installed, else ``None`` (json reads every line:
    the same values, slower). Imported by name so that type checking holds either way."""
    try:
        module = importlib.import_module("orjson")
    except ImportError:
        return None
    loads: Callable[[str], Any] = module.loads
    return loads


_orjson_loads = _orjson_reader()


class FormatError(ValueError):
    """A line that parsed as JSON but is not an ``ExportTraceServiceRequest``."""


# -- decoding ----------------------------------------------------------------------------------------
class _Inexact(Exception):
    """A value orjson may have read differently from json: the line is read again with json.

    orjson reads an integer beyond 64 bits as a float where json keeps it exact, so a document read by
    orjson is decoded with ``exact=False``: wherever a number is turned into an int or a string, or a
    non-string is kept as it is, anything but a plain value raises this instead."""


def _plain(x: Any) -> Any:
    """``x`` when it reads the same from orjson as from json (a string or an int), else ``_Inexact``."""
    t = type(x)
    if t is str or t is int:
        return x
    raise _Inexact


def _value(v: Mapping[str, Any], exact: bool = True) -> Any:
    s = v.get("stringValue")
    if s is not None:
        return s if exact else _plain(s)
    if "intValue" in v:
        return int(v["intValue"] if exact else _plain(v["intValue"]))
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])  # an integer's float is the same either way (correctly rounded)
    if "arrayValue" in v:
        return [_value(x, exact) for x in (v["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in v:
        return {
            (kv["key"] if exact else _plain(kv["key"])): _value(kv.get("value") or {}, exact)
            for kv in (v["kvlistValue"] or {}).get("values") or ()
        }
    if "bytesValue" in v:
        return v["bytesValue"] if exact else _plain(v["bytesValue"])
    return None


def _attrs(
    items: Iterable[Mapping[str, Any]] | None, wanted: frozenset[str] | None = None, exact: bool = True
) -> dict[str, Any]:
    """Attribute list to dict; with ``wanted``, only those keys (the rest is never converted)."""
    out: dict[str, Any] = {}
    if items:
        for kv in items:
            key = kv["key"]
            if wanted is not None and key not in wanted:
                continue
            val = kv.get("value")
            if val:
                s = val.get("stringValue")
                if type(s) is str and type(key) is str:  # the common case, the same either way
                    out[key] = s
                    continue
                if not exact and type(key) is not str:
                    raise _Inexact
                if s is not None:
                    if not exact:
                        raise _Inexact
                    out[key] = s
                else:
                    out[key] = _value(val, exact)
            else:
                if not exact and type(key) is not str:
                    raise _Inexact
                out[key] = None
    return out


def _id(raw: Any, exact: bool = True) -> str:
    """Hex ids as the collector writes them; base64 ids (protobuf JSON) converted to hex."""
    if not raw:
        return ""
    if not exact and type(raw) is not str:
        raise _Inexact
    text = str(raw)
    if len(text) in (16, 32):
        return text.lower()
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def _status(status: Mapping[str, Any] | None, exact: bool = True) -> tuple[int, str]:
    if not status:
        return 0, ""
    code = status.get("code", 0)
    if isinstance(code, str):
        code = _STATUS_NAMES.get(code, 0)
    elif not exact and type(code) is not int:
        raise _Inexact
    message = status.get("message")
    if not exact and message and type(message) is not str:
        raise _Inexact
    return int(code or 0), str(message or "")


def _int(raw: Any, exact: bool) -> int:
    if not exact and raw and type(raw) is not str and type(raw) is not int:
        raise _Inexact
    return int(raw or 0)


def _span(sp: Any, wanted: frozenset[str] | None, exact: bool = True) -> SpanData:
    """One OTLP JSON span (the checks and their order are :func:`decode_request`'s contract: the first
    field that fails names the malformed span)."""
    get = sp.get
    status = get("status")
    if not status:
        code, message = 0, ""
    elif type(code := status.get("code", 0)) is int and type(message := status.get("message", "")) is str:
        code = code or 0  # the common case of _status, the same either way
    else:
        code, message = _status(status, exact)
    # hex ids of the usual length take the short path of _id (same result)
    raw = get("traceId")
    trace_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else _id(raw, exact)
    raw = get("spanId")
    span_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else _id(raw, exact)
    raw = get("parentSpanId")
    parent_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else _id(raw, exact)
    name = get("name")
    if type(name) is not str:
        if not exact and name:
            raise _Inexact
        name = str(name or "")
    raw = get("startTimeUnixNano")
    start = int(raw) if type(raw) is str and raw else _int(raw, exact)
    raw = get("endTimeUnixNano")
    end = int(raw) if type(raw) is str and raw else _int(raw, exact)
    attrs = _attrs(get("attributes"), wanted, exact)
    raw_events = get("events")
    events: list[tuple[str, int, dict[str, Any]]] = []
    if raw_events:
        for e in raw_events:
            name_ = e.get("name")
            raw = e.get("timeUnixNano")
            if type(name_) is str and type(raw) is str and raw:  # the common case of _event
                events.append((name_, int(raw), _attrs(e.get("attributes"), None, exact)))
            else:
                events.append(_event(e, exact))
    return SpanData(trace_id, span_id, parent_id, name, start, end, attrs, events, code, message)


def _event(e: Any, exact: bool) -> tuple[str, int, dict[str, Any]]:
    name = e.get("name")
    if type(name) is not str:
        if not exact and name:
            raise _Inexact
        name = str(name or "")
    raw = e.get("timeUnixNano")
    time = int(raw) if type(raw) is str and raw else _int(raw, exact)
    return name, time, _attrs(e.get("attributes"), None, exact)


def _check_request(doc: Any) -> bool:
    """Whether ``doc`` has spans to decode; raises :class:`FormatError` when it is no request."""
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceSpans", []), list):
        raise FormatError("not an ExportTraceServiceRequest (no resourceSpans)")
    if "resourceSpans" not in doc:
        if doc:
            raise FormatError("not an ExportTraceServiceRequest (no resourceSpans)")
        return False
    return True


def _span_lists(doc: dict[str, Any]) -> Iterator[list[Any]]:
    """Each scope's spans; a resource or scope entry that is not an object is malformed."""
    for rs in doc["resourceSpans"]:
        try:
            lists = [
                list(ss.get("spans") or ())
                for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or ()
            ]
        except (AttributeError, TypeError) as exc:
            raise FormatError(f"malformed resourceSpans: {type(exc).__name__}: {exc}") from exc
        yield from lists


def decode_request(doc: Any, wanted: frozenset[str] | None = None) -> Iterator[SpanData]:
    """The spans of one parsed ``ExportTraceServiceRequest``; raises :class:`FormatError` otherwise.

    ``wanted`` limits span attributes to those keys (the scanner reads a few dozen of them).
    """
    if not _check_request(doc):
        return
    for spans in _span_lists(doc):
        for sp in spans:
            try:
                span = _span(sp, wanted)
            except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
                raise FormatError(f"malformed span: {type(exc).__name__}: {exc}") from exc
            yield span


def decode_spans(doc: Any, wanted: frozenset[str] | None = None, *, exact: bool = True) -> list[SpanData]:
    """``list(decode_request(doc, wanted))``, without the generator (the scanner's per-line call).

    ``exact=False`` is for a document orjson read: it raises ``_Inexact`` where json's reading could
    give another value (see :func:`decode_line`)."""
    if not _check_request(doc):
        return []
    out: list[SpanData] = []
    for spans in _span_lists(doc):
        for sp in spans:
            try:
                out.append(_span(sp, wanted, exact))
            except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
                raise FormatError(f"malformed span: {type(exc).__name__}: {exc}") from exc
    return out


def decode_line(line: str, wanted: frozenset[str] | None = None) -> list[SpanData]:
    """The spans of one OTLP JSON line: ``list(decode_request(json.loads(line), wanted))``, same spans
    and same errors, read by orjson when the ``scan`` extra is installed. Whatever orjson refuses or
    may read differently (an integer beyond 64 bits), and any error, is settled by json."""
    if _orjson_loads is not None:
        try:
            doc = _orjson_loads(line)
        except ValueError:  # malformed, or what json reads and orjson does not (NaN, 1e999, "\ud800")
            pass
        else:
            try:
                return decode_spans(doc, wanted, exact=False)
            except (_Inexact, FormatError, RecursionError):
                pass
    return decode_spans(json_loads(line), wanted)


# -- encoding ----------------------------------------------------------------------------------------
def _any(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_any(v) for v in value]}}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": [{"key": str(k), "value": _any(v)} for k, v in value.items()]}}
    return {"stringValue": str(value)}


def _kv(attrs: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any(v)} for k, v in (attrs or {}).items()]


def encode_spans(spans: Sequence[Any]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` (as the collector's JSON) for SDK ``ReadableSpan`` objects."""
    by_resource: dict[int, tuple[Any, dict[tuple[str, str], list[dict[str, Any]]]]] = {}
    for span in spans:
        entry = by_resource.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name if scope else "", (scope.version or "") if scope else "")
        ctx = span.context
        parent = span.parent
        out: dict[str, Any] = {
            "traceId": f"{ctx.trace_id:032x}",
            "spanId": f"{ctx.span_id:016x}",
            "name": span.name,
            "kind": int(span.kind.value) + 1,
            "startTimeUnixNano": str(span.start_time or 0),
            "endTimeUnixNano": str(span.end_time or 0),
            "attributes": _kv(span.attributes),
            "status": {"code": int(span.status.status_code.value)},
        }
        if parent is not None:
            out["parentSpanId"] = f"{parent.span_id:016x}"
        if span.status.description:
            out["status"]["message"] = span.status.description
        if span.events:
            out["events"] = [
                {"timeUnixNano": str(e.timestamp), "name": e.name, "attributes": _kv(e.attributes)}
                for e in span.events
            ]
        entry[1].setdefault(key, []).append(out)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _kv(getattr(resource, "attributes", None))},
                "scopeSpans": [
                    {"scope": {"name": name, **({"version": version} if version else {})}, "spans": items}
                    for (name, version), items in scopes.items()
                ],
            }
            for resource, scopes in by_resource.values()
        ]
    }
