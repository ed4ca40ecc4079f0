"""What a hook process loads to decide a plain command: no parser, no telemetry, no spend ledger.

A coding agent starts the hook once per tool call, so every module it imports is paid on every call
(``benchmarks/bench_hook.py`` measures the whole process). The policy here is the sample Claude Code
policy; the modules below are those a plain command never needs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_POLICY = ROOT / "integrations" / "claude-code" / "agentguard_policy.py"

NOT_FOR_PLAIN_COMMANDS = (
    "tree_sitter",  # the bash parser: plain command lists are split without it
    "tree_sitter_bash",
    "opentelemetry",
    "agentguard.telemetry",
    "agentguard.detect",
    "agentguard.spend",
    "agentguard.guard",
    "logging",
    "argparse",
    "hashlib",
    "sqlite3",
    "jsonschema",
    "base64",
    "shlex",
)

_SCRIPT = """
import json, sys
from agentguard.cli._hook_run import decide
answer = decide(sys.stdin.read(), sys.argv[1])
print(json.dumps([answer, sorted(sys.modules)]))
"""


def _decide_in_a_fresh_process(project: Path, command: str) -> tuple[dict[str, Any], set[str]]:
    hook_input = {
        "session_id": "s",
        "cwd": str(project),
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(project / "agentguard_policy.py")],
        input=json.dumps(hook_input),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    answer, modules = json.loads(done.stdout)
    return answer, set(modules)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    shutil.copy(SAMPLE_POLICY, tmp_path / "agentguard_policy.py")
    return tmp_path


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize(
    "command", ["git status && pytest -q", "ls -la src", "cd src && python -m pytest -x tests/test_a.py"]
)
def test_a_plain_command_is_decided_without_parser_telemetry_or_ledger(project: Path, command: str) -> None:
    answer, modules = _decide_in_a_fresh_process(project, command)
    assert answer["hookSpecificOutput"]["permissionDecision"] == "allow"
    assert [name for name in NOT_FOR_PLAIN_COMMANDS if _loaded(modules, name)] == []


def test_a_piped_command_loads_the_parser_and_is_still_decided(project: Path) -> None:
    answer, modules = _decide_in_a_fresh_process(project, "git log | head -5")
    assert answer["hookSpecificOutput"]["permissionDecision"] == "allow"
    assert "tree_sitter" in modules


def test_a_denied_command_is_denied_on_the_lazy_path(project: Path) -> None:
    answer, _ = _decide_in_a_fresh_process(project, "git push --force origin main")
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
