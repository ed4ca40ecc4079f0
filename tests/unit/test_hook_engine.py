"""The hook's scope root is the project, whatever the ``cwd``; slow decisions are cut at the deadline;
decisions reach the local store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentguard.cli._hook_engine import HookEngine, project_of
from agentguard.cli._hook_protocols import CLAUDE_CODE, HookCall
from agentguard.export import LocalStore

POLICY = """
from agentguard import Scope, rules
from agentguard.policy import Policy

policy = Policy(
    scope=Scope(root=".", write=["src/**"]), rules=[rules.destructive_commands(), rules.secrets()]
)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src").mkdir()
    (root / ".claude").mkdir()
    (root / ".claude" / "agentguard_policy.py").write_text(POLICY)
    (tmp_path / "elsewhere").mkdir()
    (root / "src" / "out").symlink_to(tmp_path / "elsewhere")
    return root


def engine(project: Path, environ: dict[str, str] | None = None) -> HookEngine:
    return HookEngine(CLAUDE_CODE, str(project / ".claude" / "agentguard_policy.py"), environ=environ or {})


def call(tool: str, tool_input: dict[str, Any], cwd: str) -> HookCall:
    return HookCall(tool=tool, tool_input=tool_input, cwd=cwd, session_id="s", call_id=None)


def test_the_project_of_a_policy_file_is_its_repository(project: Path) -> None:
    assert project_of(str(project / ".claude" / "agentguard_policy.py")) == str(project)


@pytest.mark.parametrize("cwd", ["<root>", "<root>/src", "<root>/src/out", "<tmp>/elsewhere", "/"])
def test_the_cwd_never_moves_the_scope_root(project: Path, cwd: str) -> None:
    cwd = cwd.replace("<root>", str(project)).replace("<tmp>", str(project.parent))
    hook = engine(project)
    inside = hook.decide(call("Write", {"file_path": str(project / "src" / "a.py"), "content": "x"}, cwd))
    assert inside.outcome == "allow", inside.reason
    # the cwd's own files are outside the project unless the cwd is in it (a symlink out is not)
    outside = hook.decide(call("Write", {"file_path": "x.py", "content": "x"}, cwd))
    assert (outside.outcome == "allow") is (cwd in (str(project / "src"),)), outside.reason
    # `rm -rf .` deletes the root itself, or a directory outside it, except from src/ (writable)
    deleting = hook.decide(call("Bash", {"command": "rm -rf ."}, cwd))
    assert (deleting.outcome == "allow") is (cwd == str(project / "src")), deleting.reason


def test_the_agents_project_directory_wins(project: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policies" / "p.py"
    policy.parent.mkdir()
    policy.write_text(POLICY)
    hook = HookEngine(CLAUDE_CODE, str(policy), environ={"CLAUDE_PROJECT_DIR": str(project)})
    assert hook.project == str(project)
    verdict = hook.decide(call("Write", {"file_path": str(project / "src" / "a.py"), "content": ""}, "/"))
    assert verdict.outcome == "allow", verdict.reason


@pytest.mark.parametrize(
    ("tool_input", "message"),
    [
        ({}, "Bash call without 'command'"),
        ({"command": ""}, "empty 'command'"),
        ({"command": {"$": "rm -rf ~"}}, "must be a string"),
        ({"command": "ls", "timeout": "soon"}, "'timeout' must be a number"),
        ({"command": "ls", "run_in_background": "yes"}, "true or false"),
    ],
)
def test_a_malformed_known_tool_call_is_denied(
    project: Path, tool_input: dict[str, Any], message: str
) -> None:
    verdict = engine(project).decide(call("Bash", tool_input, str(project)))
    assert verdict.outcome == "deny"
    assert message in verdict.reason


def run_hook(project: Path, stdin: dict[str, Any], *argv: str, env: dict[str, str] | None = None) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "agentguard", "hook", "claude-code", *argv],
        input=json.dumps(stdin).encode(),
        capture_output=True,
        timeout=120,
        check=False,
        cwd=project,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["hookSpecificOutput"]


@pytest.mark.parametrize(
    "stuck",
    [
        "time.sleep(60)",
        # inside one C call that holds the GIL: no thread or signal handler in the process could run
        "re.match(r'(a+)+$', 'a' * 64 + 'b')",
    ],
)
def test_a_decision_past_the_deadline_is_a_deny(project: Path, stuck: str) -> None:
    slow = project / "slow.py"
    slow.write_text(
        "import re, time\n"
        "class Slow:\n"
        f"    def check(self, action, run=None):\n        {stuck}\n"
        "policy = Slow()\n"
    )
    hook_input = {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"}}
    started = time.monotonic()
    out = run_hook(project, hook_input, "--policy", str(slow), "--deadline", "1", "--no-record")
    elapsed = time.monotonic() - started
    assert out["permissionDecision"] == "deny"
    assert "deadline" in out["permissionDecisionReason"]
    assert elapsed < 30  # the interpreter start-up plus the 1 s deadline, on a loaded machine


def test_decisions_are_recorded_into_the_local_store(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    policy = str(project / ".claude" / "agentguard_policy.py")
    for i, command in enumerate(["pytest -q", "git push --force", "ls"]):
        hook_input = {
            "session_id": "sess-1",
            "cwd": str(project),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
            "tool_use_id": f"toolu_{i}",
        }
        run_hook(project, hook_input, "--policy", policy, env={"AGENTGUARD_STORE": str(store)})
    run = None
    for _ in range(100):  # recording happens after the answer is printed
        if store.exists():
            with LocalStore(store) as s:
                run = s.run("claude-code:sess-1")
                if run is not None and run.tool_calls == 3:
                    spans = s.spans(run_id="claude-code:sess-1")
                    break
        time.sleep(0.1)
    assert run is not None and run.tool_calls == 3 and run.conversation_id == "sess-1"
    tools = [sp for sp in spans if sp.attributes.get("gen_ai.operation.name") == "execute_tool"]
    decisions = [e.attributes["agentguard.policy.decision"] for sp in tools for e in sp.events]
    assert sorted(decisions) == ["allow", "allow", "deny"]
    assert {sp.attributes.get("gen_ai.tool.call.id") for sp in tools} == {"toolu_0", "toolu_1", "toolu_2"}


def test_no_record_writes_nothing(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    hook_input = {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
    }
    policy = str(project / ".claude" / "agentguard_policy.py")
    run_hook(project, hook_input, "--policy", policy, "--no-record", env={"AGENTGUARD_STORE": str(store)})
    time.sleep(1)
    assert not store.exists()
