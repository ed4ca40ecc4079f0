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
}


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
