"""OTLP protobuf files: one serialized ``ExportTraceServiceRequest`` per file, or several, each
preceded by its length as a varint (protobuf's delimited stream). A file whose name mentions ``log``
holds ``ExportLogsServiceRequest`` messages instead. Needs the ``otlp`` extra (``opentelemetry-proto``).

Each message goes through protobuf's JSON mapping and then the OTLP JSON codec, so both formats give the
same records.
"""

from __future__ import annotations

import gzip
import importlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._otlp_json import FormatError, decode_spans
from ._readers import AttributeFilter
from ._record import Span


def _message_types() -> tuple[Any, Any, Any]:
    # imported by name: protobuf ships no type stubs, and the otlp extra may be missing
    json_format = importlib.import_module("google.protobuf.json_format")
    logs = importlib.import_module("opentelemetry.proto.collector.logs.v1.logs_service_pb2")
    traces = importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    return traces.ExportTraceServiceRequest, logs.ExportLogsServiceRequest, json_format.MessageToDict


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated length prefix")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _messages(data: bytes, cls: Any) -> list[Any]:
    """The messages of a file: the whole file as one message, else a delimited stream."""
    decode_error = importlib.import_module("google.protobuf.message").DecodeError
    try:
        whole = cls.FromString(data)
    except decode_error:
        whole = None
    if whole is not None and (whole.ListFields() or not data):
        return [whole]
    out = []
    pos = 0
    while pos < len(data):
        size, pos = _varint(data, pos)
        if pos + size > len(data):
            raise ValueError("a message runs past the end of the file")
        out.append(cls.FromString(data[pos : pos + size]))
        pos += size
    return out


def read_protobuf(path: Path, issues: list[Any], attributes: AttributeFilter) -> Iterator[Span]:
    from ._files import ReadIssue

    try:
        traces_cls, logs_cls, to_dict = _message_types()
    except ImportError as exc:
        issues.append(
            ReadIssue(
                str(path),
                0,
                f"reading OTLP protobuf needs pip install 'agentguard[otlp]' ({exc})",
                fatal=True,
            )
        )
        return
    try:
        data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        issues.append(ReadIssue(str(path), 0, f"cannot read: {exc}", fatal=True))
        return
    cls = logs_cls if "log" in path.name.lower() else traces_cls
    try:
        messages = _messages(data, cls)
    except Exception as exc:  # DecodeError and a broken length prefix alike: the file is not OTLP
        issues.append(ReadIssue(str(path), 0, f"not an OTLP protobuf file: {exc}", fatal=True))
        return
    for number, message in enumerate(messages, 1):
        try:
            spans = decode_spans(to_dict(message), attributes.keys, attributes.prefixes)
        except FormatError as exc:
            issues.append(ReadIssue(str(path), number, str(exc)))
            continue
        yield from spans
