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
  ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` is set (and ``OTEL_METRICS_EXPORTER`` is not ``none``), and
  log records (each detector signal as a ``gen_ai.evaluation.result``) when ``endpoint``,
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`` is set (and
  ``OTEL_LOGS_EXPORTER`` is not ``none``).
- **The local store** (SQLite, read by ``agentguard runs``) otherwise, or in addition when
  ``store_path`` or ``$AGENTGUARD_STORE`` is given explicitly.

The OpenTelemetry globals can be set only once per process, so ``configure()`` installs its pipeline
once: a second call returns the same :class:`Telemetry` handle and warns (its arguments are ignored).
If another library already set the global tracer provider, agentguard leaves it alone, warns, and
returns a handle whose providers can be passed to ``agentguard.Guard(tracer_provider=...)``.

What is never lost and what is bounded:

- Spans are batched by :class:`~agentguard.export._batch.LosslessBatchSpanProcessor`: a full queue
  (65,536 spans) makes the thread ending a span wait for the local store (up to 5 s) instead of dropping
  it; for OTLP it drops at once (a dead collector must not slow the agent) and counts it. Every drop is
  counted (:meth:`Telemetry.stats`) and warned about once.
- Every span passes :class:`~agentguard.export._redacting.RedactingSpanExporter` first: secrets are
  redacted from attribute values, exception events and status descriptions whatever recorded them;
  while the default guard's content capture is off (the default), agentguard's own spans also lose
  every value that can quote an argument (arguments, results, evidence excerpts, exception messages).
- :meth:`Telemetry.shutdown` (also run at interpreter exit) waits at most ``shutdown_timeout_s``
  (default 2 s) for the exporters, then returns an :class:`ExportStats` saying what was not sent.
- Each kind of fault (a dead endpoint, a locked store) is logged once per process, not per batch.
- ``flush_on_sigterm=True`` makes SIGTERM end the process like ``sys.exit(143)`` (only when SIGTERM
  still has its default action and ``configure()`` runs in the main thread): the running
  ``@guarded`` function unwinds, its run is stored with an error status, and the exit flushes. The same
  by hand, in the application: ``signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))``.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final, Literal

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.util.types import AttributeValue

from .. import _safe
from ..guard import default_guard
from . import _otlp
from ._batch import LosslessBatchSpanProcessor
from ._exporter import LocalStoreSpanExporter
from ._redacting import RedactingSpanExporter
from .store import STORE_ENV, default_store_path

logger = logging.getLogger("agentguard")

DEFAULT_SERVICE_NAME: Final = "agentguard-app"
PROMETHEUS_PORT_ENV: Final = "AGENTGUARD_PROMETHEUS_PORT"

SpanProcessorKind = Literal["batch", "simple"]
DEFAULT_SHUTDOWN_TIMEOUT_S: Final = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportStats:
    """What the span pipeline did: spans exported, never handed to an exporter (``dropped``),
    rejected by an exporter (``failed``: an unreachable endpoint, a locked store), and still queued
    when shutdown stopped waiting (``unsent``). ``complete`` is whether shutdown finished in time."""

    exported: int = 0
    dropped: int = 0
    failed: int = 0
    unsent: int = 0
    complete: bool = True

    @property
    def lost(self) -> int:
        """Spans that did not reach every destination."""
        return self.dropped + self.failed + self.unsent


class Telemetry:
    """What :func:`configure` installed: the providers, where spans go, and flush/shutdown.

    ``store_path`` is the local store (``None`` when spans go only to OTLP), ``otlp_protocol`` the
    OTLP protocol in use (``None`` without OTLP). :meth:`stats` counts what was exported, dropped,
    rejected by an exporter and left unsent; ``local_exporter.lost`` is what the local store missed.
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
        processors: tuple[LosslessBatchSpanProcessor, ...] = (),
        shutdown_timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S,
        logger_provider: LoggerProvider | None = None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        """Exports log records (the detectors' ``gen_ai.evaluation.result``) over OTLP; ``None``
        without an OTLP logs endpoint."""
        self.store_path = store_path
        self.span_exporters = span_exporters
        self.metric_readers = metric_readers
        self.local_exporter = local_exporter
        self.otlp_protocol = otlp_protocol
        self._prometheus = prometheus
        self.processors = processors
        self.shutdown_timeout_s = shutdown_timeout_s
        self._lock = threading.Lock()
        self._shut_down = False
        self._final: ExportStats | None = None

    @property
    def prometheus_port(self) -> int | None:
        """The port serving ``/metrics`` on 127.0.0.1, if any."""
        return self._prometheus.port if self._prometheus is not None else None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered now; ``True`` when both providers finished in time."""
        spans_ok = self.tracer_provider.force_flush(timeout_millis)
        metrics_ok = self.meter_provider.force_flush(timeout_millis)
        logs_ok = self.logger_provider.force_flush(timeout_millis) if self.logger_provider else True
        return bool(spans_ok and metrics_ok and logs_ok)

    def stats(self) -> ExportStats:
        """Counts summed over the batching processors (the local store's and OTLP's)."""
        if self._final is not None:
            return self._final
        return ExportStats(
            exported=sum(p.exported for p in self.processors),
            dropped=sum(p.dropped for p in self.processors),
            failed=sum(p.failed for p in self.processors),
            unsent=sum(p.unsent for p in self.processors),
        )

    def shutdown(self, timeout_s: float | None = None) -> ExportStats:
        """Flush and stop the pipeline, waiting at most ``timeout_s`` (default ``shutdown_timeout_s``).

        Idempotent; also runs at interpreter exit. What was not sent in time is counted in the
        returned :class:`ExportStats` and logged as one warning.
        """
        with self._lock:
            if self._shut_down:
                return self.stats()
            self._shut_down = True
        bound = self.shutdown_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + bound
        # The whole sequence runs on a daemon thread: an exporter that ignores its timeout (a socket
        # that accepts and never answers) cannot hold the caller, or the interpreter at exit.
        worker = threading.Thread(
            target=self._stop, args=(deadline,), name="agentguard-shutdown", daemon=True
        )
        worker.start()
        worker.join(max(deadline - time.monotonic(), 0) + 0.1)
        complete = not worker.is_alive()
        stats = self.stats()
        self._final = ExportStats(
            exported=stats.exported,
            dropped=stats.dropped,
            failed=stats.failed,
            unsent=stats.unsent,
            complete=complete,
        )
        if self._final.lost or not complete:
            logger.warning(
                "agentguard: telemetry shut down after at most %.1fs: %d spans exported, %d dropped, "
                "%d rejected by an exporter, %d not sent%s",
                bound,
                self._final.exported,
                self._final.dropped,
                self._final.failed,
                self._final.unsent,
                "" if complete else " (an exporter did not stop in time)",
            )
        return self._final

    def _stop(self, deadline: float) -> None:
        # Each processor and the metrics get the whole bound, in parallel: a dead OTLP endpoint
        # must not use up the time the local store needs.
        def remaining() -> float:
            return max(deadline - time.monotonic(), 0.0)

        def stop_metrics() -> None:
            self.meter_provider.shutdown(timeout_millis=remaining() * 1000)

        def stop_logs() -> None:
            if self.logger_provider is not None:
                self.logger_provider.shutdown()

        def guarded(step: Callable[[], object]) -> Callable[[], None]:
            def run() -> None:
                try:
                    step()
                except Exception as exc:
                    _safe.report("export.shutdown", exc)

            return run

        for processor in self.processors:
            processor.timeout_s = remaining()
        steps = [*(p.shutdown for p in self.processors), stop_metrics, stop_logs]
        threads = [threading.Thread(target=guarded(step), daemon=True) for step in steps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(remaining())
        try:
            self.tracer_provider.shutdown()  # the processors are stopped: this is quick
        except Exception as exc:
            _safe.report("export.shutdown", exc)
        finally:
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
    shutdown_timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S,
    flush_on_sigterm: bool = False,
) -> Telemetry:
    """Install an OpenTelemetry SDK pipeline and make it global (see the module docstring).

    ``endpoint`` is the OTLP base endpoint (``http://host:4318`` for HTTP, ``http://host:4317`` for
    gRPC). ``store_path`` defaults to ``$AGENTGUARD_STORE`` or ``.agentguard/agentguard.db`` under the
    current directory. ``prometheus_port`` (or ``$AGENTGUARD_PROMETHEUS_PORT``; 0 picks a free port)
    serves metrics on 127.0.0.1. ``capture_content``, when given, is set on the default guard.
    ``span_processor="simple"`` exports each span as it ends (for short scripts and tests).
    ``shutdown_timeout_s`` bounds how long shutdown and interpreter exit wait for the exporters.
    ``flush_on_sigterm=True`` turns SIGTERM into ``sys.exit(143)`` (see the module docstring).

    Raises :class:`ImportError` naming the extra to install when OTLP or Prometheus is requested
    without it, and :class:`ValueError` for an unknown protocol or span processor.
    """
    global _installed  # noqa: PLW0603 - the OTel globals are set once, behind this lock
    if span_processor not in ("batch", "simple"):
        raise ValueError(f"span_processor must be 'batch' or 'simple', not {span_processor!r}")
    if not shutdown_timeout_s >= 0:
        raise ValueError(f"shutdown_timeout_s must be a non-negative number, not {shutdown_timeout_s!r}")
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
            shutdown_timeout_s=shutdown_timeout_s,
        )
        _install_globals(telemetry)
        atexit.register(telemetry.shutdown)
        _installed = telemetry
    if capture_content is not None:
        default_guard().capture_content = capture_content
    if flush_on_sigterm:
        _exit_on_sigterm()
    return telemetry


def _exit_on_sigterm() -> None:
    """SIGTERM raises ``SystemExit(143)`` in the main thread, so ``finally`` blocks, runs and atexit run."""
    if threading.current_thread() is not threading.main_thread():
        logger.warning("agentguard: flush_on_sigterm needs configure() in the main thread; not installed")
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        logger.info("agentguard: SIGTERM already has a handler; flush_on_sigterm leaves it in place")
        return

    def _on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, _on_sigterm)


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


def _default_capture() -> bool:
    return bool(default_guard().capture_content)


def _processor(
    kind: SpanProcessorKind,
    exporter: SpanExporter,
    *,
    local: LocalStoreSpanExporter | None,
    name: str,
    timeout_s: float,
) -> SpanProcessor:
    redacting = RedactingSpanExporter(exporter, capture_content=_default_capture)
    if kind == "simple":
        return SimpleSpanProcessor(redacting)
    # The local store makes a full queue wait (no span lost); OTLP drops and counts instead, so an
    # unreachable collector never slows the agent down.
    return LosslessBatchSpanProcessor(
        redacting,
        block_s=5.0 if local is not None else 0.0,
        timeout_s=timeout_s,
        name=name,
        on_lost=local.note_lost if local is not None else None,
    )


def _build(
    *,
    service_name: str,
    endpoint: str | None,
    protocol: _otlp.Protocol | None,
    store_path: str | os.PathLike[str] | None,
    resource_attributes: Mapping[str, AttributeValue] | None,
    prometheus_port: int | None,
    span_processor: SpanProcessorKind,
    shutdown_timeout_s: float = DEFAULT_SHUTDOWN_TIMEOUT_S,
) -> Telemetry:
    # Everything that can fail (missing extras, bad settings) runs before anything is started.
    exporters: list[SpanExporter] = []
    otlp_protocol: _otlp.Protocol | None = None
    if endpoint or _otlp.endpoint_configured("traces"):
        otlp_protocol = _otlp.resolve_protocol(protocol, "traces")
        otlp_exporter = _otlp.span_exporter(otlp_protocol, endpoint)
        _otlp.log_each_fault_once(otlp_exporter)
        exporters.append(otlp_exporter)

    local: LocalStoreSpanExporter | None = None
    explicit_store = store_path is not None or bool(os.environ.get(STORE_ENV, "").strip())
    if otlp_protocol is None or explicit_store:
        local = LocalStoreSpanExporter(Path(store_path) if store_path is not None else default_store_path())
        exporters.append(local)

    readers: list[MetricReader] = []
    metrics_off = os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower() == "none"
    if not metrics_off and (endpoint or _otlp.endpoint_configured("metrics")):
        metrics_protocol = _otlp.resolve_protocol(protocol, "metrics")
        metric_exporter = _otlp.metric_exporter(metrics_protocol, endpoint)
        _otlp.log_each_fault_once(metric_exporter)
        readers.append(PeriodicExportingMetricReader(metric_exporter))

    log_exporter = None
    logs_off = os.environ.get("OTEL_LOGS_EXPORTER", "").strip().lower() == "none"
    if not logs_off and (endpoint or _otlp.endpoint_configured("logs")):
        log_exporter = _otlp.log_exporter(_otlp.resolve_protocol(protocol, "logs"), endpoint)
        _otlp.log_each_fault_once(log_exporter)

    prometheus = _otlp.PrometheusEndpoint(prometheus_port) if prometheus_port is not None else None
    try:
        if prometheus is not None:
            readers.append(prometheus.reader)
        resource = _resource(service_name, resource_attributes)
        # Shutdown at exit is Telemetry.shutdown's (bounded), not the providers' own atexit hooks.
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        processors: list[LosslessBatchSpanProcessor] = []
        for exporter in exporters:
            is_local = exporter is local
            processor = _processor(
                span_processor,
                exporter,
                local=local if is_local else None,
                name="export.local_store" if is_local else "export.otlp",
                timeout_s=shutdown_timeout_s,
            )
            if isinstance(processor, LosslessBatchSpanProcessor):
                processors.append(processor)
            tracer_provider.add_span_processor(processor)
        meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
        logger_provider: LoggerProvider | None = None
        if log_exporter is not None:
            logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
            logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
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
        processors=tuple(processors),
        shutdown_timeout_s=shutdown_timeout_s,
        logger_provider=logger_provider,
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
    if telemetry.logger_provider is not None:
        _logs.set_logger_provider(telemetry.logger_provider)
