"""`agentguard demo` runs non-interactively end to end, and its store holds what the summary says."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from agentguard import semconv as sc
from agentguard.demo._scenario import EXPECTED
from agentguard.export import LocalStore


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_", "AGENTGUARD_"))}
    argv = [sys.executable, "-m", "agentguard", "demo", "--no-color", "--store", str(tmp / "store.db"),
            "--report", str(tmp / "report.html"), "--workdir", str(tmp / "work")]  # fmt: skip
    done = subprocess.run(argv, cwd=tmp, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done, tmp


def test_summary_shows_decisions_signals_cost_and_the_dashboard_command(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, tmp = demo
    out = done.stdout
    assert "DENY  scope.write: writes tests/test_parse.py" in out
    assert "DENY  destructive_commands: git push force-pushes" in out
    assert "approved by demo-reviewer" in out
    assert "destructive.command" in out
    assert f"dashboard: agentguard dashboard --store {tmp / 'store.db'}" in out
    assert "$0.00" in out and "unknown" not in out.split("━━ cost")[1].split("━━")[0]
    assert (tmp / "report.html").read_text().count("Refusal rate") >= 1


def test_store_holds_both_runs_with_their_decisions_and_signals(
    demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
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
            attrs = event["attributes"]
            if event["name"] == sc.EVENT_POLICY_DECISION:
                outcomes[attrs[sc.POLICY_DECISION]] += 1
            elif event["name"] == sc.EVENT_SIGNAL:
                signals.add(attrs[sc.SIGNAL_CODE])
    assert outcomes["deny"] == EXPECTED["decisions"]["deny"]
    assert set(EXPECTED["signals"]) <= signals
    # the force push never ran: the sample repository still has only its commits, and the fix landed
    work = tmp / "work" / "textstats"
    log = subprocess.run(["git", "log", "--oneline"], cwd=work, capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 2
    assert 'assert parse_pairs("a=1, b=2") == {"a": 1, "b": 2}' in (work / "tests/test_parse.py").read_text()
