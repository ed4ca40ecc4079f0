"""``agentguard approvals``: list, approve, deny, grants, revoke, history; one-line errors; and a
QueueApprover in this process answered from a second process through the command line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import agentguard as ag
from agentguard.approval import (
    ApprovalRequest,
    ApprovalResult,
    ApprovalStore,
    QueueApprover,
    aresolve,
    resolve,
)
from agentguard.cli import main
from agentguard.cli._common import EXIT_USAGE


def _request(rid: str, run_id: str | None = "run-1", summary: str = "rm -rf build") -> ApprovalRequest:
    return ApprovalRequest(
        id=rid,
        action_hash=f"h-{rid}",
        tool="run",
        kind="shell",
        summary=summary,
        reason="destructive command",
        rule_ids=("destructive_commands",),
        run_id=run_id,
        agent="fixer",
        created=time.time() - 90,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "approvals.db"
    with ApprovalStore(path) as store:
        store.submit(_request("aaa111"))
        store.submit(_request("bbb222", run_id=None, summary="git push --force"))
    return path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["approvals", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_list_shows_pending_requests_as_a_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--db", str(db), "list")
    assert status == 0
    header, first, second, blank, first_action, second_action = out.splitlines()
    assert header.split() == ["ID", "AGE", "STATUS", "AGENT", "TOOL", "REASON"]
    assert first.split()[:4] == ["aaa111", "1m", "pending", "fixer"]
    assert "destructive command" in first
    assert second.split()[0] == "bbb222"
    assert blank == ""
    assert first_action.split(None, 1) == ["aaa111", "rm -rf build"]
    assert second_action.split(None, 1) == ["bbb222", "git push --force"]


LONG = (
    "python3 - <<'EOF'\n"
    + "\n".join(f"    step_{i}('{'x' * 30}')" for i in range(6))
    + "\nEOF\ncurl "
    + "a" * 300
)


def test_list_and_show_print_the_whole_action_wrapped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "approvals.db"
    with ApprovalStore(db) as store:
        store.submit(_request("ccc333", summary=LONG))
    for argv in (["list"], ["show", "ccc333"]):
        status, out, _ = cli(capsys, "--db", str(db), *argv)
        assert status == 0
        joined = "".join(line.strip() for line in out.splitlines())
        assert "a" * 300 in joined, "nothing is cut"
        assert "    step_5" in out, "the script's indentation is kept"
        assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize(
    "hidden",
    ["\x1b[8m", "\r", "\u202e", "\u200b", "\x07", "\x1b]0;title\x07"],
    ids=["conceal", "carriage-return", "bidi-override", "zero-width", "bell", "osc-title"],
)
def test_control_characters_are_shown_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hidden: str
) -> None:
    db = tmp_path / "approvals.db"
    with ApprovalStore(db) as store:
        store.submit(_request("ddd444", summary=f"ls{hidden} ; rm -rf ~"))
    for argv in (["list"], ["show", "ddd444"], ["history"]):
        out = cli(capsys, "--db", str(db), *argv)[1]
        controls = [ch for ch in hidden if not ch.isprintable()]
        assert not any(ch in out for ch in controls), argv
        assert hidden.encode("unicode_escape").decode() in out
        assert "rm -rf ~" in out


def test_a_request_whose_waiter_is_gone_is_orphaned_and_cannot_be_approved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "approvals.db"
    waiter = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, time; from agentguard.approval import ApprovalStore, ApprovalRequest;"
            "s = ApprovalStore(sys.argv[1]);"
            "s.submit(ApprovalRequest(id='eee555', action_hash='h', tool='run', kind='shell',"
            " summary='rm -rf build', reason='r', rule_ids=(), run_id=None, agent='a', created=time.time()),"
            " expires=time.time() + 600, waiter=True)",
            str(db),
        ],
        check=True,
        timeout=60,
    )
    assert waiter.returncode == 0  # the waiting process has exited: nobody will read an answer
    status, out, _ = cli(capsys, "--db", str(db), "list")
    row = out.splitlines()[1].split()
    assert (row[0], row[2]) == ("eee555", "orphaned")
    assert json.loads(cli(capsys, "--db", str(db), "list", "--json")[1])[0]["status"] == "orphaned"
    status, _, err = cli(capsys, "--db", str(db), "approve", "eee555", "--scope", "always")
    assert status == 1
    assert "orphaned" in err
    with ApprovalStore(db) as store:
        assert store.grants() == []
        assert store.pending() == []
    assert "orphaned" in cli(capsys, "--db", str(db), "history")[1]


def test_expired_requests_say_expired_in_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "approvals.db"
    with ApprovalStore(db) as store:
        store.submit(_request("fff666"), expires=time.time() - 1)
    out = cli(capsys, "--db", str(db), "history")[1]
    assert out.splitlines()[1].split()[2] == "expired"
    assert "No pending" in cli(capsys, "--db", str(db), "list")[1]


def test_list_is_the_default_and_db_may_follow_the_action(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "--db", str(db))[1] == cli(capsys, "list", "--db", str(db))[1]


def test_list_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--db", str(db), "list", "--json")
    data = json.loads(out)
    assert status == 0
    assert [d["id"] for d in data] == ["aaa111", "bbb222"]
    assert data[0]["rule_ids"] == ["destructive_commands"]


def test_list_without_a_queue_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--db", str(tmp_path / "none.db"), "list")
    assert status == 0
    assert "no approvals queue" in out
    assert not (tmp_path / "none.db").exists()


def test_db_from_environment(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGUARD_APPROVALS_DB", str(db))
    assert "aaa111" in cli(capsys, "list")[1]


def test_approve_with_scope_then_grants_then_revoke(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, "--db", str(db), "approve", "aaa111", "--scope", "run", "--by", "alice")
    assert status == 0
    assert out.startswith("approved aaa111 for the run (grant g")
    grant_id = out.split("grant ")[1].rstrip(")\n")
    status, out, _ = cli(capsys, "--db", str(db), "grants")
    assert status == 0
    assert out.splitlines()[0].split() == ["GRANT", "SCOPE", "RUN", "AGE", "BY", "TOOL", "SUMMARY"]
    assert out.splitlines()[1].split()[:3] == [grant_id, "run", "run-1"]
    assert json.loads(cli(capsys, "--db", str(db), "grants", "--json")[1])[0]["by"] == "alice"
    assert cli(capsys, "--db", str(db), "revoke", grant_id)[:2] == (0, f"revoked {grant_id}\n")
    assert "No grants" in cli(capsys, "--db", str(db), "grants")[1]
    assert "(revoked)" in cli(capsys, "--db", str(db), "grants", "--all")[1]
    assert "aaa111" not in cli(capsys, "--db", str(db), "list")[1]


def test_deny_with_reason(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--db", str(db), "deny", "bbb222", "--reason", "not on main")[:2] == (
        0,
        "denied bbb222\n",
    )
    with ApprovalStore(db) as store:
        record = store.get("bbb222")
    assert (record.status, record.reason) == ("denied", "not on main")
    assert record.by


def test_history(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "--db", str(db), "approve", "aaa111", "--scope", "always", "--by", "alice")
    status, out, _ = cli(capsys, "--db", str(db), "history")
    assert status == 0
    assert "granted (always)" in out
    assert "pending" in out
    assert len(json.loads(cli(capsys, "--db", str(db), "history", "--json")[1])) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["approve", "zzz999"], "no approval request 'zzz999'"),
        (["deny", "zzz999"], "no approval request 'zzz999'"),
        (["revoke", "gnope"], "no grant 'gnope'"),
        (["approve", "bbb222", "--scope", "run"], "is not part of a run"),
    ],
    ids=["approve-unknown", "deny-unknown", "revoke-unknown", "run-scope-outside-run"],
)
def test_errors_are_one_line_with_status_1(
    db: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = cli(capsys, "--db", str(db), *argv)
    assert status == 1
    assert out == ""
    assert err.startswith("agentguard approvals: ")
    assert message in err
    assert err.count("\n") == 1


def test_answering_twice_is_an_error(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "--db", str(db), "deny", "aaa111", "--by", "bob")
    status, _, err = cli(capsys, "--db", str(db), "approve", "aaa111")
    assert status == 1
    assert err == "agentguard approvals: request aaa111 was already denied by bob\n"


def test_answer_needs_an_existing_queue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, "--db", str(tmp_path / "none.db"), "approve", "x")
    assert status == 1
    assert "no approvals queue at" in err
    assert not (tmp_path / "none.db").exists()


def test_bad_scope_is_a_usage_error(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--db", str(db), "approve", "aaa111", "--scope", "forever")[0] == EXIT_USAGE


def test_store_is_the_queue_flag_and_db_its_hidden_alias(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "--store", str(db), "history", "--json") == cli(
        capsys, "--db", str(db), "history", "--json"
    )
    assert cli(capsys, "history", "--store", str(db), "--json")[0] == 0
    assert main(["approvals", "--help"]) == 0
    assert "--db" not in capsys.readouterr().out


# -- end to end: two processes -------------------------------------------------------------------------
def _agentguard(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentguard", "approvals", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _pending_id(db: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = _agentguard("--db", str(db), "list", "--json")
        assert listed.returncode == 0, listed.stderr
        pending = json.loads(listed.stdout)
        if pending:
            return str(pending[0]["id"])
        time.sleep(0.05)
    raise AssertionError("the request never showed up in the queue")


ACTION = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd="/tmp")
ASK = ag.Decision.ask("destructive command", rule_id="destructive_commands")


@pytest.mark.timeout(120)
def test_queue_request_answered_from_a_second_process_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "approvals.db"
    approver = QueueApprover(db, poll_interval=0.05, timeout=60)
    results: list[ApprovalResult] = []
    waiter = threading.Thread(target=lambda: results.append(resolve(approver, ACTION, ASK, None)))
    waiter.start()
    request_id = _pending_id(db)
    answered = _agentguard("--db", str(db), "approve", request_id, "--scope", "always", "--by", "alice")
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.startswith(f"approved {request_id} always")
    waiter.join(timeout=30)
    (result,) = results
    assert (result.granted, result.by, result.scope) == (True, "alice", "always")
    assert result.wait_s > 0
    assert result.grant_id is not None

    # The grant covers the same action from now on, without asking; revoked from the CLI, it asks again.
    again = resolve(approver, ACTION, ASK, None, timeout=0.2)
    assert (again.granted, again.by) == (True, f"grant:{result.grant_id}")
    revoked = _agentguard("--db", str(db), "revoke", result.grant_id)
    assert revoked.returncode == 0, revoked.stderr
    assert resolve(approver, ACTION, ASK, None, timeout=0.2).reason == "timed out after 0.2s"


@pytest.mark.timeout(120)
def test_async_queue_request_denied_from_a_second_process(tmp_path: Path) -> None:
    db = tmp_path / "approvals.db"
    approver = QueueApprover(db, poll_interval=0.05, timeout=60)

    async def agent() -> ApprovalResult:
        wait = asyncio.ensure_future(aresolve(approver, ACTION, ASK, None))
        request_id = await asyncio.to_thread(_pending_id, db)
        denied = await asyncio.to_thread(
            _agentguard, "--db", str(db), "deny", request_id, "--reason", "no", "--by", "bob"
        )
        assert denied.returncode == 0, denied.stderr
        return await wait

    result = asyncio.run(agent())
    assert (result.granted, result.by, result.reason) == (False, "bob", "no")
    assert result.wait_s > 0
    again = _agentguard("--db", str(db), "approve", _last_id(db))
    assert again.returncode == 1
    assert "already denied by bob" in again.stderr
    assert "Traceback" not in again.stderr


def _last_id(db: Path) -> str:
    with ApprovalStore(db) as store:
        return store.history(limit=1)[0].request.id
