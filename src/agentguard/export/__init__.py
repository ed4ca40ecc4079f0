"""Export pipelines: :func:`configure` and the local store.

- :func:`configure` installs an OpenTelemetry SDK pipeline (OTLP when an endpoint is configured,
  else the local store) and returns a :class:`Telemetry` handle.
- :class:`LocalStoreSpanExporter` writes spans into the local SQLite store; use it in your own
  pipeline if you build one.
- :class:`LocalStore` reads it back: recent runs and their spans.
"""

from __future__ import annotations

from ._configure import ExportStats, Telemetry, configure
from ._exporter import LocalStoreSpanExporter
from ._sqlite import SchemaError
from .store import LocalStore, RunRecord, SpanRecord, default_store_path

__all__ = [
    "ExportStats",
    "LocalStore",
    "LocalStoreSpanExporter",
    "RunRecord",
    "SchemaError",
    "SpanRecord",
    "Telemetry",
    "configure",
    "default_store_path",
]
