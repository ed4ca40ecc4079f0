"""The span pipeline configure() builds: nothing lost under load, every loss counted, shutdown bounded."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from agentguard import _safe
from agentguard.cli import main as cli
from agentguard.dashboard import DashboardApi, StoreSource
from agentguard.export import LocalStoreSpanExporter
from agentguard.export._batch import LosslessBatchSpanProcessor
from agentguard.export._redacting import RedactingSpanExporter


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTGUARD_"))}
    env.update(extra)
    return env


def run_python(script: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=cwd,
        env=clean_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


class SlowExporter(SpanExporter):
    """Accepts every span, taking ``delay_s`` a batch (a slow disk); ``hang`` never returns."""

    def __init__(self, delay_s: float = 0.0, *, hang: threading.Event | None = None) -> None:
        self.delay_s = delay_s
        self.hang = hang
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.hang is not None:
            self.hang.wait()
        time.sleep(self.delay_s)
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def end_spans(provider: TracerProvider, count: int, threads: int = 1) -> None:
    tracer = provider.get_tracer("test")

    def work() -> None:
        for i in range(count // threads):
            tracer.start_span(f"s{i}").end()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


# --- the processor -----------------------------------------------------------------------------------


def test_a_full_queue_makes_the_producer_wait_instead_of_dropping() -> None:
    exporter = SlowExporter(delay_s=0.01)
    processor = LosslessBatchSpanProcessor(exporter, max_queue=20, max_batch=10, delay_s=0.01)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    end_spans(provider, 400, threads=4)
    assert processor.force_flush(10_000)
    assert (len(exporter.spans), processor.exported, processor.dropped) == (400, 400, 0)
    processor.shutdown()


def test_with_no_wait_allowed_every_dropped_span_is_counted_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _safe.reset_warnings()
    release = threading.Event()
    exporter = SlowExporter(hang=release)
    processor = LosslessBatchSpanProcessor(exporter, max_queue=10, max_batch=5, block_s=0, name="t.drop")
    provider = TracerProvider()
    provider.add_span_processor(processor)
    with caplog.at_level(logging.WARNING, logger="agentguard"):
        end_spans(provider, 100)
    release.set()
    assert processor.force_flush(10_000)
    assert processor.dropped + len(exporter.spans) == 100
    assert processor.dropped >= 80
    assert len([r for r in caplog.records if "t.drop.dropped" in r.getMessage()]) == 1
    processor.shutdown()


def test_shutdown_with_a_hung_exporter_returns_in_time_and_counts_what_was_not_sent() -> None:
    hang = threading.Event()
    processor = LosslessBatchSpanProcessor(SlowExporter(hang=hang), max_batch=10, timeout_s=0.5)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    end_spans(provider, 50)
    started = time.monotonic()
    processor.shutdown()
    assert time.monotonic() - started < 1.5
    assert processor.unsent == 50 and processor.exported == 0
    hang.set()


def test_spans_ended_after_shutdown_are_counted_as_dropped() -> None:
    processor = LosslessBatchSpanProcessor(SlowExporter())
    provider = TracerProvider()
    provider.add_span_processor(processor)
    processor.shutdown()
    end_spans(provider, 3)
    assert processor.dropped == 3


# --- the export boundary redacts what any code recorded ---------------------------------------------


def test_exception_events_and_status_descriptions_are_redacted_at_the_boundary() -> None:
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    exporter = SlowExporter()
    provider = TracerProvider()
    provider.add_span_processor(LosslessBatchSpanProcessor(RedactingSpanExporter(exporter), delay_s=0.01))
    with provider.get_tracer("other-library").start_as_current_span("work") as span:
        try:
            raise RuntimeError(f"push failed with token {secret}")
        except RuntimeError as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"RuntimeError: token {secret}"))
        span.set_attribute("db.statement", f"UPDATE users SET password = 'hunter2-{secret}'")
        span.set_attribute("tags", ["ok", f"Authorization: Bearer {secret}"])
    provider.force_flush()
    (stored,) = exporter.spans
    text = repr(
        (stored.attributes, stored.status.description, [(e.name, e.attributes) for e in stored.events])
    )
    assert secret not in text
    assert "[REDACTED]" in (stored.status.description or "")
    event = stored.events[0]
    assert event.attributes is not None and "RuntimeError" in str(event.attributes["exception.type"])
    assert "push failed with token [REDACTED]" in str(event.attributes["exception.message"])
    assert stored.attributes is not None and stored.attributes["tags"] == (
        "ok",
        "Authorization: Bearer [REDACTED]",
    )
    provider.shutdown()


# --- load: 8 threads and 50 asyncio tasks, every span stored ----------------------------------------

LOAD = """
import asyncio, sqlite3, threading
import agentguard as ag

@ag.tool(kind="shell")
def run_shell(command: str) -> str:
    return "ran " + command

@ag.tool(kind="shell")
async def arun_shell(command: str) -> str:
    await asyncio.sleep(0)
    return "ran " + command

@ag.guarded(name="threaded")
def threaded(i: int) -> None:
    for j in range(20):
        run_shell(f"echo {i} {j}")

@ag.guarded(name="tasked")
async def tasked(i: int) -> None:
    for j in range(20):
        await arun_shell(f"echo {i} {j}")

telemetry = ag.configure()

def worker(n: int) -> None:
    for r in range(25):
        threaded(n * 100 + r)

async def main() -> None:
    async def task(n: int) -> None:
        for r in range(6):
            await tasked(n * 100 + r)
    await asyncio.gather(*(task(n) for n in range(50)))

threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads:
    t.start()
asyncio.run(main())
for t in threads:
    t.join()
stats = telemetry.shutdown(timeout_s=60)
conn = sqlite3.connect(telemetry.store_path)
print(conn.execute("SELECT count(*) FROM spans").fetchone()[0])
print(sorted(conn.execute("SELECT name, count(*), sum(tool_calls) FROM runs GROUP BY name").fetchall()))
print(conn.execute("SELECT count(*) FROM spans WHERE run_id IS NULL").fetchone()[0])
print(stats.exported, stats.lost)
"""


def test_load_of_8_threads_and_50_tasks_stores_every_span(tmp_path: Path) -> None:
    out = run_python(LOAD, tmp_path).stdout.split("\n")
    # 8 threads x 25 runs and 50 tasks x 6 runs, each run one root span and 20 tool spans.
    assert out[0] == str(200 * 21 + 300 * 21) == "10500"
    assert out[1] == "[('tasked', 300, 6000), ('threaded', 200, 4000)]"
    assert out[2] == "0", "every span is attributed to its run"
    assert out[3] == "10500 0"


# --- SIGTERM ----------------------------------------------------------------------------------------

SIGTERMED = """
import sys, time
import agentguard as ag

@ag.tool(kind="shell")
def run_shell(command: str) -> str:
    return "ran " + command

@ag.guarded(name="long", task="runs until terminated")
def agent() -> None:
    for i in range(3):
        run_shell(f"step {i}")
    print("ready", flush=True)
    time.sleep(60)

ag.configure(flush_on_sigterm=True)
agent()
"""


def test_sigterm_with_flush_on_sigterm_stores_the_interrupted_run(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERMED],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert time.monotonic() - started < 5
    conn = sqlite3.connect(tmp_path / ".agentguard" / "agentguard.db")
    status, message = conn.execute("SELECT status, status_message FROM runs").fetchone()
    # Content capture is off: the status keeps the exception type, not its message.
    assert (status, message) == ("error", "SystemExit")
    assert conn.execute("SELECT count(*) FROM spans WHERE name LIKE 'execute_tool%'").fetchone()[0] == 3


# --- losses are stored, and `agentguard runs` says so -----------------------------------------------


def test_agentguard_runs_warns_when_spans_were_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "agentguard.db"
    exporter = LocalStoreSpanExporter(store)
    processor = LosslessBatchSpanProcessor(exporter, on_lost=exporter.note_lost)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    with provider.get_tracer("t").start_as_current_span("invoke_agent fixer") as span:
        span.set_attributes({"agentguard.run.id": "r1", "gen_ai.operation.name": "invoke_agent"})
    exporter.note_lost(7)  # as a queue overflow reports them
    provider.force_flush()
    provider.shutdown()
    assert cli(["runs", "--store", str(store)]) == 0
    captured = capsys.readouterr()
    assert "fixer" in captured.out
    assert "warning: 7 spans could not be written" in captured.err
    assert DashboardApi(StoreSource(store)).meta()["lost_spans"] == 7


def test_a_store_without_losses_gives_no_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "agentguard.db"
    exporter = LocalStoreSpanExporter(store)
    provider = TracerProvider()
    provider.add_span_processor(LosslessBatchSpanProcessor(exporter, on_lost=exporter.note_lost))
    with provider.get_tracer("t").start_as_current_span("invoke_agent fixer") as span:
        span.set_attributes({"agentguard.run.id": "r1", "gen_ai.operation.name": "invoke_agent"})
    provider.shutdown()
    assert cli(["runs", "--store", str(store)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert DashboardApi(StoreSource(store)).meta()["lost_spans"] == 0


def test_an_exporter_logs_each_kind_of_fault_once(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    from agentguard.export import _otlp

    exporter = OTLPSpanExporter(endpoint="http://127.0.0.1:9/v1/traces")
    _otlp.log_each_fault_once(exporter)
    log = logging.getLogger(type(exporter).__module__)
    with caplog.at_level(logging.INFO, logger=log.name):
        for attempt in range(20):
            log.warning(
                "Transient error %s encountered while exporting span batch, retrying in %ss.",
                "refused",
                attempt,
            )
        log.error("Failed to export span batch code: %s", 503)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" ")[0] for r in warnings] == ["Transient", "Failed"]


def test_flush_on_sigterm_leaves_an_application_handler_in_place(tmp_path: Path) -> None:
    out = run_python(
        """
        import signal
        import agentguard as ag

        def mine(signum, frame):
            pass

        signal.signal(signal.SIGTERM, mine)
        ag.configure(flush_on_sigterm=True)
        print(signal.getsignal(signal.SIGTERM) is mine)
        """,
        tmp_path,
    ).stdout
    assert out.strip() == "True"
