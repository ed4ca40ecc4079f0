"""The monitor's journal under crashes and over time: ``kill -9`` mid-stream loses no session and
reviews none twice; retention (``--retain``) compacts reviewed sessions so the file stops growing."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentguard as ag
from agentguard.fleet import Finding, Journal, Monitor, MonitorConfig
from agentguard.traces import Span

NS = 1_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _start(state: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentguard", "monitor", "--port", str(port), "--state", str(state),
         "--settle", "0.2", "--alert-severity", "critical"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert f"OTLP/HTTP on http://127.0.0.1:{port}" in line, line
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if proc.stderr is not None:
        proc.stderr.close()


def _reviews(db: Path) -> tuple[dict[str, int], list[list[str]], int]:
    """Per session its review count, every session's traces, and how many traces are still open."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute("SELECT session_id, reviews, traces FROM sessions").fetchall()
        (open_,) = con.execute(
            "SELECT COUNT(*) FROM traces WHERE state = 'open' AND trace_id != ''"
        ).fetchone()
    finally:
        con.close()
    return {r[0]: int(r[1]) for r in rows}, [json.loads(r[2]) for r in rows], int(open_)


def test_kill_9_twice_mid_stream_loses_no_session_and_reviews_none_twice(tmp_path: Path) -> None:
    state, port = tmp_path / "monitor", _free_port()
    runs, kills = 60, (20, 40)
    sent = InMemorySpanExporter()
    tp = TracerProvider()
    # the SDK's own exporter retries through the monitor's restarts (connection errors, 503)
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=60)
    tp.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=20, max_export_batch_size=8))
    tp.add_span_processor(BatchSpanProcessor(sent))
    guard = ag.Guard(tracer_provider=tp)

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard, task="fix the parser test")
    def agent(n: int) -> str:
        run("echo cm0gLXJmIH4= | base64 -d | sh" if n % 5 == 0 else "pytest -q")
        run("git status")
        return "done"

    done = threading.Event()
    progress = [0]

    def fleet() -> None:
        for n in range(runs):
            agent(n)
            progress[0] = n + 1
            time.sleep(0.03)
        done.set()

    proc = _start(state, port)
    sender = threading.Thread(target=fleet, daemon=True)
    try:
        sender.start()
        for at in kills:
            _wait(lambda at=at: progress[0] >= at)  # type: ignore[misc]
            _kill(proc)  # mid-stream: exports in flight, reviews possibly mid-transaction
            time.sleep(0.3)
            proc = _start(state, port)
        _wait(done.is_set)
        assert tp.force_flush(60_000)
        expected = {
            str((s.attributes or {})["agentguard.run.id"])
            for s in sent.get_finished_spans()
            if s.name.startswith("invoke_agent")
        }
        assert len(expected) == runs
        db = state / "monitor.db"
        _wait(lambda: expected <= set(_reviews(db)[0]) and _reviews(db)[2] == 0)
    finally:
        _kill(proc)
        tp.shutdown()
    reviews, traces, still_open = _reviews(state / "monitor.db")
    assert still_open == 0
    assert set(reviews) == expected  # every run is one session, none lost
    assert set(reviews.values()) == {1}  # and none was reviewed twice
    flat = [t for group in traces for t in group]
    assert len(flat) == len(set(flat)) == runs  # each trace closed by exactly one review
    journal = Journal(state / "monitor.db")
    try:
        flagged = {f.session_id for f in journal.findings() if f.code == "circumvention.decode_exec"}
        assert len(flagged) == runs // 5
        assert journal.status().coverage == 1.0
    finally:
        journal.close()


def _session(journal: Journal, n: int, *, at: float, flagged: bool) -> None:
    trace = f"{n:032x}"
    spans = [
        Span(trace_id=trace, span_id=f"{n:08x}{i:08x}", parent_id="" if i == 0 else f"{n:08x}{0:08x}",
             name="invoke_agent a" if i == 0 else "execute_tool run", start=NS, end=2 * NS,
             attributes={"gen_ai.conversation.id": f"conv-{n}", "pad": "x" * 400})
        for i in range(8)
    ]  # fmt: skip
    journal.append(spans, now=at)
    finding = Finding(session_id=f"conv-{n}", reviewer="rules", code="x.y", category="x", severity="high",
                      confidence=1.0, message="m", evidence={}, created=at)  # fmt: skip
    journal.record_review(session_id=f"conv-{n}", trace_ids=[trace], ended_ns=2 * NS, reviewed_at=at,
                          latency_s=0.0, spans=8, findings=[finding] if flagged else [])  # fmt: skip


def test_compaction_drops_old_sessions_spans_and_keeps_findings(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "monitor.db")
    try:
        for n in range(10):
            _session(journal, n, at=1000.0 + n, flagged=n % 3 == 0)
        done = journal.compact(before=1005.0)  # sessions 0..4 were reviewed before
        assert (done.sessions, done.kept, done.traces, done.spans) == (5, 2, 5, 40)
        assert [s["session_id"] for s in journal.sessions()] == [
            "conv-0", "conv-3", "conv-5", "conv-6", "conv-7", "conv-8", "conv-9"
        ]  # fmt: skip
        assert journal.session_traces("conv-3") == []  # kept for triage, without spans
        assert journal.spans_by_trace([f"{n:032x}" for n in range(5)]) == {}
        assert len(journal.spans_by_trace([f"{n:032x}" for n in range(5, 10)])) == 5
        assert {f.session_id for f in journal.findings()} == {"conv-0", "conv-3", "conv-6", "conv-9"}
        status = journal.status()
        assert (status.traces, status.spans, status.coverage) == (5, 40, 1.0)
        assert journal.compact(before=1005.0).sessions == 0  # nothing left to do
    finally:
        journal.close()


def test_with_retention_the_journal_stops_growing(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    journal = Journal(path)
    pages = []
    try:
        for round_ in range(12):
            for n in range(200):
                _session(journal, round_ * 200 + n, at=float(round_), flagged=False)
            journal.compact(before=float(round_) - 1.5)  # keep the last two rounds
            journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages.append(journal._db.execute("PRAGMA page_count").fetchone()[0])
    finally:
        journal.close()
    assert pages[-1] > 0
    assert pages[-1] <= pages[4] * 1.1, pages  # freed pages are reused: flat after the window fills
    assert pages[4] > pages[0] * 1.5, pages  # and it did grow while the window filled


def test_the_monitor_compacts_on_its_own_with_retain(tmp_path: Path) -> None:
    m = Monitor(MonitorConfig(state_dir=tmp_path / "m", port=None, retain_s=60.0))
    try:
        _session(m.journal, 1, at=time.time() - 120, flagged=False)
        _session(m.journal, 2, at=time.time(), flagged=False)
        assert m.compact().sessions == 1
        assert [s["session_id"] for s in m.journal.sessions()] == ["conv-2"]
    finally:
        m.stop()
    with pytest.raises(ValueError, match="retain_s"):
        MonitorConfig(retain_s=0)
