"""The OTLP JSON codec: ``ExportTraceServiceRequest`` and ``ExportLogsServiceRequest`` documents.

That is what the OpenTelemetry Collector's ``file`` exporter writes, one request per line
(``{"resourceSpans": [{"resource": ..., "scopeSpans": [{"scope": ..., "spans": [...]}]}]}``). Ids are
hex (the Collector) or base64 (protobuf's JSON mapping), times strings or numbers of nanoseconds,
attribute values ``AnyValue`` objects, enums numbers or names. :func:`decode_line` turns one line into
:class:`~agentguard.traces.Span` records; :func:`encode_spans` writes SDK spans the same way.

A log record becomes a span record too (:data:`~agentguard.traces.KIND_LOG`): no duration, the span it
was emitted in as its parent, and one event with the log's event name, time and attributes, its body
under :data:`LOG_BODY`. So log events reach the session of their span however the files are ordered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final

from ._json import json_loads
from ._json import orjson_loads as orjson_loads  # noqa: PLC0414 - re-exported for the tests to swap
from ._record import Span, SpanEvent, SpanLink, make_span

LOG_BODY: Final = "log.body"
"""The event attribute holding a log record's body."""
LOG_SEVERITY: Final = "log.severity"
KIND_LOG: Final = -1
"""The ``kind`` of a span record made from a log record."""

_STATUS_NAMES: Final = {
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
    "UNSET": 0,
    "OK": 1,
    "ERROR": 2,
}
_KIND_NAMES: Final = {
    "SPAN_KIND_UNSPECIFIED": 0,
    "SPAN_KIND_INTERNAL": 1,
    "SPAN_KIND_SERVER": 2,
    "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4,
    "SPAN_KIND_CONSUMER": 5,
}

Wanted = frozenset[str] | None
"""Span attribute keys to decode (``None``: all); see :func:`decode_line`'s ``prefixes``."""


class FormatError(ValueError):
    """A line that parsed as JSON but is not an OTLP export request."""


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


def any_value(value: Any) -> Any:
    """An OTLP JSON ``AnyValue`` as a plain Python value (``None`` for anything else)."""
    return _value(value) if isinstance(value, Mapping) else None


def _attrs(
    items: Iterable[Mapping[str, Any]] | None,
    wanted: Wanted = None,
    prefixes: tuple[str, ...] = (),
    exact: bool = True,
) -> dict[str, Any]:
    """Attribute list to dict; with ``wanted``, only those keys and keys starting with ``prefixes``
    (the rest is never converted)."""
    out: dict[str, Any] = {}
    if items:
        accept: AbstractSet[Any] | None = wanted
        grow: set[Any] | None = None
        reject: set[Any] | None = None
        if wanted is not None and prefixes:
            grow, reject = _admission(wanted, prefixes)
            accept = grow
        for kv in items:
            key = kv["key"]
            if accept is not None and key not in accept:
                if grow is None or reject is None or key in reject:
                    continue
                if not (type(key) is str and key.startswith(prefixes)):
                    if len(reject) < _MAX_KEYS:
                        reject.add(key)
                    continue
                if len(grow) < _MAX_KEYS:
                    grow.add(key)
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


_filters: dict[tuple[frozenset[str], tuple[str, ...]], tuple[set[Any], set[Any]]] = {}
_MAX_KEYS: Final = 20_000


def _admission(wanted: frozenset[str], prefixes: tuple[str, ...]) -> tuple[set[Any], set[Any]]:
    """The keys a filter admits (``wanted`` and those seen so far that start with a prefix) and those
    it was seen to refuse: attribute keys repeat, so most keys cost one set lookup."""
    found = _filters.get((wanted, prefixes))
    if found is None:
        found = _filters[(wanted, prefixes)] = (set(wanted), set())
    return found


def key_values(items: Any) -> dict[str, Any]:
    """A list of OTLP JSON ``KeyValue`` objects as a dict (entries that are not one are skipped)."""
    out: dict[str, Any] = {}
    for item in items or ():
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            out[item["key"]] = any_value(item.get("value"))
    return out


def hex_id(raw: Any, exact: bool = True) -> str:
    """An id as lower-case hex: hex ids (the Collector) as they are, base64 ids (protobuf JSON)
    converted; ``""`` when absent."""
    if not raw:
        return ""
    if not exact and type(raw) is not str:
        raise _Inexact
    text = str(raw)
    if len(text) in (16, 32):  # hex; base64 of an 8- or 16-byte id has 12 or 24 characters
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.lower()
    return decoded.hex() if len(decoded) in (8, 16) else text.lower()


def _fast_id(raw: Any, exact: bool) -> str:
    # hex ids of the usual length take the short path of hex_id (same result)
    if type(raw) is str and len(raw) in (16, 32):
        return raw.lower()
    return hex_id(raw, exact)


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


def _kind(raw: Any, exact: bool) -> int:
    if type(raw) is int:
        return raw
    if isinstance(raw, str):
        return _KIND_NAMES.get(raw, 0) if not raw.isdigit() else int(raw)
    return _int(raw, exact)


def _text(raw: Any, exact: bool) -> str:
    if type(raw) is str:
        return raw
    if not exact and raw:
        raise _Inexact
    return str(raw or "")


def _span(
    sp: Any,
    wanted: Wanted,
    prefixes: tuple[str, ...],
    exact: bool,
    resource: dict[str, Any],
    scope: str,
    version: str,
) -> Span:
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
    # hex ids of the usual length take the short path of hex_id (same result)
    raw = get("traceId")
    trace_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else hex_id(raw, exact)
    raw = get("spanId")
    span_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else hex_id(raw, exact)
    raw = get("parentSpanId")
    parent_id = raw.lower() if type(raw) is str and len(raw) in (16, 32) else hex_id(raw, exact)
    name = get("name")
    if type(name) is not str:
        name = _text(name, exact)
    raw = get("startTimeUnixNano")
    start = int(raw) if type(raw) is str and raw else _int(raw, exact)
    raw = get("endTimeUnixNano")
    end = int(raw) if type(raw) is str and raw else _int(raw, exact)
    raw = get("kind")
    kind = raw if type(raw) is int else _kind(raw, exact)
    attrs = _attrs(get("attributes"), wanted, prefixes, exact)
    raw_events = get("events")
    events: list[SpanEvent] = []
    if raw_events:
        for e in raw_events:
            name_ = e.get("name")
            raw = e.get("timeUnixNano")
            if type(name_) is str and type(raw) is str and raw:  # the common case of _event
                events.append(
                    _event_tuple(SpanEvent, (name_, int(raw), _attrs(e.get("attributes"), None, (), exact)))
                )
            else:
                events.append(_event(e, exact))
    raw_links = get("links")
    links = (
        [
            SpanLink(
                _fast_id(x.get("traceId"), exact),
                _fast_id(x.get("spanId"), exact),
                _attrs(x.get("attributes"), None, (), exact),
            )
            for x in raw_links
        ]
        if raw_links
        else []
    )
    return make_span(
        trace_id, span_id, parent_id, name, kind, start, end, code, message, attrs, events, links,
        resource, scope, version,
    )  # fmt: skip


_event_tuple = tuple.__new__  # SpanEvent from a 3-tuple without the named tuple's Python-level __new__


def _event(e: Any, exact: bool) -> SpanEvent:
    name = _text(e.get("name"), exact)
    raw = e.get("timeUnixNano")
    time = int(raw) if type(raw) is str and raw else _int(raw, exact)
    return SpanEvent(name, time, _attrs(e.get("attributes"), None, (), exact))


def _scopes(doc: dict[str, Any], key: str, inner: tuple[str, str], items: str, exact: bool) -> Iterator[Any]:
    """``(resource attributes, scope name, scope version, items)`` for each scope of the request."""
    for rs in doc[key]:
        try:
            res = rs.get("resource") or {}
            resource = _attrs(res.get("attributes"), None, (), exact) if res else {}
            entries = rs.get(inner[0]) or rs.get(inner[1]) or ()
            found = []
            for ss in entries:
                scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
                name = _text(scope.get("name"), exact) if scope else ""
                version = _text(scope.get("version"), exact) if scope else ""
                found.append((resource, name, version, list(ss.get(items) or ())))
        except (AttributeError, TypeError, KeyError) as exc:
            raise FormatError(f"malformed {key}: {type(exc).__name__}: {exc}") from exc
        yield from found


def _kind_of(doc: Any) -> str:
    """``"spans"`` or ``"logs"`` for a request with content, ``""`` for an empty one; raises
    :class:`FormatError` for anything else."""
    if isinstance(doc, dict):
        spans, logs = doc.get("resourceSpans"), doc.get("resourceLogs")
        if isinstance(spans, list):
            return "spans"
        if isinstance(logs, list):
            return "logs"
        if not doc:
            return ""
    raise FormatError("not an OTLP export request (no resourceSpans or resourceLogs)")


def decode_spans(
    doc: Any, wanted: Wanted = None, prefixes: tuple[str, ...] = (), *, exact: bool = True
) -> list[Span]:
    """The span records of one parsed export request (traces or logs); raises :class:`FormatError`
    for anything else. ``wanted``/``prefixes`` limit span attributes to those keys.

    ``exact=False`` is for a document orjson read: it raises ``_Inexact`` where json's reading could
    give another value (see :func:`decode_line`)."""
    what = _kind_of(doc)
    if what == "logs":
        return _decode_logs(doc, exact)
    if not what:
        return []
    out: list[Span] = []
    for resource, scope, version, spans in _scopes(
        doc, "resourceSpans", ("scopeSpans", "instrumentationLibrarySpans"), "spans", exact
    ):
        for sp in spans:
            try:
                out.append(_span(sp, wanted, prefixes, exact, resource, scope, version))
            except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
                raise FormatError(f"malformed span: {type(exc).__name__}: {exc}") from exc
    return out


def decode_request(doc: Any, wanted: Wanted = None, prefixes: tuple[str, ...] = ()) -> Iterator[Span]:
    """The span records of one parsed export request (see :func:`decode_spans`)."""
    yield from decode_spans(doc, wanted, prefixes)


def decode_line(line: str | bytes, wanted: Wanted = None, prefixes: tuple[str, ...] = ()) -> list[Span]:
    """The span records of one OTLP JSON line: ``decode_spans(json.loads(line), ...)``, same records
    and same errors, read by orjson when the ``scan`` extra is installed. Whatever orjson refuses or
    may read differently (an integer beyond 64 bits), and any error, is settled by json."""
    if orjson_loads is not None:
        try:
            doc = orjson_loads(line)
        except ValueError:  # malformed, or what json reads and orjson does not (NaN, 1e999, "\ud800")
            pass
        else:
            try:
                return decode_spans(doc, wanted, prefixes, exact=False)
            except (_Inexact, FormatError, RecursionError):
                pass
    text = line if isinstance(line, str) else line.decode("utf-8", errors="replace")
    return decode_spans(json_loads(text), wanted, prefixes)


# -- logs ----------------------------------------------------------------------------------------------
def _decode_logs(doc: dict[str, Any], exact: bool) -> list[Span]:
    out: list[Span] = []
    for resource, scope, version, records in _scopes(
        doc, "resourceLogs", ("scopeLogs", "instrumentationLibraryLogs"), "logRecords", exact
    ):
        for index, rec in enumerate(records):
            try:
                out.append(_log_span(rec, index, resource, scope, version, exact))
            except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as exc:
                raise FormatError(f"malformed log record: {type(exc).__name__}: {exc}") from exc
    return out


def _log_span(rec: Any, index: int, resource: dict[str, Any], scope: str, version: str, exact: bool) -> Span:
    get = rec.get
    trace_id = _fast_id(get("traceId"), exact)
    parent = _fast_id(get("spanId"), exact)
    time = _int(get("timeUnixNano"), exact) or _int(get("observedTimeUnixNano"), exact)
    attrs = _attrs(get("attributes"), None, (), exact)
    name = _text(get("eventName"), exact) or str(attrs.get("event.name") or "")
    body = _value(get("body") or {}, exact)
    if body is not None:
        attrs[LOG_BODY] = body
    if get("severityText"):
        attrs[LOG_SEVERITY] = _text(get("severityText"), exact)
    # a deterministic id of its own, so that the same record read twice is one record; a record
    # without trace context is a trace of its own
    digest = hashlib.blake2b(
        f"{trace_id}/{parent}/{time}/{name}/{index}".encode(), digest_size=16
    ).hexdigest()
    return make_span(
        trace_id or digest, digest[:16], parent, name, KIND_LOG, time, time, 0, "", {},
        [SpanEvent(name, time, attrs)], [], resource, scope, version,
    )  # fmt: skip


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
    """An ``ExportTraceServiceRequest`` (as the Collector's JSON) for SDK ``ReadableSpan`` objects."""
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
        if span.links:
            out["links"] = [
                {
                    "traceId": f"{link.context.trace_id:032x}",
                    "spanId": f"{link.context.span_id:016x}",
                    "attributes": _kv(link.attributes),
                }
                for link in span.links
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


def encode_records(spans: Iterable[Span]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` (as the Collector's JSON) for span records: what
    :func:`decode_spans` reads back as the same records."""
    groups: dict[tuple[int, str, str], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for s in spans:
        key = (id(s.resource), s.scope, s.scope_version)
        entry = groups.setdefault(key, (s.resource, []))
        out: dict[str, Any] = {
            "traceId": s.trace_id,
            "spanId": s.span_id,
            "name": s.name,
            "kind": s.kind,
            "startTimeUnixNano": str(s.start),
            "endTimeUnixNano": str(s.end),
            "attributes": _kv(s.attributes),
            "status": {"code": s.status, **({"message": s.status_message} if s.status_message else {})},
        }
        if s.parent_id:
            out["parentSpanId"] = s.parent_id
        if s.events:
            out["events"] = [
                {"timeUnixNano": str(e.time), "name": e.name, "attributes": _kv(e.attributes)}
                for e in s.events
            ]
        if s.links:
            out["links"] = [
                {"traceId": x.trace_id, "spanId": x.span_id, "attributes": _kv(x.attributes)} for x in s.links
            ]
        entry[1].append(out)
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _kv(resource)},
                "scopeSpans": [
                    {"scope": {"name": scope, **({"version": version} if version else {})}, "spans": items}
                ],
            }
            for (_, scope, version), (resource, items) in groups.items()
        ]
    }
