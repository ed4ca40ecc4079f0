"""``agentguard check``: the decision as JSON, exit 0 allow / 2 deny / 3 ask / 1 bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentguard.cli import main

POLICY = """
from agentguard import Scope, rules
from agentguard.policy import Policy

policy = Policy(
    scope=Scope(root=".", write=["src/**"], hosts=["pypi.org"]),
    rules=[rules.destructive_commands(), rules.secrets()],
)
"""

SAMPLE = Path(__file__).parents[2] / "integrations" / "claude-code" / "agentguard_policy.py"


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "agentguard_policy.py"
    path.write_text(POLICY)
    (tmp_path / "src").mkdir()
    return path


def check(
    policy: Path, action: str | None, capsys: pytest.CaptureFixture[str], stdin: str = ""
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    argv = ["check", "--policy", str(policy)] + ([action] if action is not None else [])
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        status = main(argv)
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else {}), err


@pytest.mark.parametrize(
    ("action", "status", "decision"),
    [
        ({"kind": "shell", "tool": "run", "command": "ls src"}, 0, "allow"),
        ({"kind": "shell", "tool": "run", "command": "git push --force"}, 2, "deny"),
        ({"kind": "shell", "tool": "run", "command": "$TOOL --all"}, 3, "ask"),
        ({"kind": "write_file", "path": "src/a.py", "content": "x"}, 0, "allow"),
        ({"kind": "write_file", "path": "README.md"}, 2, "deny"),
        ({"tool": "Bash", "arguments": {"command": "cat .env"}}, 2, "deny"),
        ({"tool": "WebFetch", "arguments": {"url": "https://pypi.org/x", "prompt": "p"}}, 0, "allow"),
        (
            {
                "tool": "shell",
                "profile": "codex",
                "arguments": {"command": ["bash", "-lc", "git reset --hard"]},
            },
            2,
            "deny",
        ),
    ],
    ids=[
        "allow",
        "deny",
        "ask",
        "write-in-scope",
        "write-outside",
        "claude-bash",
        "claude-webfetch",
        "codex",
    ],
)
def test_exit_status_and_json(
    policy_file: Path,
    capsys: pytest.CaptureFixture[str],
    action: dict[str, str],
    status: int,
    decision: str,
) -> None:
    action = {"cwd": str(policy_file.parent), **action}
    got, out, err = check(policy_file, json.dumps(action), capsys)
    assert (got, out["outcome"]) == (status, decision), err
    assert set(out) >= {"outcome", "reason", "rules", "matched", "facts", "facts_digest", "explanation"}
    assert out["facts"]["cwd"] == str(policy_file.parent.resolve())


def test_reads_the_action_from_stdin(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    action = json.dumps({"kind": "shell", "command": "git reset --hard", "cwd": str(policy_file.parent)})
    status, out, _ = check(policy_file, "-", capsys, stdin=action)
    assert (status, out["rules"]) == (2, ["destructive_commands"])
    status, out, _ = check(policy_file, None, capsys, stdin=action)
    assert status == 2


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"command": "ls"}', "needs a 'kind'"),
        ('{"kind": "teleport"}', "unknown tool kind"),
        ('{"kind": "shell", "command": ["ls"]}', "must be a string"),
        ('{"tool": "Bash", "arguments": "ls"}', "must be an object"),
        ('{"tool": "Bash", "profile": "claude_cod", "arguments": {"command": "ls"}}', "unknown profile"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    policy_file: Path, capsys: pytest.CaptureFixture[str], action: str, message: str
) -> None:
    status, out, err = check(policy_file, action, capsys)
    assert status == 1 and out == {}
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("policy = ", "SyntaxError"),
        ("raise RuntimeError('nope')", "RuntimeError: nope"),
        ("x = 1", "does not define `policy`"),
        ("policy = 42", "no check(action) method"),
    ],
    ids=["missing", "syntax", "raises", "undefined", "not-a-policy"],
)
def test_a_bad_policy_file_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "p.py"
    if content is not None:
        path.write_text(content)
    status, out, err = check(path, '{"kind": "shell", "command": "ls"}', capsys)
    assert status == 1 and out == {}
    assert message in err and err.count("\n") == 1


def test_the_sample_claude_code_policy_loads_and_decides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    action = {"tool": "Bash", "arguments": {"command": "npx @openai/codex"}, "cwd": str(tmp_path)}
    status, out, _ = check(SAMPLE, json.dumps(action), capsys)
    assert status == 2 and "no_agent_spawn" in out["rules"]  # npx also reaches registry.npmjs.org


def test_python_dash_m_agentguard_check(policy_file: Path) -> None:
    action = json.dumps({"kind": "shell", "command": "rm -rf /", "cwd": str(policy_file.parent)})
    proc = subprocess.run(
        [sys.executable, "-m", "agentguard", "check", "--compact", "--policy", str(policy_file), action],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "deny"
    assert proc.stdout.count("\n") == 1


@pytest.mark.parametrize(
    ("action", "status", "rule"),
    [
        ({"tool": "mcp__shell__execute", "arguments": {"command": "rm -rf ~"}}, 2, "destructive_commands"),
        ({"tool": "mcp__tickets__frobnicate", "arguments": {"id": 7}}, 3, "scope.opaque"),
        ({"tool": "Bash", "profile": "claude_code", "arguments": {}}, 2, "malformed"),
        ({"tool": "Write", "profile": "claude_code", "arguments": {"content": "x"}}, 2, "malformed"),
    ],
    ids=["mcp-shell", "unknown-effect", "bash-without-command", "write-without-path"],
)
def test_no_unknown_tool_or_malformed_call_is_allowed(
    policy_file: Path, capsys: pytest.CaptureFixture[str], action: dict[str, object], status: int, rule: str
) -> None:
    got, out, _ = check(policy_file, json.dumps(action), capsys)
    assert got == status and rule in out["rules"]


def test_default_allow_of_an_unknown_effect_asks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.py"
    policy.write_text("from agentguard.policy import Policy\npolicy = Policy()\n")
    got, out, _ = check(policy, json.dumps({"tool": "mcp__x__do_it", "arguments": {"n": 1}}), capsys)
    assert got == 3 and out["rules"] == ["unknown_effect"]


def test_text_mode_prints_the_explanation(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    action = json.dumps({"kind": "shell", "command": "git push --force"})
    status = main(["check", "--policy", str(policy_file), "--text", action])
    out = capsys.readouterr().out
    assert status == 2 and "denied" in out.lower() and not out.lstrip().startswith("{")


def test_a_usage_error_is_not_a_deny(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--policy", str(policy_file), "--bogus", "{}"]) == 64
    assert main(["check"]) == 64
    assert "usage:" in capsys.readouterr().err
