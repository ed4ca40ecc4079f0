"""Building the optional exporters: OTLP (HTTP/protobuf or gRPC) and Prometheus.

Each lives in an extra; a missing one raises :class:`ImportError` naming the ``pip install`` that
fixes it. Endpoints, headers, timeouts, compression and TLS settings not given here are read by the
OpenTelemetry exporters themselves from the standard ``OTEL_EXPORTER_OTLP_*`` variables.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from opentelemetry.sdk._logs.export import LogRecordExporter as LogExporter
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.trace.export import SpanExporter

Protocol = Literal["http/protobuf", "grpc"]
Signal = Literal["traces", "metrics", "logs"]

PROTOCOLS: Final = ("http/protobuf", "grpc")
_OTLP_INSTALL: Final = "pip install 'agentguard[otlp]'"
_PROMETHEUS_INSTALL: Final = "pip install 'agentguard[prometheus]'"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def endpoint_configured(signal: Signal) -> bool:
    """Whether the environment names an OTLP endpoint for ``signal``."""
    return bool(_env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"))


def resolve_protocol(protocol: str | None, signal: Signal) -> Protocol:
    """The argument, else ``OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL``, ``OTEL_EXPORTER_OTLP_PROTOCOL``,
    else ``http/protobuf``."""
    chosen = (
        protocol
        or _env(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or _env("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if chosen == "http/protobuf":
        return "http/protobuf"
    if chosen == "grpc":
        return "grpc"
    raise ValueError(f"unsupported OTLP protocol {chosen!r} for {signal}; use one of {', '.join(PROTOCOLS)}")


def _signal_url(endpoint: str, signal: Signal) -> str:
    # OTLP/HTTP exporters take the full URL of the signal; ``endpoint`` is the base, as in
    # OTEL_EXPORTER_OTLP_ENDPOINT.
    return f"{endpoint.rstrip('/')}/v1/{signal}"


def _missing(what: str, install: str, exc: ImportError) -> ImportError:
    return ImportError(f"{what} needs an optional dependency that is not installed ({exc}); run: {install}")


def span_exporter(protocol: Protocol, endpoint: str | None) -> SpanExporter:
    """An OTLP span exporter; ``endpoint=None`` lets it read the ``OTEL_EXPORTER_OTLP_*`` variables."""
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )

            return GrpcSpanExporter(endpoint=endpoint)
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=_signal_url(endpoint, "traces") if endpoint else None)
    except ImportError as exc:
        raise _missing(f"OTLP export over {protocol}", _OTLP_INSTALL, exc) from exc


def metric_exporter(protocol: Protocol, endpoint: str | None) -> MetricExporter:
    """An OTLP metric exporter, configured like :func:`span_exporter`."""
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcMetricExporter,
            )

            return GrpcMetricExporter(endpoint=endpoint)
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(endpoint=_signal_url(endpoint, "metrics") if endpoint else None)
    except ImportError as exc:
        raise _missing(f"OTLP metric export over {protocol}", _OTLP_INSTALL, exc) from exc


def log_exporter(protocol: Protocol, endpoint: str | None) -> LogExporter:
    """An OTLP log record exporter, configured like :func:`span_exporter`."""
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
                OTLPLogExporter as GrpcLogExporter,
            )

            return GrpcLogExporter(endpoint=endpoint)
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=_signal_url(endpoint, "logs") if endpoint else None)
    except ImportError as exc:
        raise _missing(f"OTLP log export over {protocol}", _OTLP_INSTALL, exc) from exc


class PrometheusEndpoint:
    """A ``/metrics`` endpoint on ``host:port`` (port 0 picks a free one) and the reader feeding it."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
            from prometheus_client import start_http_server
        except ImportError as exc:
            raise _missing("The Prometheus endpoint", _PROMETHEUS_INSTALL, exc) from exc
        self._server, self._thread = start_http_server(port, addr=host)
        self.host = host
        self.port: int = self._server.server_port
        self.reader: MetricReader = PrometheusMetricReader()

    def close(self) -> None:
        """Stop serving (the reader is shut down with its meter provider)."""
        self._server.shutdown()
        self._server.server_close()


class _OncePerMessage(logging.Filter):
    """Let the first record of each message template through; later ones become DEBUG records."""

    def __init__(self) -> None:
        super().__init__("agentguard.once")
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG:
            return True
        key = (record.name, str(record.msg))
        with self._lock:
            first = key not in self._seen
            self._seen.add(key)
        if first:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_once = _OncePerMessage()


def log_each_fault_once(exporter: object) -> None:
    """Make an OpenTelemetry exporter log each kind of fault once, not on every batch or retry.

    The filter goes on the loggers of the modules that define the exporter's classes (the OTLP
    exporters log through their own module's logger); later records of the same message are DEBUG.
    """
    modules = {cls.__module__ for cls in type(exporter).__mro__} | set(_SHARED_LOGGERS)
    for module in modules:
        if module.startswith("opentelemetry."):
            log = logging.getLogger(module)
            if _once not in log.filters:
                log.addFilter(_once)


# Helpers the OTLP exporters share, with loggers of their own.
_SHARED_LOGGERS: Final = (
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
)
