"""`agentguard runs`: recent runs from the local store as a table or JSON, and clear one-line errors."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentguard as ag
from agentguard.cli import build_parser, main
from agentguard.cli._common import EXIT_USAGE
from agentguard.export import LocalStoreSpanExporter
from agentguard.telemetry import semconv as sc

sys.path.insert(0, str(Path(__file__).parent))


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


# -- one CLI: the same flags, exit codes and colour rules for every command -------------------------
COMMANDS_WITH_OUTPUT = ("demo", "runs", "scan", "report", "dashboard", "approvals list", "approvals history")


@pytest.mark.parametrize(
    "command", ["demo", "runs", "approvals", "scan", "check", "hook", "dashboard", "report"]
)
def test_every_command_takes_no_color(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert "--no-color" in capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS_WITH_OUTPUT)
def test_commands_with_output_take_json(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command.split(), "--help"]) == 0
    assert "--json" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["runs", "report", "dashboard", "scan"])
def test_store_is_the_one_flag_for_the_data(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert ("--store" in out) or (command == "scan" and "local store" in out)
    assert "--db" not in out


def test_dashboard_help_says_a_browser_opens_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--help"]) == 0
    assert "by default the dashboard also opens it in your browser" in " ".join(
        capsys.readouterr().out.split()
    )


def test_a_missing_store_is_the_same_error_for_runs_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.db")
    assert main(["runs", "--store", missing]) == 1
    runs_err = capsys.readouterr().err
    assert main(["report", "--store", missing, "-o", str(tmp_path / "r.html")]) == 1
    report_err = capsys.readouterr().err
    assert runs_err.split(": ", 1)[1] == report_err.split(": ", 1)[1]
    assert "no store at" in runs_err and not (tmp_path / "r.html").exists()


def test_scan_defaults_to_the_local_store(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTGUARD_STORE", str(store))
    assert main(["scan", "--json", "--all"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sessions"]) == 3
    monkeypatch.setenv("AGENTGUARD_STORE", str(store.parent / "none.db"))
    assert main(["scan"]) == 1
    assert "no store at" in capsys.readouterr().err


def test_scan_caps_repeated_warnings_and_fails_when_nothing_decodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prose = tmp_path / "notes.md"
    prose.write_text("".join(f"line {i} of prose, not JSON\n" for i in range(300)))
    assert main(["scan", str(prose)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) <= 8, err
    assert any("295 more unreadable lines skipped" in line for line in err)
    assert "nothing could be read" in err[-1]


@pytest.mark.parametrize("color_off", [["--no-color"], []])
def test_colour_only_on_a_terminal_and_never_with_no_color(
    color_off: list[str], store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentguard.cli._common import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    args = build_parser().parse_args(["runs", *color_off])
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(args, Terminal()) is (not color_off)  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(args, Terminal()) is False  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")  # an empty NO_COLOR does not count (no-color.org)
    assert use_color(args, Terminal()) is (not color_off)  # type: ignore[arg-type]
    assert use_color(args, io.StringIO()) is False


def test_scan_colours_severities_on_a_terminal_only(tmp_path: Path) -> None:
    from test_scan import line, session

    traces = tmp_path / "t.jsonl"
    traces.write_text(line(*session("f" * 32, None, ["git push --force origin main"])) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    argv = [sys.executable, "-m", "agentguard", "scan", str(traces)]
    piped = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert piped.returncode == 0 and "\033[" not in piped.stdout + piped.stderr
    # a pseudo-terminal: colour on, and NO_COLOR turns it off again
    for extra, coloured in (({}, True), ({"NO_COLOR": "1"}, False)):
        out = run_on_a_terminal(argv, env | extra)
        assert ("\033[31mhigh" in out or "\033[1;31mcritical" in out) is coloured, out


def run_on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    import pty

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(argv, stdout=child_fd, stderr=child_fd, stdin=subprocess.DEVNULL, env=env)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode(errors="replace")


def test_usage_errors_have_their_own_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    from agentguard.cli._common import EXIT_USAGE

    for argv in (["runs", "--nope"], ["scan", "--fail-on", "severe"], ["report", "--range", "soon"]):
        assert main(argv) == EXIT_USAGE, argv
    assert EXIT_USAGE not in (0, 1, 2, 3, 130)  # never mistaken for allow, failure, deny, ask, ^C
    capsys.readouterr()
    assert main(["--help"]) == 0
    assert "64 usage error" in " ".join(capsys.readouterr().out.split())


def test_scan_progress_is_a_bar_of_what_was_read(tmp_path: Path) -> None:
    from agentguard.cli._scan import _ticker

    big = tmp_path / "traces.jsonl"
    big.write_bytes(b"x" * 1_000_000)
    out = io.StringIO()
    with big.open("rb") as f, _ticker(out, "scanning", [big]):
        f.seek(500_000)
        f.read(1)  # the descriptor's offset is now half way
        time.sleep(1.3)
    drawn = out.getvalue()
    if sys.platform.startswith("linux"):
        assert " 50% " in drawn and "[############            ]" in drawn, drawn
    else:
        assert "scanning … 1 s" in drawn
    assert drawn.endswith("\r\033[K")  # the status line is erased when the scan ends


@given(st.floats(min_value=1e-9, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_a_cost_is_never_printed_as_zero_and_keeps_two_significant_digits(usd: float) -> None:
    from agentguard.cli._common import format_usd

    text = format_usd(usd)
    assert text.startswith("$")
    shown = float(text[1:].replace(",", ""))
    assert shown > 0, text  # never "$0.0000" for a cost that is not zero
    assert abs(shown - usd) <= 0.05 * usd + 0.005 * (usd >= 0.01), (usd, text)


@pytest.mark.parametrize(
    ("usd", "text"),
    [(0, "$0"), (0.00004, "$0.000040"), (0.0016592, "$0.0017"), (0.0123, "$0.0123"), (12.345, "$12.35")],
)
def test_costs_as_the_terminal_and_the_dashboard_print_them(usd: float, text: str) -> None:
    from agentguard.cli._common import format_usd

    assert format_usd(usd) == text
