"""Every example under examples/ runs as a user runs it (``python examples/X.py`` in a fresh directory,
offline: each starts its own scripted model or in-process server) and shows the model a denial reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DENIES = {
    "openai_agents_guarded.py": "Denied by policy",
    "langchain_guarded.py": "Denied by policy",
    "mcp_guarded.py": "Denied by policy",
    "claude_agent_sdk_guarded.py": "Denied by policy",
    "quickstart.py": "",
    "fleet_demo.py": "the monitor reviewed 5 of 5 sessions (coverage 100%",
}


def _fleet_reviewed_and_triaged(workdir: Path, stdout: str) -> None:
    """The fleet demo's findings reach the dashboard's triage and its metrics were served."""
    from agentguard.dashboard import MonitorView

    view = MonitorView(workdir / ".agentguard" / "fleet-demo")
    try:
        page = view.findings()
    finally:
        view.close()
    codes = {f["code"] for item in page["items"] for f in item["findings"]}
    assert {
        "circumvention.decode_exec",
        "reward_hacking.skip_added",
        "exfiltration.secret_then_egress",
    } <= codes
    assert page["total"] == 3 and all(not item["fleet"] for item in page["items"])  # three flagged sessions
    assert "ALERT CRITICAL circumvention.decode_exec" in stdout
    assert 'agentguard_monitor_sessions_total{agentguard_monitor_state="reviewed"} 5' in stdout
    assert "agentguard_monitor_review_latency_seconds_count 5" in stdout
    assert "agentguard_monitor_coverage 1" in stdout
    assert 'agentguard_signal_category="circumvention",agentguard_signal_severity="critical"} 1' in stdout


AFTER = {"fleet_demo.py": _fleet_reviewed_and_triaged}


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(DENIES)


@pytest.mark.parametrize("name", sorted(DENIES))
def test_example_runs_and_the_model_reads_the_denial(name: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "OTEL_", "AGENTGUARD_"))}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert DENIES[name] in done.stdout
    if name in AFTER:
        AFTER[name](tmp_path, done.stdout)
