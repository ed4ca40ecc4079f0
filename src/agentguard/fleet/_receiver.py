"""The monitor's inputs: an OTLP/HTTP receiver and a follower of the Collector's file exporter output.

The receiver answers ``POST /v1/traces`` and ``POST /v1/logs`` with ``application/x-protobuf`` or
``application/json`` bodies (``Content-Encoding: gzip`` too), as the OpenTelemetry Collector's
``otlphttp`` exporter and the SDKs' OTLP/HTTP exporters send them. A request is answered ``200`` only
after its spans are committed to the journal; a body it cannot decode gets ``400`` with the reason, a
journal failure ``503`` (the exporter retries). It binds to loopback unless told otherwise.

:class:`FileFollower` reads OTLP JSON lines as a file grows (the Collector's ``file`` exporter),
remembering its offset in the journal, so a restart neither skips nor repeats a line; a rotated file
(new inode, or shorter than the offset) is read from its start.
"""

from __future__ import annotations

import gzip
import importlib
import json
import logging
import os
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from ..traces import FormatError, Span, decode_line, decode_request
from ._journal import Journal

log = logging.getLogger("agentguard.monitor")

MAX_BODY: Final = 64 * 1024 * 1024
PROTOBUF: Final = "application/x-protobuf"
_PATHS: Final = {"/v1/traces": "traces", "/v1/logs": "logs"}


def _protobuf_types() -> tuple[Any, Any, Any]:
    # imported by name: protobuf ships no type stubs, and the otlp extra may be missing
    json_format = importlib.import_module("google.protobuf.json_format")
    logs = importlib.import_module("opentelemetry.proto.collector.logs.v1.logs_service_pb2")
    traces = importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    return traces.ExportTraceServiceRequest, logs.ExportLogsServiceRequest, json_format.MessageToDict


def decode_body(signal: str, content_type: str, body: bytes) -> list[Span]:
    """The spans (or log records, as zero-length spans) of one OTLP/HTTP request body."""
    if content_type.split(";", 1)[0].strip().lower() == PROTOBUF:
        try:
            traces_cls, logs_cls, to_dict = _protobuf_types()
        except ImportError as exc:
            raise FormatError(f"protobuf bodies need the otlp extra ({exc})") from exc
        cls = traces_cls if signal == "traces" else logs_cls
        try:
            doc = to_dict(cls.FromString(body))
        except Exception as exc:
            raise FormatError(f"not an OTLP {signal} protobuf message: {type(exc).__name__}") from exc
    else:
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise FormatError(f"not JSON: {exc}") from exc
    return list(decode_request(doc))


def _parse_trace_request(data: bytes) -> Any:
    try:
        traces_cls, _, _ = _protobuf_types()
    except ImportError as exc:
        raise FormatError(f"protobuf bodies need the otlp extra ({exc})") from exc
    try:
        return traces_cls.FromString(data)
    except Exception as exc:
        raise FormatError(f"not an OTLP traces protobuf message: {type(exc).__name__}") from exc


def _decompress(encoding: str, body: bytes) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    raise FormatError(f"unsupported Content-Encoding {encoding!r}")


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("receiver: " + format, *args)

    def do_POST(self) -> None:
        signal = _PATHS.get(self.path.split("?", 1)[0])
        if signal is None:
            self._answer(404, "unknown path; use /v1/traces or /v1/logs")
            return
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            self._answer(400, "bad Content-Length")
            return
        if length < 0 or length > MAX_BODY:
            self._answer(413, f"body over {MAX_BODY} bytes")
            return
        body = self.rfile.read(length)
        content_type = self.headers.get("Content-Type") or "application/json"
        protobuf = content_type.split(";", 1)[0].strip().lower() == PROTOBUF
        journal = self.server.journal
        try:
            data = _decompress(self.headers.get("Content-Encoding") or "", body)
            request = _parse_trace_request(data) if protobuf and signal == "traces" else None
            spans = decode_body(signal, content_type, data) if request is None else []
        except (FormatError, OSError, EOFError, zlib.error) as exc:
            self._answer(400, str(exc))
            return
        try:
            count = journal.append(spans) if request is None else journal.append_protobuf(request)
        except Exception as exc:
            log.warning("monitor journal write failed: %s: %s", type(exc).__name__, exc)
            self._answer(503, "journal unavailable")
            return
        self.server.received(count)
        if protobuf:
            self._answer(200, b"", PROTOBUF)
        else:
            self._answer(200, b"{}", "application/json")

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._answer(200, b"ok", "text/plain")
        else:
            self._answer(404, "not found")

    def _answer(self, status: int, body: str | bytes, content_type: str = "text/plain") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Receiver(ThreadingHTTPServer):
    """The OTLP/HTTP receiver (``serve_forever`` in a thread; ``shutdown`` stops it)."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, journal: Journal, *, host: str = "127.0.0.1", port: int = 4319) -> None:
        self.journal = journal
        self.spans_received = 0
        self._count_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def received(self, n: int) -> None:
        with self._count_lock:
            self.spans_received += n


class FileFollower:
    """Reads new OTLP JSON lines from a growing file into the journal (see the module docstring)."""

    def __init__(self, journal: Journal, path: str | Path) -> None:
        self.journal = journal
        self.path = Path(path)
        self.key = str(self.path.resolve())
        self.bad_lines = 0

    def poll(self, max_bytes: int = 8 * 1024 * 1024) -> int:
        """Read what was appended since the last poll (whole lines only); returns the span count."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0
        known = self.journal.follow_offset(self.key)
        offset = 0
        if known is not None and known[0] == st.st_ino and known[1] <= st.st_size:
            offset = known[1]
        if offset >= st.st_size:
            return 0
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(max_bytes)
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0
        spans: list[Span] = []
        for line in chunk[: end + 1].splitlines():
            if not line.strip():
                continue
            try:
                spans.extend(decode_line(line))
            except (FormatError, ValueError):
                self.bad_lines += 1
        self.journal.append(spans, follow=(self.key, st.st_ino, offset + end + 1))
        return len(spans)
