"""The local store: spans and runs written by a real SDK pipeline, read back; faults never reach the agent."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentguard as ag
from agentguard import _safe
from agentguard.export import LocalStore, LocalStoreSpanExporter, SchemaError
from agentguard.export._sqlite import SCHEMA_VERSION
from agentguard.telemetry import semconv as sc


class Pipeline:
    """A real TracerProvider + BatchSpanProcessor into a LocalStoreSpanExporter, and a guard on it."""

    def __init__(self, path: Path, *, batch: bool = True, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self.exporter = LocalStoreSpanExporter(path, busy_timeout_s=busy_timeout_s)
        self.provider = TracerProvider()
        processor = (
            # A queue large enough that nothing is dropped by the processor itself.
            BatchSpanProcessor(self.exporter, max_queue_size=100_000, schedule_delay_millis=50)
            if batch
            else SimpleSpanProcessor(self.exporter)
        )
        self.provider.add_span_processor(processor)
        self.guard = ag.Guard(tracer_provider=self.provider)

    def flush(self) -> None:
        assert self.provider.force_flush()


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(tmp_path / "store" / "agentguard.db")
    yield p
    p.provider.shutdown()


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    _safe.reset_warnings()


def make_agent(
    guard: ag.Guard, *, name: str = "fixer", task: str = "fix the parser test", llm: bool = True
) -> Callable[[str], str]:
    @ag.tool(kind="shell")
    def run_shell(command: str) -> str:
        return f"ran {command}"

    @ag.guarded(guard=guard, name=name, task=task)
    def agent(goal: str) -> str:
        if llm:
            with guard.tracer.start_as_current_span(
                "chat gpt-test", attributes={sc.GEN_AI_OPERATION_NAME: "chat"}
            ):
                run = ag.current_run()
                assert run is not None
                run.record_llm_call(input_tokens=120, output_tokens=30, cost_usd=0.0015, refusal=True)
        run_shell("pytest -q")
        run_shell("git diff")
        return goal.upper()

    return agent


def test_spans_and_run_round_trip_through_the_sdk(pipeline: Pipeline) -> None:
    agent = make_agent(pipeline.guard)

    assert agent("go") == "GO"
    pipeline.flush()

    with LocalStore(pipeline.path) as store:
        (run,) = store.runs()
        assert run.name == "fixer"
        assert run.task == "fix the parser test"
        assert run.status == "ok"
        assert (run.input_tokens, run.output_tokens) == (120, 30)
        assert run.cost_usd == pytest.approx(0.0015)
        assert (run.llm_calls, run.tool_calls, run.refusals) == (1, 2, 1)
        assert run.end_ns is not None and run.end_ns >= run.start_ns
        assert run.conversation_id is None  # no conversation named: the run id is not one

        spans = store.spans(run_id=run.run_id)
        assert [s.name for s in spans] == [
            "invoke_agent fixer",
            "chat gpt-test",
            "execute_tool run_shell",
            "execute_tool run_shell",
        ]
        root = spans[0]
        assert root.parent_id == "" and root.span_id == run.span_id
        assert all(s.trace_id == run.trace_id for s in spans)
        assert all(s.parent_id == root.span_id for s in spans[1:])
        assert root.attributes[sc.GEN_AI_OPERATION_NAME] == "invoke_agent"
        assert spans[2].attributes[sc.GEN_AI_OPERATION_NAME] == "execute_tool"
        assert root.attributes[sc.RUN_ID] == run.run_id
        assert root.attributes[sc.RUN_TOOL_CALLS] == 2
        assert spans[2].attributes[sc.TOOL_KIND] == "shell"
        assert spans[2].kind_name == "INTERNAL" and spans[2].status_name == "UNSET"
        assert "service.name" in root.resource
        assert root.scope == "agentguard"
        assert store.spans(trace_id=run.trace_id) == spans
    assert pipeline.exporter.dropped == 0


def test_unknown_cost_is_null_and_failed_run_is_an_error(pipeline: Pipeline) -> None:
    @ag.guarded(guard=pipeline.guard, name="broken")
    def agent() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        agent()
    pipeline.flush()

    with LocalStore(pipeline.path) as store:
        (run,) = store.runs()
        assert run.cost_usd is None
        assert run.task is None
        assert run.status == "error"
        assert run.status_message == "RuntimeError: boom"
        (span,) = store.spans(run_id=run.run_id)
        assert span.events[0].name == "exception"
        assert span.events[0].attributes["exception.type"] == "RuntimeError"


def test_nested_runs_keep_their_own_spans(pipeline: Pipeline) -> None:
    inner = make_agent(pipeline.guard, name="inner", llm=False)

    @ag.guarded(guard=pipeline.guard, name="outer")
    def outer() -> str:
        with pipeline.guard.tracer.start_as_current_span("plan"):
            return inner("x")

    outer()
    pipeline.flush()

    with LocalStore(pipeline.path) as store:
        runs = {r.name: r for r in store.runs()}
        assert [s.name for s in store.spans(run_id=runs["outer"].run_id)] == ["invoke_agent outer", "plan"]
        assert [s.name for s in store.spans(run_id=runs["inner"].run_id)] == [
            "invoke_agent inner",
            "execute_tool run_shell",
            "execute_tool run_shell",
        ]


def test_children_exported_in_an_earlier_batch_join_their_run(pipeline: Pipeline) -> None:
    @ag.guarded(guard=pipeline.guard, name="slow")
    def agent() -> None:
        with pipeline.guard.tracer.start_as_current_span("step"):
            pass
        pipeline.flush()  # the child is stored before its run's root span ends

    agent()
    pipeline.flush()
    with LocalStore(pipeline.path) as store:
        (run,) = store.runs()
        assert [s.name for s in store.spans(run_id=run.run_id)] == ["invoke_agent slow", "step"]


def test_runs_are_newest_first_with_limit_and_offset(pipeline: Pipeline) -> None:
    for i in range(5):
        make_agent(pipeline.guard, name=f"agent{i}", llm=False)("go")
    pipeline.flush()
    with LocalStore(pipeline.path) as store:
        assert [r.name for r in store.runs()] == ["agent4", "agent3", "agent2", "agent1", "agent0"]
        assert [r.name for r in store.runs(limit=2, offset=1)] == ["agent3", "agent2"]
        assert store.count_runs() == 5
        assert store.run(store.runs()[0].run_id) == store.runs()[0]
        assert store.run("nope") is None


def test_concurrent_writers_from_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "agentguard.db"
    # Two exporters on one file (two providers, as two processes would be) and many agent threads.
    pipelines = [Pipeline(path), Pipeline(path)]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            agent = make_agent(pipelines[i % 2].guard, name=f"w{i}")
            for _ in range(10):
                agent("go")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in pipelines:
        p.flush()
        p.provider.shutdown()

    assert errors == []
    assert [p.exporter.dropped for p in pipelines] == [0, 0]
    with LocalStore(path) as store:
        runs = store.runs(limit=1000)
        assert len(runs) == 80
        assert len(store.spans()) == 80 * 4
        assert all(len(store.spans(run_id=r.run_id)) == 4 for r in runs)
        assert all(r.tool_calls == 2 and r.input_tokens == 120 for r in runs)


def test_reader_works_while_a_writer_holds_the_write_lock(pipeline: Pipeline) -> None:
    make_agent(pipeline.guard)("go")
    pipeline.flush()

    writer = sqlite3.connect(pipeline.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM runs")  # uncommitted: readers still see the committed state
    try:
        with LocalStore(pipeline.path) as store:
            assert len(store.runs()) == 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reader_opens_read_only(pipeline: Pipeline) -> None:
    make_agent(pipeline.guard)("go")
    pipeline.flush()
    with LocalStore(pipeline.path) as store, pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._conn.execute("DELETE FROM runs")


def test_reader_of_a_missing_store_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no agentguard store"):
        LocalStore(tmp_path / "nothing.db")


def test_reader_refuses_a_store_from_a_newer_agentguard(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="newer"):
        LocalStore(path)


def test_empty_database_reads_as_no_runs(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with LocalStore(path) as store:
        assert store.runs() == []
        assert store.spans() == []


def test_store_is_versioned_and_in_wal_mode(pipeline: Pipeline) -> None:
    make_agent(pipeline.guard)("go")
    pipeline.flush()
    conn = sqlite3.connect(pipeline.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"spans_run_id", "spans_trace_parent", "spans_start_ns", "runs_start_ns"} <= indexes
    conn.close()


def test_default_directory_is_kept_out_of_git(tmp_path: Path) -> None:
    p = Pipeline(tmp_path / ".agentguard" / "agentguard.db", batch=False)
    make_agent(p.guard)("go")
    assert (tmp_path / ".agentguard" / ".gitignore").read_text() == "*\n"
    p.provider.shutdown()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "agentguard" and r.levelno == logging.WARNING]


def test_unwritable_path_drops_spans_without_touching_the_agent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")  # the store's directory cannot be created under a file, even by root
    p = Pipeline(blocker / ".agentguard" / "agentguard.db", batch=False)
    agent = make_agent(p.guard)
    with caplog.at_level(logging.WARNING, logger="agentguard"):
        assert [agent("a"), agent("b")] == ["A", "B"]
    assert p.exporter.dropped == 8
    (warning,) = _warnings(caplog)
    assert "export.local_store" in warning.getMessage()
    assert "the agent continues unaffected" in warning.getMessage()
    p.provider.shutdown()


def test_path_that_is_a_directory_fails_the_export_not_the_caller(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = LocalStoreSpanExporter(tmp_path)  # sqlite cannot open a directory
    spans = _finished_spans()
    with caplog.at_level(logging.WARNING, logger="agentguard"):
        assert exporter.export(spans) is SpanExportResult.FAILURE
        assert exporter.export(spans) is SpanExportResult.FAILURE
    assert exporter.dropped == 2 * len(spans)
    assert len(_warnings(caplog)) == 1


def test_full_disk_drops_the_batch_that_does_not_fit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = Pipeline(tmp_path / "agentguard.db", batch=False)
    agent = make_agent(p.guard)
    agent("first")
    conn = p.exporter._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # what a full disk looks like to SQLite

    @ag.guarded(guard=p.guard, name="big")
    def big() -> str:
        with p.guard.tracer.start_as_current_span("huge", attributes={"blob": "x" * 200_000}):
            return "still fine"

    with caplog.at_level(logging.WARNING, logger="agentguard"):
        assert big() == "still fine"
    assert p.exporter.dropped == 1  # the huge span; its run's root still fits
    assert "full" in _warnings(caplog)[0].getMessage()
    with LocalStore(p.path) as store:
        assert [r.name for r in store.runs()] == ["big", "fixer"]
        assert "huge" not in {s.name for s in store.spans()}
    p.provider.shutdown()


def _finished_spans() -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    make_agent(ag.Guard(tracer_provider=provider))("go")
    return list(memory.get_finished_spans())


def test_locked_database_drops_the_batch_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = Pipeline(tmp_path / "agentguard.db", batch=False, busy_timeout_s=0.05)
    agent = make_agent(p.guard)
    agent("first")  # creates the store

    holder = sqlite3.connect(p.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING, logger="agentguard"):
            assert [agent("a"), agent("b")] == ["A", "B"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert p.exporter.dropped == 8
    assert len(_warnings(caplog)) == 1
    assert "locked" in _warnings(caplog)[0].getMessage()

    agent("after")  # the lock is gone: writing resumes
    with LocalStore(p.path) as store:
        assert store.count_runs() == 2
    p.provider.shutdown()


def test_export_after_shutdown_fails_and_counts(tmp_path: Path) -> None:
    exporter = LocalStoreSpanExporter(tmp_path / "x.db")
    spans = _finished_spans()
    exporter.shutdown()
    assert exporter.export(spans) is SpanExportResult.FAILURE
    assert exporter.dropped == len(spans)
    assert exporter.force_flush()
