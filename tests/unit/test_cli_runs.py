"""`agentguard runs`: recent runs from the local store as a table or JSON, and clear one-line errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentguard as ag
from agentguard import semconv as sc
from agentguard.cli import main
from agentguard.cli._common import EXIT_USAGE
from agentguard.export import LocalStoreSpanExporter


def record_runs(path: Path) -> None:
    """Three runs: one with LLM usage and known cost, one without cost, one that failed."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(LocalStoreSpanExporter(path)))
    guard = ag.Guard(tracer_provider=provider)

    @ag.tool(kind="shell")
    def run_shell(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard, name="fixer", task="fix the failing parser test in tests/test_parser.py please")
    def fixer() -> None:
        with guard.tracer.start_as_current_span("chat m", attributes={sc.GEN_AI_OPERATION_NAME: "chat"}):
            run = ag.current_run()
            assert run is not None
            run.record_llm_call(input_tokens=12_345, output_tokens=678, cost_usd=0.0123, refusal=True)
        run_shell("pytest")

    @ag.guarded(guard=guard, name="scout")
    def scout() -> None:
        run_shell("ls")
        run_shell("cat README")

    @ag.guarded(guard=guard, name="crasher", task="crash")
    def crasher() -> None:
        raise RuntimeError("boom")

    fixer()
    scout()
    with pytest.raises(RuntimeError):
        crasher()
    provider.shutdown()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "agentguard.db"
    record_runs(path)
    return path


def test_table_lists_runs_newest_first_with_totals(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--store", str(store)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    header, *rows = out.splitlines()
    columns = ["STARTED", "NAME", "TASK", "DURATION", "COST", "TOKENS IN/OUT"]
    columns += ["LLM", "TOOLS", "REFUSALS", "STATUS"]
    assert header.split() == " ".join(columns).split()
    assert [r.split()[2] for r in rows] == ["crasher", "scout", "fixer"]
    crasher, scout, fixer = rows
    assert crasher.rstrip().endswith("error")
    assert "fix the failing parser test in tests/te…" in fixer  # long tasks are cut to 40 characters
    assert "$0.0123" in fixer and "12,345 / 678" in fixer
    assert fixer.split()[-4:] == ["1", "1", "1", "ok"]  # LLM calls, tool calls, refusals, status
    assert scout.split()[-4:] == ["0", "2", "0", "ok"]
    assert " — " in scout  # no task, unknown cost
    widths = {len(line.rstrip()) for line in out.splitlines()}
    assert max(widths) <= 160


def test_limit_and_more_hint(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--store", str(store), "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert lines[-1] == "(2 of 3 runs; --limit N for more)"


def test_json_output(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--store", str(store), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in runs] == ["crasher", "scout", "fixer"]
    fixer = runs[2]
    assert fixer["cost_usd"] == pytest.approx(0.0123)
    assert (fixer["input_tokens"], fixer["output_tokens"], fixer["llm_calls"]) == (12_345, 678, 1)
    assert runs[1]["cost_usd"] is None
    assert runs[0]["status"] == "error" and runs[0]["status_message"] == "RuntimeError: boom"
    assert fixer["duration_s"] >= 0 and "T" in fixer["started_at"]


def test_empty_store_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    assert main(["runs", "--store", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("No runs recorded yet")
    assert main(["runs", "--store", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_missing_store_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--store", str(tmp_path / "nope.db")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("agentguard runs: no store at")
    assert "agentguard.configure()" in err


def test_unreadable_store_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    assert main(["runs", "--store", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read the store" in err


def test_default_store_comes_from_the_environment(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTGUARD_STORE", str(store))
    assert main(["runs", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


@pytest.mark.parametrize("argv", [["runs", "--limit", "0"], ["runs", "--limit", "x"], ["nosuch"]])
def test_usage_errors_exit_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE == 64
    assert "usage:" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    assert "runs" in capsys.readouterr().err


def test_python_dash_m_agentguard_runs(store: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGUARD_")}
    proc = subprocess.run(
        [sys.executable, "-m", "agentguard", "runs", "--store", str(store)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line.split()[2] for line in proc.stdout.splitlines()[1:]] == ["crasher", "scout", "fixer"]

    missing = subprocess.run(
        [sys.executable, "-m", "agentguard", "runs", "--store", str(store.parent / "nope.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and missing.stderr.count("\n") == 1
