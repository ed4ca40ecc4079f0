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
  which span carries the conversation id, spilling to a temporary SQLite file on large inputs;
  :func:`summarise` and :class:`SessionIndex` apply the same rule to inputs read in parallel parts.
- A :class:`Reader` turns one convention's spans into detector events; :func:`register_reader` adds
  one, :func:`session_events` runs them all. :func:`recorded_signals` reads the signals already on
  the spans. A :class:`FileFormat` (:func:`register_format`) adds an input format.
- The local store's schema lives in :mod:`agentguard.traces._store_schema`.
"""

from __future__ import annotations

from ._assembly import (
    CONVERSATION_ATTRIBUTES,
    SessionAssembler,
    UnionFind,
    assemble,
    build_session,
    joining_links,
    key_nodes,
    session_id,
    session_key,
)
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
from ._record import (
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    Span,
    SpanEvent,
    SpanLink,
    make_span,
    span_from_tuple,
    span_tuple,
)
from ._session import Session
from ._spool import DEFAULT_MEMORY_SPANS, Row
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
from ._summaries import SessionIndex, TraceSummary, summarise

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
    "Row",
    "SchemaError",
    "Session",
    "SessionAssembler",
    "SessionIndex",
    "Span",
    "SpanEvent",
    "SpanLink",
    "TimedEvent",
    "TraceSummary",
    "UnionFind",
    "any_value",
    "assemble",
    "attribute_filter",
    "build_session",
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
    "joining_links",
    "key_nodes",
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
    "session_id",
    "session_key",
    "span_from_row",
    "span_from_tuple",
    "span_row",
    "span_tuple",
    "spans_from_request",
    "split_by_trace",
    "summarise",
    "trace_keys",
    "unregister_reader",
]
