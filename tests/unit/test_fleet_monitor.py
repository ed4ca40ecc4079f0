"""The fleet monitor: spans in over OTLP/HTTP (the SDK's real exporters) or followed files, every
session reviewed once when it completes, findings out as alerts, log records and metrics."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

import agentguard as ag
from agentguard.detect import JudgeResult
from agentguard.fleet import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    FileFollower,
    Journal,
    Monitor,
    MonitorConfig,
    Webhook,
    sampled,
    verify,
)
from agentguard.fleet._alerts import Dispatcher
from agentguard.traces import Span, encode_records

ENCODED = "echo cm0gLXJmIH4= | base64 -d | sh"
NS = 1_000_000_000


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _guarded_run(
    endpoint: str, *, command: str = ENCODED, batch: bool = True, capture: bool = False
) -> TracerProvider:
    """One guarded run whose tool call raises a critical circumvention signal, exported over OTLP/HTTP."""
    tp = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=endpoint + "/v1/traces")
    tp.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
    guard = ag.Guard(tracer_provider=tp, capture_content=capture)

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard, task="fix the parser test")
    def agent() -> str:
        run(command)
        return "done"

    agent()
    tp.force_flush()
    return tp


def _span(
    trace: str, span: str, parent: str = "", *, start: int = 1, conversation: str | None = None
) -> Span:
    attrs = {} if conversation is None else {"gen_ai.conversation.id": conversation}
    return Span(
        trace_id=trace * 32,
        span_id=span * 16,
        parent_id=parent * 16 if parent else "",
        name="invoke_agent a" if not parent else "execute_tool run",
        start=start * NS,
        end=(start + 1) * NS,
        attributes=attrs,
    )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "monitor"


@pytest.fixture
def monitor(state: Path) -> Iterator[Monitor]:
    m = Monitor(MonitorConfig(state_dir=state, port=0, settle_s=0.1, tick_s=0.02, alert_stream=io.StringIO()))
    with m:
        yield m


def test_a_guarded_run_over_otlp_protobuf_is_reviewed_once_with_its_signals(monitor: Monitor) -> None:
    _guarded_run(monitor.url)
    _wait(lambda: monitor.status().sessions == 1)
    codes = {f.code for f in monitor.findings()}
    assert "circumvention.decode_exec" in codes
    status = monitor.status()
    assert (status.traces, status.reviewed_traces, status.coverage) == (1, 1, 1.0)
    [session] = monitor.journal.sessions()
    assert session["reviews"] == 1 and session["spans"] == 2
    assert 0.0 <= session["latency_s"] < 5.0


def test_critical_findings_are_alerted_as_json_lines(monitor: Monitor) -> None:
    _guarded_run(monitor.url)
    _wait(lambda: monitor.status().sessions == 1 and monitor.status().alerts_pending == 0)
    stream = monitor.config.alert_stream
    assert isinstance(stream, io.StringIO)
    alerts = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [a["code"] for a in alerts] == ["circumvention.decode_exec"]
    assert alerts[0]["severity"] == "critical" and alerts[0]["reviewer"] == "rules"


def test_json_and_gzip_bodies_are_accepted(monitor: Monitor) -> None:
    doc = encode_records([_span("a", "1"), _span("a", "2", "1")])
    body = gzip.compress(json.dumps(doc).encode())
    request = urllib.request.Request(
        monitor.url + "/v1/traces",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {}
    _wait(lambda: monitor.status().sessions == 1)
    assert monitor.status().spans == 2


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status"),
    [
        ("/v1/traces", "application/x-protobuf", b"\xff\xff\xff not protobuf", 400),
        ("/v1/traces", "application/json", b"{not json", 400),
        ("/v1/logs", "application/json", b"[1, 2]", 400),
        ("/v1/metrics", "application/json", b"{}", 404),
    ],
)
def test_bodies_it_cannot_decode_are_rejected_with_the_reason(
    monitor: Monitor, path: str, content_type: str, body: bytes, status: int
) -> None:
    request = urllib.request.Request(monitor.url + path, data=body, headers={"Content-Type": content_type})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=5)
    assert err.value.code == status
    assert err.value.read()
    assert monitor.status().spans == 0


def test_a_trace_without_its_root_is_reviewed_after_the_idle_time(state: Path) -> None:
    m = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=1.0, idle_s=60.0))
    try:
        m.journal.append([_span("b", "2", "1")], now=1000.0)
        assert m.review_due(now=1030.0) == 0
        assert m.review_due(now=1061.0) == 1
        assert m.status().coverage == 1.0
    finally:
        m.stop()


def test_traces_sharing_a_conversation_id_are_one_session_reviewed_when_all_are_complete(state: Path) -> None:
    m = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=1.0, idle_s=60.0))
    try:
        # the first trace is complete; the second (same conversation, id on its root only) is not yet
        m.journal.append([_span("c", "1", conversation="conv-9"), _span("c", "2", "1")], now=1000.0)
        m.journal.append([_span("d", "4", "3", start=5)], now=1000.0)
        m.journal.append([_span("d", "3", start=4, conversation="conv-9")], now=1030.0)
        assert m.review_due(now=1010.0) == 0  # conv-9 waits for trace d
        assert m.review_due(now=1032.0) == 1
        [session] = m.journal.sessions()
        assert session["session_id"] == "conv-9" and len(session["traces"]) == 2 and session["spans"] == 4
    finally:
        m.stop()


def test_a_restart_reviews_what_was_received_and_never_reviews_twice(state: Path) -> None:
    first = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=1.0))
    first.journal.append([_span("e", "1"), _span("e", "2", "1")], now=1000.0)
    first.stop()  # stopped before the session settled: nothing reviewed yet
    second = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=1.0))
    assert second.review_due(now=1002.0) == 1
    second.stop()
    third = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=1.0))
    assert third.review_due(now=1100.0) == 0
    assert [s["reviews"] for s in third.journal.sessions()] == [1]
    third.stop()


def _monitor_process(state: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentguard", "monitor", "--port", "0", "--state", str(state), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "OTLP/HTTP on http://127.0.0.1:" in line, line
    url = line.split("OTLP/HTTP on ", 1)[1].split(" ", 1)[0]
    return proc, url


def test_kill_9_after_the_acknowledgement_loses_nothing(state: Path) -> None:
    proc, url = _monitor_process(state, "--settle", "3600", "--idle", "3600")
    try:
        _guarded_run(url, batch=False)  # each span acknowledged before the run returns
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    restarted = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        assert restarted.status().spans == 2
        assert restarted.review_due() == 1
        assert "circumvention.decode_exec" in {f.code for f in restarted.findings()}
    finally:
        restarted.stop()


def test_the_command_line_serves_until_sigterm_and_reports_status(state: Path) -> None:
    proc, url = _monitor_process(state, "--settle", "0")
    try:
        _guarded_run(url)
        _wait(lambda: b"circumvention" in _status_findings(state))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert json.loads(out.splitlines()[0])["code"] == "circumvention.decode_exec"
    status = subprocess.run(
        [sys.executable, "-m", "agentguard", "monitor", "--status", "--state", str(state)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(status.stdout)["coverage"] == 1.0


def _status_findings(state: Path) -> bytes:
    if not (state / "monitor.db").exists():
        return b""
    done = subprocess.run(
        [sys.executable, "-m", "agentguard", "monitor", "--findings", "--state", str(state)],
        capture_output=True,
        check=False,
    )
    return done.stdout


def test_status_without_a_journal_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentguard", "monitor", "--status", "--state", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "no monitor journal" in done.stderr


class _Hook(BaseHTTPRequestHandler):
    server: _HookServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        status = 500 if len(self.server.received) <= self.server.failures else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _HookServer(ThreadingHTTPServer):
    def __init__(self, failures: int) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def hook_server() -> Iterator[_HookServer]:
    server = _HookServer(failures=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_webhook_is_signed_and_retried_until_delivered(state: Path, hook_server: _HookServer) -> None:
    journal = Journal(state / "monitor.db")
    clock = [1000.0]
    url = f"http://127.0.0.1:{hook_server.server_address[1]}/alerts"
    dispatcher = Dispatcher(
        journal, stream=None, webhook=Webhook(url=url, secret="s3cret", backoff_s=1.0), clock=lambda: clock[0]
    )
    alert = {"kind": "agentguard.monitor.finding", "reviewer": "rules", "code": "x.y", "message": "m"}
    from agentguard.fleet import Finding

    finding = Finding(
        session_id="s",
        reviewer="rules",
        code="x.y",
        category="x",
        severity="high",
        confidence=1.0,
        message="m",
        evidence={},
        created=1.0,
    )
    journal.record_review(
        session_id="s",
        trace_ids=["t"],
        ended_ns=0,
        reviewed_at=1.0,
        latency_s=0.0,
        spans=0,
        findings=[finding],
        judged=[],
        alerts=[alert],
    )
    assert dispatcher.deliver() == 0  # first attempt: 500
    assert dispatcher.deliver() == 0  # not due yet (backoff 1 s)
    clock[0] += 1.0
    assert dispatcher.deliver() == 0  # second attempt: 500, next in 2 s
    clock[0] += 2.0
    assert dispatcher.deliver() == 1
    assert dispatcher.deliver() == 0  # delivered once
    assert len(hook_server.received) == 3
    headers, body = hook_server.received[-1]
    assert verify("s3cret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify("other", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert json.loads(body)["code"] == "x.y"
    journal.close()


def test_a_followed_file_is_read_as_it_grows_and_resumes_after_a_restart(state: Path, tmp_path: Path) -> None:
    path = tmp_path / "collector.jsonl"
    line = json.dumps(encode_records([_span("f", "1")]))
    path.write_text(line + "\n" + line[:20])  # the second line is still being written
    journal = Journal(state / "monitor.db")
    follower = FileFollower(journal, path)
    assert follower.poll() == 1
    assert follower.poll() == 0
    with path.open("a") as fh:
        fh.write(line[20:].replace('"' + "f" * 32 + '"', '"' + "9" * 32 + '"') + "\n")
    journal.close()
    journal = Journal(state / "monitor.db")
    follower = FileFollower(journal, path)
    assert follower.poll() == 1
    assert journal.status().spans == 2
    journal.close()


class _Judge:
    def __init__(self, model: str) -> None:
        self.model = model
        self.transcripts: list[str] = []

    def evaluate(self, transcript: str, *, span_ids: tuple[str, ...] = ()) -> JudgeResult:
        self.transcripts.append(transcript)
        signal = ag.Signal(code="deception.judge_says", severity="medium", confidence=0.5, message=self.model)
        return JudgeResult(signals=[signal])


def test_judges_see_the_flagged_sessions_and_each_keeps_its_own_findings(state: Path) -> None:
    judges = [_Judge("judge-a"), _Judge("judge-b")]
    m = Monitor(MonitorConfig(state_dir=state, port=0, settle_s=0.05, tick_s=0.02, judges=judges))
    with m:
        _guarded_run(m.url, capture=True)
        _guarded_run(m.url, command="ls src", capture=True)
        _guarded_run(m.url)  # content capture off: the judge sees no command text
        _wait(lambda: m.status().sessions == 3)
    by_reviewer: dict[str, int] = {}
    for f in Journal(state / "monitor.db").findings():
        by_reviewer[f.reviewer] = by_reviewer.get(f.reviewer, 0) + 1
    assert by_reviewer["judge-a"] == 2 and by_reviewer["judge-b"] == 2  # the two flagged sessions only
    captured, uncaptured = sorted(judges[0].transcripts, key=lambda t: "base64" not in t)
    assert ENCODED in captured
    assert "base64" not in uncaptured and "[tool run (shell)]" in uncaptured


def test_the_sample_is_stable_and_near_its_rate() -> None:
    ids = [f"session-{i}" for i in range(4000)]
    picked = [s for s in ids if sampled(s, 0.25)]
    assert picked == [s for s in ids if sampled(s, 0.25)]
    assert 0.2 < len(picked) / len(ids) < 0.3
    assert not any(sampled(s, 0.0) for s in ids) and all(sampled(s, 1.0) for s in ids)


def test_findings_become_evaluation_log_records_and_metrics(state: Path) -> None:
    reader = InMemoryMetricReader()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    m = Monitor(
        MonitorConfig(state_dir=state, port=0, settle_s=0.05, tick_s=0.02),
        meter_provider=MeterProvider(metric_readers=[reader]),
        logger_provider=logger_provider,
    )
    with m:
        _guarded_run(m.url)
        _wait(lambda: m.status().sessions == 1)
    records = [r.log_record for r in logs.get_finished_logs()]
    names = {str((r.attributes or {}).get("gen_ai.evaluation.name")) for r in records}
    assert "circumvention.decode_exec" in names
    assert all(r.event_name == "gen_ai.evaluation.result" for r in records)
    data = reader.get_metrics_data()
    assert data is not None
    metrics = {
        metric.name: metric
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    sessions = {
        str(dict(p.attributes or {}).get("agentguard.monitor.state")): p.value  # type: ignore[union-attr]
        for p in metrics["agentguard.monitor.sessions"].data.data_points
    }
    assert sessions == {"seen": 1, "reviewed": 1}
    [latency] = metrics["agentguard.monitor.review.latency"].data.data_points
    assert latency.count == 1  # type: ignore[union-attr]
    [coverage] = metrics["agentguard.monitor.coverage"].data.data_points
    assert coverage.value == 1.0  # type: ignore[union-attr]
    found = {
        tuple(sorted((k, str(v)) for k, v in (p.attributes or {}).items())): p.value  # type: ignore[union-attr]
        for p in metrics["agentguard.monitor.findings"].data.data_points
    }
    assert (
        found[
            (
                ("agentguard.monitor.reviewer", "rules"),
                ("agentguard.signal.category", "circumvention"),
                ("agentguard.signal.severity", "critical"),
            )
        ]
        >= 1
    )


def test_prometheus_port_0_serves_metrics_on_a_free_port_named_in_the_start_line(state: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentguard", "monitor", "--port", "0", "--state", str(state), "--settle", "0",
         "--prometheus-port", "0", "--retain", "3600"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "; metrics on http://127.0.0.1:" in line, line
        url = line.split("OTLP/HTTP on ", 1)[1].split(" ", 1)[0]
        metrics_url = line.split("; metrics on ", 1)[1].split(";", 1)[0]
        assert metrics_url.endswith("/metrics") and not metrics_url.endswith(":0/metrics")
        _guarded_run(url)
        _wait(
            lambda: (
                b"agentguard_monitor_findings_total" in urllib.request.urlopen(metrics_url, timeout=5).read()
            )
        )
        text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
        reviewed = r'^agentguard_monitor_sessions_total\{agentguard_monitor_state="reviewed",[^}]*\} 1\.0$'
        assert re.search(reviewed, text, re.M)
        assert re.search(r"^agentguard_monitor_coverage(\{[^}]*\})? 1\.0$", text, re.M)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
