"""An SDK span exporter writing OTLP JSON lines, the format of the OpenTelemetry Collector's file
exporter (one ``ExportTraceServiceRequest`` per export call, one per line).

>>> from opentelemetry.sdk.trace import TracerProvider
>>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
>>> provider = TracerProvider()
>>> exporter = OtlpJsonFileExporter("/tmp/traces.jsonl")  # doctest: +SKIP
>>> provider.add_span_processor(SimpleSpanProcessor(exporter))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import IO, Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ..traces import encode_spans


class OtlpJsonFileExporter(SpanExporter):
    """Append each batch of spans to ``path`` as one OTLP JSON line (thread-safe)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in shutdown

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        line = json.dumps(encode_spans(spans), separators=(",", ":"), ensure_ascii=False, default=_default)
        with self._lock:
            if self._file is None:
                return SpanExportResult.FAILURE
            self._file.write(line + "\n")
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            if self._file is not None:
                self._file.flush()
        return True


def _default(obj: Any) -> Any:
    return str(obj)
