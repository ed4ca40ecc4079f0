"""`agentguard demo` runs non-interactively end to end, and every view of its store tells one story.

The terminal summary, ``agentguard runs``, ``agentguard report``, the dashboard's API and ``agentguard
demo --json`` are all read from the same store; they must agree on runs, decisions (an approved ask is
one decision), signals and cost.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from agentguard.dashboard import DashboardApi, StoreSource
from agentguard.demo._scenario import EXPECTED
from agentguard.export import LocalStore
from agentguard.telemetry import semconv as sc

Demo = tuple[subprocess.CompletedProcess[str], Path]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "AGENTGUARD_"))}


def agentguard(*argv: str, cwd: Path, tmpdir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = clean_env() | ({"TMPDIR": str(tmpdir)} if tmpdir else {})
    argv_ = [sys.executable, "-m", "agentguard", *argv]
    return subprocess.run(
        argv_,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    tmp = tmp_path_factory.mktemp("demo")
    store, report, work = str(tmp / "store.db"), str(tmp / "report.html"), str(tmp / "work")
    done = agentguard("demo", "--no-color", "--store", store, "--report", report, "--workdir", work, cwd=tmp)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, tmp


def section(out: str, title: str) -> str:
    return out.split(f"━━ {title}")[1].split("━━", maxsplit=1)[0]


def test_summary_shows_decisions_signals_cost_and_commands_that_run(demo: Demo) -> None:
    done, tmp = demo
    out = done.stdout
    assert "DENY  scope.write: writes tests/test_parse.py" in out
    assert "DENY  destructive_commands: git push force-pushes" in out
    assert "approved by demo-reviewer" in out
    assert "destructive.command" in out
    assert "$0.00" in out and "unknown" not in section(out, "cost")
    assert "\033[" not in out  # --no-color
    assert (tmp / "report.html").read_text().count("Refusal rate") >= 1
    # the printed commands are runnable as printed (not a bare `agentguard` that is not on PATH)
    dashboard = re.search(r"dashboard: (\S+) dashboard --store (\S+)", out)
    assert dashboard is not None
    prog = dashboard.group(1)
    assert prog == "agentguard" or Path(prog).is_file() or Path(tmp, prog).is_file(), prog
    assert Path(dashboard.group(2)) == tmp / "store.db"


def test_wording_has_no_number_agreement_slips_or_zero_costs(demo: Demo) -> None:
    out = demo[0].stdout
    assert not re.search(r"\b1 (refusals|decisions|LLM calls|signals|runs)\b", out)
    assert "these 1" not in out and "0 asked (approved" not in out
    assert not re.search(r"\$0\.0+(?!\d*[1-9])\b", out), "a cost that rounds to zero is printed"
    assert "Error: FileNotFoundError" not in out and "FileNotFoundError: FileNotFoundError" not in out


def test_store_holds_both_runs_with_their_decisions_and_signals(demo: Demo) -> None:
    _, tmp = demo
    store = LocalStore(tmp / "store.db")
    runs = {r.name: r for r in store.runs()}
    assert set(runs) == {"fixer", "ops-agent"}
    assert runs["fixer"].llm_calls == 8
    assert runs["fixer"].tool_calls is not None and runs["fixer"].tool_calls >= 8
    assert runs["fixer"].cost_usd is not None and runs["fixer"].cost_usd > 0
    assert runs["ops-agent"].refusals == 1
    outcomes: Counter[str] = Counter()
    signals: set[str] = set()
    for span in store.spans(run_id=runs["fixer"].run_id):
        for event in span.events:
            attrs = event.attributes
            if event.name == sc.EVENT_POLICY_DECISION:
                outcomes[attrs[sc.POLICY_DECISION]] += 1
            elif event.name == sc.EVENT_SIGNAL:
                signals.add(attrs[sc.SIGNAL_CODE])
    assert outcomes["deny"] == EXPECTED["decisions"]["deny"]
    assert set(EXPECTED["signals"]) <= signals
    # the force push never ran: the sample repository still has only its commits, and the fix landed
    work = tmp / "work" / "textstats"
    log = subprocess.run(["git", "log", "--oneline"], cwd=work, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 2
    assert 'assert parse_pairs("a=1, b=2") == {"a": 1, "b": 2}' in (work / "tests/test_parse.py").read_text()


def test_terminal_runs_report_dashboard_and_json_agree(demo: Demo) -> None:
    done, tmp = demo
    store = tmp / "store.db"
    source = StoreSource(store)
    source.refresh()
    try:
        api = DashboardApi(source)
        overview, scope = api.panel("overview"), api.panel("scope")
        triage = api.triage()
    finally:
        source.close()
    decisions = overview["decisions"]
    # the terminal: "18 decisions: 15 allowed, 1 asked (1 approved, 0 refused ...), 2 denied"
    line = section(done.stdout, "policy decisions").strip().splitlines()[0]
    counts = re.match(r"(\d+) decisions: (\d+) allowed, (\d+) asked .*?, (\d+) denied", line)
    assert counts is not None, line
    total, allowed, asked, denied = map(int, counts.groups())
    assert (allowed, asked, denied) == (decisions["allow"], decisions["ask"], decisions["deny"])
    assert total == sum(decisions.values())  # an approved ask is one decision, not an ask and an allow
    assert asked == EXPECTED["decisions"]["ask"] and denied == EXPECTED["decisions"]["deny"]
    signal_lines = section(done.stdout, "signals").strip().splitlines()
    assert len(signal_lines) == overview["signals"] == sum(i["signals"] for i in triage["items"])
    # the denied write outside the scope is one violation (it also raised a scope_creep signal)
    assert scope["total"] == 1 and len(scope["recent"]) == 1
    # agentguard runs lists this demo's two runs and nothing else
    runs = json.loads(agentguard("runs", "--json", "--store", str(store), cwd=tmp).stdout)
    assert sorted(r["name"] for r in runs) == ["fixer", "ops-agent"] and len(runs) == overview["runs"]
    # agentguard scan sees the same sessions
    scanned = agentguard("scan", "--json", str(store), cwd=tmp)
    assert scanned.returncode == 0, scanned.stderr
    assert len(json.loads(scanned.stdout)["sessions"]) == overview["runs"]
    # agentguard report counts the same
    report = agentguard("report", "--json", "--store", str(store), "-o", str(tmp / "r.html"), cwd=tmp)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) | {"path": None} == {
        "path": None,
        "runs": overview["runs"],
        "signals": overview["signals"],
        "decisions": decisions,
    }


def test_demo_json_reports_this_demo_only_and_cleans_up(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    first = agentguard("demo", "--json", "--report", "", cwd=tmp_path, tmpdir=scratch)
    second = agentguard("demo", "--json", "--report", "", cwd=tmp_path, tmpdir=scratch)
    assert first.returncode == second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["runs"] == b["runs"] == 2  # the demo's own store is replaced: no earlier runs mixed in
    assert a["decisions"] == b["decisions"] and b["workdir"] is None
    assert (tmp_path / ".agentguard" / "demo.db").is_file()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("agentguard-demo-")] == []
    runs = json.loads(agentguard("runs", "--json", "--store", ".agentguard/demo.db", cwd=tmp_path).stdout)
    assert len(runs) == 2


def test_scan_reports_the_signals_recorded_in_the_store(demo: Demo) -> None:
    _, tmp = demo
    store = tmp / "store.db"
    source = StoreSource(store)
    source.refresh()
    try:
        from agentguard.dashboard._queries import signal_list

        recorded = sorted(s["code"] for s in signal_list(source))
    finally:
        source.close()
    scanned = json.loads(agentguard("scan", "--json", str(store), cwd=tmp).stdout)
    assert sorted(s["code"] for session in scanned["sessions"] for s in session["signals"]) == recorded
