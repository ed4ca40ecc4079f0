"""``agentguard serve``: Claude Code's ``http`` hooks over loopback, answered only with the token."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentguard.cli._common import CommandError
from agentguard.cli._serve import HookServer, install_token

POLICY = """
from agentguard import Scope, rules
from agentguard.policy import Policy

policy = Policy(scope=Scope(root=".", write=["src/**"]), rules=[rules.destructive_commands()])
"""
TOKEN = "t0ken-for-tests"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HookServer]:
    (tmp_path / ".git").mkdir()
    (tmp_path / "policy.py").write_text(POLICY)
    srv = HookServer(("127.0.0.1", 0), policy_path=str(tmp_path / "policy.py"), token=TOKEN, record=False)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def post(
    server: HookServer, body: Any, headers: dict[str, str] | None = None, path: str = "/v1/hooks/claude-code"
) -> tuple[int, dict[str, Any]]:
    port = server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **(headers or {})}
    conn.request("POST", path, json.dumps(body) if not isinstance(body, bytes) else body, sent)
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, payload


def bash(command: str) -> dict[str, Any]:
    return {
        "session_id": "s",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
    }


def decision(payload: dict[str, Any]) -> str | None:
    value = payload["hookSpecificOutput"].get("permissionDecision")
    return value if isinstance(value, str) else None


def test_the_server_answers_like_the_command_hook(server: HookServer) -> None:
    assert post(server, bash("git status")) == (200, post(server, bash("git status"))[1])
    status, payload = post(server, bash("git push --force"))
    assert status == 200 and decision(payload) == "deny"
    assert "destructive_commands" in payload["hookSpecificOutput"]["permissionDecisionReason"]


def test_codex_and_gemini_paths_speak_their_protocols(server: HookServer) -> None:
    gemini = {**bash("rm -rf /"), "hook_event_name": "BeforeTool", "tool_name": "run_shell_command"}
    assert post(server, gemini, path="/v1/hooks/gemini")[1]["decision"] == "deny"
    codex = bash("rm -rf /")
    assert (
        post(server, codex, path="/v1/hooks/codex")[1]["hookSpecificOutput"]["permissionDecision"] == "deny"
    )


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "t0ken-for-tests", "Basic dDB rZW4="])
def test_without_the_token_every_call_is_denied(server: HookServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization or ""}
    status, payload = post(server, bash("ls"), headers)
    if authorization == TOKEN:  # a bare token without "Bearer " is accepted as the token itself
        assert decision(payload) == "allow"
        return
    assert status == 200 and decision(payload) == "deny"
    assert "token" in payload["hookSpecificOutput"]["permissionDecisionReason"]


@pytest.mark.parametrize(
    "headers", [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Host": "evil.example:8717"}]
)
def test_browsers_and_rebound_names_are_refused(server: HookServer, headers: dict[str, str]) -> None:
    status, payload = post(server, bash("ls"), headers)
    assert status == 403 and payload == {"error": "forbidden"}


def test_malformed_bodies_are_denied(server: HookServer) -> None:
    for body in (
        b"",
        b"{{",
        b"[" * 40_000 + b"]" * 40_000,
        json.dumps({**bash("x"), "tool_input": 3}).encode(),
    ):
        status, payload = post(server, body)
        assert status == 200 and decision(payload) == "deny"


def test_health_says_nothing_else(server: HookServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    conn.request("GET", "/healthz")
    assert json.loads(conn.getresponse().read()) == {"ok": True}


def test_only_loopback_addresses_are_served(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="loopback"):
        HookServer(("0.0.0.0", 0), policy_path=str(tmp_path / "p.py"), token=TOKEN)


def test_the_install_token_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "serve-token"
    token = install_token(path)
    assert len(token) >= 32 and install_token(path) == token
    assert path.stat().st_mode & 0o077 == 0


def run_hook(argv: list[str], stdin: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "agentguard", "hook", *argv],
        input=json.dumps(stdin).encode(),
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def test_a_command_hook_hands_its_call_to_the_server(server: HookServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    allow_all = tmp_path / "allow_all.py"
    allow_all.write_text("from agentguard.policy import Policy\npolicy = Policy()\n")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    argv = ["claude-code", "--policy", str(allow_all), "--no-record", "--server", url]
    # the server's policy denies a force push; the local one would allow it
    out = run_hook(argv, bash("git push --force"), {"AGENTGUARD_TOKEN_FILE": str(token_file)})
    assert decision(out) == "deny" and "destructive_commands" in json.dumps(out)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://example.com:80", "not a url"])
def test_without_a_usable_server_the_hook_decides_itself(tmp_path: Path, url: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    (tmp_path / ".git").mkdir()
    policy = tmp_path / "policy.py"
    policy.write_text(POLICY)
    argv = ["claude-code", "--policy", str(policy), "--no-record", "--server", url]
    out = run_hook(argv, bash("git push --force"), {"AGENTGUARD_TOKEN_FILE": str(token_file)})
    assert decision(out) == "deny" and "destructive_commands" in json.dumps(out)
    assert decision(run_hook(argv, bash("ls"), {"AGENTGUARD_TOKEN_FILE": str(token_file)})) == "allow"
