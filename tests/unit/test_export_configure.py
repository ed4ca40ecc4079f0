"""configure(): which pipeline it installs, flushing at exit, OTLP on the wire, and faults that stay silent.

Anything that installs the global providers runs in a subprocess, so this process's globals stay clean;
choosing the pipeline is checked in-process through the builder, which installs nothing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

from agentguard.export import LocalStore, LocalStoreSpanExporter, Telemetry, _configure, _otlp

AGENT = """
import agentguard as ag

@ag.tool(kind="shell")
def run_shell(command: str) -> str:
    return "ran " + command

@ag.guarded(name="fixer", task="fix the parser test")
def agent(goal: str) -> str:
    run_shell("pytest -q")
    return goal.upper()
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTGUARD_"))}
    env.update(extra)
    return env


def run_python(script: str, cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=clean_env(**env),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


# --- the local store, end to end -------------------------------------------------------------------


def test_default_pipeline_writes_the_local_store_and_flushes_at_exit(tmp_path: Path) -> None:
    proc = run_python(
        AGENT
        + """
import warnings
telemetry = ag.configure(capture_content=True)
assert ag.default_guard().capture_content is True
print(agent("go"))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    again = ag.configure(service_name="other")
assert again is telemetry, "a second call returns the same handle"
assert "already called" in str(caught[0].message), caught
print(telemetry.store_path)
# no shutdown(): the batch processor must be flushed when the interpreter exits
""",
        tmp_path,
    )
    assert proc.stdout.splitlines() == ["GO", str(tmp_path / ".agentguard" / "agentguard.db")]
    with LocalStore(tmp_path / ".agentguard" / "agentguard.db") as store:
        (run,) = store.runs()
        assert (run.name, run.task, run.tool_calls) == ("fixer", "fix the parser test", 1)
        spans = store.spans(run_id=run.run_id)
        assert [s.name for s in spans] == ["invoke_agent fixer", "execute_tool run_shell"]
        assert spans[0].resource["service.name"] == "agentguard-app"
        assert "pytest -q" in spans[1].attributes["gen_ai.tool.call.arguments"]  # capture_content=True


def test_store_path_from_environment_and_resource_attributes(tmp_path: Path) -> None:
    store = tmp_path / "elsewhere" / "runs.db"
    run_python(
        AGENT
        + """
telemetry = ag.configure(span_processor="simple", resource_attributes={"deployment.environment": "test"})
agent("go")
telemetry.shutdown()
telemetry.shutdown()  # idempotent
""",
        tmp_path,
        AGENTGUARD_STORE=str(store),
        OTEL_SERVICE_NAME="from-env",
    )
    assert not (tmp_path / ".agentguard").exists()
    with LocalStore(store) as reader:
        span = reader.spans()[0]
        assert span.resource["service.name"] == "from-env"
        assert span.resource["deployment.environment"] == "test"


# --- OTLP on the wire ------------------------------------------------------------------------------


class Collector:
    """A loopback HTTP server that records OTLP/HTTP POSTs."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                collector.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.requests if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


def span_names(posts: list[tuple[dict[str, str], bytes]]) -> list[str]:
    names: list[str] = []
    for _, body in posts:
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                names.extend(s.name for s in ss.spans)
    return names


def test_otlp_endpoint_from_environment_sends_protobuf_and_no_local_store(
    tmp_path: Path, collector: Collector
) -> None:
    run_python(
        AGENT
        + """
telemetry = ag.configure()
assert telemetry.otlp_protocol == "http/protobuf" and telemetry.store_path is None, telemetry
agent("go")
""",
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
        OTEL_EXPORTER_OTLP_HEADERS="x-team=agents",
    )
    traces = collector.posts("/v1/traces")
    assert traces, collector.requests
    headers, body = traces[0]
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["x-team"] == "agents"
    assert sorted(span_names(traces)) == ["execute_tool run_shell", "invoke_agent fixer"]
    service = ExportTraceServiceRequest.FromString(body).resource_spans[0].resource.attributes
    assert {a.key: a.value.string_value for a in service}["service.name"] == "agentguard-app"

    metric_names = {
        m.name
        for _, body in collector.posts("/v1/metrics")
        for rm in ExportMetricsServiceRequest.FromString(body).resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    assert {"agentguard.runs", "agentguard.tool.calls"} <= metric_names
    assert not (tmp_path / ".agentguard").exists()


def test_traces_endpoint_variable_alone_sends_traces_only(tmp_path: Path, collector: Collector) -> None:
    run_python(
        AGENT + "ag.configure(span_processor='simple'); agent('go')\n",
        tmp_path,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{collector.url}/custom/traces",
    )
    assert sorted(span_names(collector.posts("/custom/traces"))) == [
        "execute_tool run_shell",
        "invoke_agent fixer",
    ]
    assert collector.posts("/v1/metrics") == []


def test_explicit_endpoint_and_store_path_export_to_both(tmp_path: Path, collector: Collector) -> None:
    run_python(
        AGENT + f"ag.configure(endpoint={collector.url!r}, store_path='runs.db'); agent('go')\n",
        tmp_path,
        OTEL_METRICS_EXPORTER="none",
    )
    assert len(span_names(collector.posts("/v1/traces"))) == 2
    assert collector.posts("/v1/metrics") == []
    with LocalStore(tmp_path / "runs.db") as store:
        assert [r.name for r in store.runs()] == ["fixer"]


def test_signals_go_over_otlp_as_gen_ai_evaluation_results(tmp_path: Path, collector: Collector) -> None:
    run_python(
        AGENT.replace("pytest -q", "echo cm0gLXJmIC8K | base64 -d | sh")
        + "telemetry = ag.configure(); assert telemetry.logger_provider is not None; agent('go')\n",
        tmp_path,
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.url,
    )
    records = [
        (record, {a.key: a.value for a in record.attributes})
        for _, body in collector.posts("/v1/logs")
        for rl in ExportLogsServiceRequest.FromString(body).resource_logs
        for sl in rl.scope_logs
        for record in sl.log_records
    ]
    evaluations = [(r, a) for r, a in records if r.event_name == "gen_ai.evaluation.result"]
    assert evaluations, collector.requests
    record, attrs = evaluations[0]
    assert attrs["gen_ai.evaluation.score.label"].string_value in ("low", "medium", "high", "critical")
    assert attrs["gen_ai.evaluation.name"].string_value
    assert len(record.trace_id) == 16 and len(record.span_id) == 8  # in the tool span's context
    tool_spans = [
        s
        for _, body in collector.posts("/v1/traces")
        for rs in ExportTraceServiceRequest.FromString(body).resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
        if s.name == "execute_tool run_shell"
    ]
    assert [s.span_id for s in tool_spans] == [record.span_id]


def test_no_logs_pipeline_without_an_otlp_logs_endpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    telemetry = _configure._build(
        service_name="t", endpoint=None, protocol=None, store_path=tmp_path / "s.db",
        resource_attributes=None, prometheus_port=None, span_processor="simple",
    )  # fmt: skip
    try:
        assert telemetry.logger_provider is None
    finally:
        telemetry.shutdown()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://127.0.0.1:9/v1/logs")
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    telemetry = _configure._build(
        service_name="t", endpoint=None, protocol=None, store_path=tmp_path / "s.db",
        resource_attributes=None, prometheus_port=None, span_processor="simple",
    )  # fmt: skip
    try:
        assert telemetry.logger_provider is None
    finally:
        telemetry.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_otlp_endpoint_changes_nothing_for_the_agent(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = run_python(
        """
import agentguard as ag

def plain(goal):
    if goal == "fail":
        raise ValueError("bad goal")
    return goal.upper()

guarded = ag.guarded(name="fixer")(plain)
telemetry = ag.configure(span_processor="simple")  # export on the agent's own thread
results = []
for fn in (plain, guarded):
    out = [fn("go")]
    try:
        fn("fail")
    except ValueError as exc:
        out.append(repr(exc))
    results.append(out)
assert results[0] == results[1] == ["GO", "ValueError('bad goal')"], results
assert guarded.__name__ == "plain"
telemetry.shutdown()
print("ok")
""",
        tmp_path,
        timeout=90,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        OTEL_EXPORTER_OTLP_TIMEOUT="1",
    )
    assert proc.stdout.strip() == "ok"
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - started < 60


# --- Prometheus -------------------------------------------------------------------------------------


def test_prometheus_endpoint_serves_agentguard_metrics(tmp_path: Path) -> None:
    proc = run_python(
        AGENT
        + """
import urllib.request
telemetry = ag.configure(store_path="runs.db")
assert telemetry.prometheus_port not in (None, 0)
agent("go")
with urllib.request.urlopen(f"http://127.0.0.1:{telemetry.prometheus_port}/metrics", timeout=10) as r:
    print(r.read().decode())
telemetry.shutdown()
""",
        tmp_path,
        AGENTGUARD_PROMETHEUS_PORT="0",
    )
    assert "agentguard_runs" in proc.stdout
    assert "agentguard_tool_calls" in proc.stdout


# --- choosing the pipeline (in-process: the builder installs no globals) -----------------------------


def build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], **kwargs: object
) -> Telemetry:
    for key in list(os.environ):
        if key.startswith(("OTEL_", "AGENTGUARD_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    defaults: dict[str, object] = {
        "service_name": "agentguard-app",
        "endpoint": None,
        "protocol": None,
        "store_path": None,
        "resource_attributes": None,
        "prometheus_port": None,
        "span_processor": "batch",
    }
    return _configure._build(**{**defaults, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "kwargs", "exporters", "readers"),
    [
        pytest.param({}, {}, [LocalStoreSpanExporter], [], id="nothing-configured-local-store"),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
            {},
            [HttpSpanExporter],
            [PeriodicExportingMetricReader],
            id="env-endpoint-http",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            {},
            [GrpcSpanExporter],
            [PeriodicExportingMetricReader],
            id="env-protocol-grpc",
        ),
        pytest.param(
            {
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
            {"protocol": "http/protobuf"},
            [HttpSpanExporter],
            [],
            id="argument-protocol-wins",
        ),
        pytest.param(
            {},
            {"endpoint": "http://127.0.0.1:1", "store_path": "x.db"},
            [HttpSpanExporter, LocalStoreSpanExporter],
            [PeriodicExportingMetricReader],
            id="endpoint-and-store",
        ),
        pytest.param(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "AGENTGUARD_STORE": "y.db"},
            {},
            [HttpSpanExporter, LocalStoreSpanExporter],
            [PeriodicExportingMetricReader],
            id="env-endpoint-and-env-store",
        ),
    ],
)
def test_pipeline_choice(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    kwargs: dict[str, object],
    exporters: list[type],
    readers: list[type],
) -> None:
    telemetry = build(monkeypatch, tmp_path, env, **kwargs)
    try:
        assert [type(e) for e in telemetry.span_exporters] == exporters
        assert [type(r) for r in telemetry.metric_readers] == readers
        assert (telemetry.store_path is not None) == (LocalStoreSpanExporter in exporters)
    finally:
        telemetry.shutdown()


def test_explicit_http_endpoint_gets_the_signal_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    telemetry = build(monkeypatch, tmp_path, {}, endpoint="http://collector:4318/")
    try:
        (exporter,) = telemetry.span_exporters
        assert isinstance(exporter, HttpSpanExporter)
        assert exporter._endpoint == "http://collector:4318/v1/traces"
    finally:
        telemetry.shutdown()


def test_default_store_is_under_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    telemetry = build(monkeypatch, tmp_path, {})
    assert telemetry.store_path == tmp_path / ".agentguard" / "agentguard.db"
    telemetry.shutdown()


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"protocol": "http/json", "endpoint": "http://x"}, {}, "unsupported OTLP protocol 'http/json'"),
        ({"span_processor": "eager"}, {}, "span_processor must be"),
        ({}, {"AGENTGUARD_PROMETHEUS_PORT": "ninety"}, "AGENTGUARD_PROMETHEUS_PORT must be a port number"),
    ],
)
def test_bad_settings_raise_before_anything_is_installed(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, object], env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match=message):
        _configure.configure(**kwargs)  # type: ignore[arg-type]
    assert _configure._installed is None


@pytest.mark.parametrize(
    ("blocked", "build_it", "install"),
    [
        (
            "opentelemetry.exporter.otlp.proto.http.trace_exporter",
            lambda: _otlp.span_exporter("http/protobuf", None),
            "pip install 'agentguard[otlp]'",
        ),
        (
            "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
            lambda: _otlp.span_exporter("grpc", None),
            "pip install 'agentguard[otlp]'",
        ),
        (
            "opentelemetry.exporter.otlp.proto.http.metric_exporter",
            lambda: _otlp.metric_exporter("http/protobuf", None),
            "pip install 'agentguard[otlp]'",
        ),
        (
            "opentelemetry.exporter.prometheus",
            lambda: _otlp.PrometheusEndpoint(0),
            "pip install 'agentguard[prometheus]'",
        ),
    ],
)
def test_missing_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, blocked: str, build_it: object, install: str
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(ImportError) as info:
        build_it()  # type: ignore[operator]
    assert str(info.value).endswith(f"run: {install}")
