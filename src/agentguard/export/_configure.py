"""``agentguard.configure()``: the one helper that installs an OpenTelemetry SDK pipeline.

::

    import agentguard as ag

    telemetry = ag.configure()                         # spans into .agentguard/agentguard.db
    telemetry = ag.configure(endpoint="http://localhost:4318", service_name="fixer")  # OTLP
    telemetry = ag.configure(prometheus_port=9464)     # and metrics on 127.0.0.1:9464/metrics

Where spans go:

- **OTLP** when ``endpoint`` is given or ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set; HTTP/protobuf unless ``protocol`` or
  ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`` says ``grpc``. Headers, timeouts, compression and TLS come
  from the standard ``OTEL_EXPORTER_OTLP_*`` variables, read by the OpenTelemetry exporters.
  Metrics go over OTLP too when ``endpoint``, ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` is set (and ``OTEL_METRICS_EXPORTER`` is not ``none``).
- **The local store** (SQLite, read by ``agentguard runs``) otherwise, or in addition when
  ``store_path`` or ``$AGENTGUARD_STORE`` is given explicitly.

The OpenTelemetry globals can be set only once per process, so ``configure()`` installs its pipeline
once: a second call returns the same :class:`Telemetry` handle and warns (its arguments are ignored).
If another library already set the global tracer provider, agentguard leaves it alone, warns, and
returns a handle whose providers can be passed to ``agentguard.Guard(tracer_provider=...)``.

Spans are flushed when the interpreter exits (the SDK providers register ``atexit`` shutdown) or on
:meth:`Telemetry.shutdown`.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.util.types import AttributeValue

from ..guard import default_guard
from . import _otlp
from ._exporter import LocalStoreSpanExporter
from .store import STORE_ENV, default_store_path

logger = logging.getLogger("agentguard")

DEFAULT_SERVICE_NAME: Final = "agentguard-app"
PROMETHEUS_PORT_ENV: Final = "AGENTGUARD_PROMETHEUS_PORT"

SpanProcessorKind = Literal["batch", "simple"]


class Telemetry:
    """What :func:`configure` installed: the providers, where spans go, and flush/shutdown.

    ``store_path`` is the local store (``None`` when spans go only to OTLP), ``otlp_protocol`` the
    OTLP protocol in use (``None`` without OTLP), ``local_exporter.dropped`` counts spans the local
    store could not write.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        store_path: Path | None,
        span_exporters: tuple[SpanExporter, ...],
        metric_readers: tuple[MetricReader, ...],
        local_exporter: LocalStoreSpanExporter | None,
        otlp_protocol: _otlp.Protocol | None,
        prometheus: _otlp.PrometheusEndpoint | None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.store_path = store_path
        self.span_exporters = span_exporters
        self.metric_readers = metric_readers
        self.local_exporter = local_exporter
        self.otlp_protocol = otlp_protocol
        self._prometheus = prometheus
        self._lock = threading.Lock()
        self._shut_down = False

    @property
    def prometheus_port(self) -> int | None:
        """The port serving ``/metrics`` on 127.0.0.1, if any."""
        return self._prometheus.port if self._prometheus is not None else None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered now; ``True`` when both providers finished in time."""
        spans_ok = self.tracer_provider.force_flush(timeout_millis)
        metrics_ok = self.meter_provider.force_flush(timeout_millis)
        return bool(spans_ok and metrics_ok)

    def shutdown(self) -> None:
        """Flush and stop the pipeline (idempotent; also runs at interpreter exit)."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        if self._prometheus is not None:
            self._prometheus.close()

    def __repr__(self) -> str:
        return (
            f"Telemetry(store_path={self.store_path!r}, otlp_protocol={self.otlp_protocol!r}, "
            f"prometheus_port={self.prometheus_port!r})"
        )


_lock = threading.Lock()
_installed: Telemetry | None = None


def configure(
    *,
    service_name: str = DEFAULT_SERVICE_NAME,
    endpoint: str | None = None,
    protocol: _otlp.Protocol | None = None,
    store_path: str | os.PathLike[str] | None = None,
    resource_attributes: Mapping[str, AttributeValue] | None = None,
    prometheus_port: int | None = None,
    capture_content: bool | None = None,
    span_processor: SpanProcessorKind = "batch",
) -> Telemetry:
    """Install an OpenTelemetry SDK pipeline and make it global (see the module docstring).

    ``endpoint`` is the OTLP base endpoint (``http://host:4318`` for HTTP, ``http://host:4317`` for
    gRPC). ``store_path`` defaults to ``$AGENTGUARD_STORE`` or ``.agentguard/agentguard.db`` under the
    current directory. ``prometheus_port`` (or ``$AGENTGUARD_PROMETHEUS_PORT``; 0 picks a free port)
    serves metrics on 127.0.0.1. ``capture_content``, when given, is set on the default guard.
    ``span_processor="simple"`` exports each span as it ends (for short scripts and tests).

    Raises :class:`ImportError` naming the extra to install when OTLP or Prometheus is requested
    without it, and :class:`ValueError` for an unknown protocol or span processor.
    """
    global _installed  # noqa: PLW0603 - the OTel globals are set once, behind this lock
    if span_processor not in ("batch", "simple"):
        raise ValueError(f"span_processor must be 'batch' or 'simple', not {span_processor!r}")
    with _lock:
        if _installed is not None:
            warnings.warn(
                "agentguard.configure() was already called in this process; returning the existing "
                "pipeline (OpenTelemetry's global providers can be set only once)",
                RuntimeWarning,
                stacklevel=2,
            )
            return _installed
        telemetry = _build(
            service_name=service_name,
            endpoint=endpoint,
            protocol=protocol,
            store_path=store_path,
            resource_attributes=resource_attributes,
            prometheus_port=_prometheus_port(prometheus_port),
            span_processor=span_processor,
        )
        _install_globals(telemetry)
        _installed = telemetry
    if capture_content is not None:
        default_guard().capture_content = capture_content
    return telemetry


def _prometheus_port(port: int | None) -> int | None:
    if port is not None:
        return port
    env = os.environ.get(PROMETHEUS_PORT_ENV, "").strip()
    if not env:
        return None
    try:
        return int(env)
    except ValueError:
        raise ValueError(f"{PROMETHEUS_PORT_ENV} must be a port number, not {env!r}") from None


def _resource(service_name: str, extra: Mapping[str, AttributeValue] | None) -> Resource:
    attributes: dict[str, AttributeValue] = {}
    # An explicit service name wins; the default yields to OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    env_names_service = bool(os.environ.get("OTEL_SERVICE_NAME")) or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if service_name != DEFAULT_SERVICE_NAME or not env_names_service:
        attributes[SERVICE_NAME] = service_name
    attributes.update(extra or {})
    return Resource.create(attributes)


def _processor(kind: SpanProcessorKind, exporter: SpanExporter) -> SpanProcessor:
    return SimpleSpanProcessor(exporter) if kind == "simple" else BatchSpanProcessor(exporter)


def _build(
    *,
    service_name: str,
    endpoint: str | None,
    protocol: _otlp.Protocol | None,
    store_path: str | os.PathLike[str] | None,
    resource_attributes: Mapping[str, AttributeValue] | None,
    prometheus_port: int | None,
    span_processor: SpanProcessorKind,
) -> Telemetry:
    # Everything that can fail (missing extras, bad settings) runs before anything is started.
    exporters: list[SpanExporter] = []
    otlp_protocol: _otlp.Protocol | None = None
    if endpoint or _otlp.endpoint_configured("traces"):
        otlp_protocol = _otlp.resolve_protocol(protocol, "traces")
        exporters.append(_otlp.span_exporter(otlp_protocol, endpoint))

    local: LocalStoreSpanExporter | None = None
    explicit_store = store_path is not None or bool(os.environ.get(STORE_ENV, "").strip())
    if otlp_protocol is None or explicit_store:
        local = LocalStoreSpanExporter(Path(store_path) if store_path is not None else default_store_path())
        exporters.append(local)

    readers: list[MetricReader] = []
    metrics_off = os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower() == "none"
    if not metrics_off and (endpoint or _otlp.endpoint_configured("metrics")):
        metrics_protocol = _otlp.resolve_protocol(protocol, "metrics")
        readers.append(PeriodicExportingMetricReader(_otlp.metric_exporter(metrics_protocol, endpoint)))

    prometheus = _otlp.PrometheusEndpoint(prometheus_port) if prometheus_port is not None else None
    try:
        if prometheus is not None:
            readers.append(prometheus.reader)
        resource = _resource(service_name, resource_attributes)
        tracer_provider = TracerProvider(resource=resource)
        for exporter in exporters:
            tracer_provider.add_span_processor(_processor(span_processor, exporter))
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    except BaseException:
        if prometheus is not None:
            prometheus.close()
        raise

    destinations = [f"OTLP ({otlp_protocol})"] if otlp_protocol else []
    if local is not None:
        destinations.append(f"the local store {local.path}")
    if prometheus is not None:
        destinations.append(f"Prometheus on http://127.0.0.1:{prometheus.port}/metrics")
    logger.info("agentguard: telemetry to %s", " and ".join(destinations))
    return Telemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        store_path=local.path if local is not None else None,
        span_exporters=tuple(exporters),
        metric_readers=tuple(readers),
        local_exporter=local,
        otlp_protocol=otlp_protocol,
        prometheus=prometheus,
    )


def _install_globals(telemetry: Telemetry) -> None:
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        warnings.warn(
            "an OpenTelemetry tracer provider was already installed in this process; agentguard keeps "
            "it and does not install its own globally: pass Telemetry.tracer_provider and "
            "Telemetry.meter_provider to agentguard.Guard(...) to use agentguard's pipeline",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
