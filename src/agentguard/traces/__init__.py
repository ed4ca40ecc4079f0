"""Recorded traces: one span record, one OTLP codec, one session attribution, readers for conventions.

::

    from agentguard.traces import assemble, read_file, session_events

    issues = []
    spans = [s for path in ["traces.jsonl.gz", "mcp-server.jsonl"] for s in read_file(path, issues)]
    for session in assemble(spans):               # any order, split across files
        print(session.id, len(session.spans), session.sources)
        for event in session_events(session):     # what the detectors replay
            ...

- :class:`Span` is the record of a recorded span, whatever wrote it; :class:`Session` a session's spans.
- The codec reads OTLP JSON lines (hex or base64 ids, traces or logs, ``.gz``), OTLP protobuf files,
  local stores and directories of them (:func:`read_file`, :func:`expand`); :func:`decode_line` and
  :func:`encode_spans` are the JSON codec itself.
- :func:`assemble` / :class:`SessionAssembler` group spans into sessions independently of order and of
  which span carries the conversation id, spilling to a temporary SQLite file on large inputs.
- A :class:`Reader` turns one convention's spans into detector events; :func:`register_reader` adds
  one, :func:`session_events` runs them all. :func:`recorded_signals` reads the signals already on
  the spans. A :class:`FileFormat` (:func:`register_format`) adds an input format.
- The local store's schema lives in :mod:`agentguard.traces._store_schema`.
"""

from __future__ import annotations

from ._assembly import CONVERSATION_ATTRIBUTES, SessionAssembler, UnionFind, assemble, session_key
from ._evidence import merge_signals, recorded_decisions, recorded_signals
from ._files import FileFormat, ReadIssue, expand, read_file, register_format
from ._otlp_json import (
    KIND_LOG,
    LOG_BODY,
    FormatError,
    any_value,
    decode_line,
    decode_request,
    decode_spans,
    encode_records,
    encode_spans,
    hex_id,
    key_values,
)
from ._otlp_pb import spans_from_request, split_by_trace, trace_keys
from ._readers import (
    AttributeFilter,
    Reader,
    TimedEvent,
    attribute_filter,
    readers,
    register_reader,
    session_events,
    unregister_reader,
)
from ._record import STATUS_ERROR, STATUS_OK, STATUS_UNSET, Span, SpanEvent, SpanLink, make_span
from ._session import Session
from ._spool import DEFAULT_MEMORY_SPANS
from ._store_schema import (
    INSERT_RUN,
    INSERT_SPAN,
    SCHEMA_VERSION,
    SPAN_SELECT,
    SchemaError,
    connect_reader,
    create_schema,
    has_schema,
    span_from_row,
    span_row,
)

__all__ = [
    "CONVERSATION_ATTRIBUTES",
    "DEFAULT_MEMORY_SPANS",
    "INSERT_RUN",
    "INSERT_SPAN",
    "KIND_LOG",
    "LOG_BODY",
    "SCHEMA_VERSION",
    "SPAN_SELECT",
    "STATUS_ERROR",
    "STATUS_OK",
    "STATUS_UNSET",
    "AttributeFilter",
    "FileFormat",
    "FormatError",
    "ReadIssue",
    "Reader",
    "SchemaError",
    "Session",
    "SessionAssembler",
    "Span",
    "SpanEvent",
    "SpanLink",
    "TimedEvent",
    "UnionFind",
    "any_value",
    "assemble",
    "attribute_filter",
    "connect_reader",
    "create_schema",
    "decode_line",
    "decode_request",
    "decode_spans",
    "encode_records",
    "encode_spans",
    "expand",
    "has_schema",
    "hex_id",
    "key_values",
    "make_span",
    "merge_signals",
    "read_file",
    "readers",
    "recorded_decisions",
    "recorded_signals",
    "register_format",
    "register_reader",
    "session_events",
    "session_key",
    "span_from_row",
    "span_row",
    "spans_from_request",
    "split_by_trace",
    "trace_keys",
    "unregister_reader",
]
