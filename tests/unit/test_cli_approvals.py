"""``agentguard approvals``: list, approve, deny, grants, revoke, history; one-line errors; and a
QueueApprover in this process answered from a second process through the command line.

Tests taking ``queue`` or ``q`` run on a SQLite file (``--store``) and on a real PostgreSQL (``--url``)."""

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
    aresolve,
    resolve,
)
from agentguard.cli import main
from agentguard.cli._common import EXIT_USAGE
from approval_queues import Queue


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
def q(queue: Queue) -> Queue:
    with queue.open() as store:
        store.submit(_request("aaa111"))
        store.submit(_request("bbb222", run_id=None, summary="git push --force"))
    return queue


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["approvals", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_list_shows_pending_requests_as_a_table(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, *q.argv, "list")
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
    queue: Queue, capsys: pytest.CaptureFixture[str]
) -> None:
    with queue.open() as store:
        store.submit(_request("ccc333", summary=LONG))
    for argv in (["list"], ["show", "ccc333"]):
        status, out, _ = cli(capsys, *queue.argv, *argv)
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
    queue: Queue, capsys: pytest.CaptureFixture[str], hidden: str
) -> None:
    with queue.open() as store:
        store.submit(_request("ddd444", summary=f"ls{hidden} ; rm -rf ~"))
    for argv in (["list"], ["show", "ddd444"], ["history"]):
        out = cli(capsys, *queue.argv, *argv)[1]
        controls = [ch for ch in hidden if not ch.isprintable()]
        assert not any(ch in out for ch in controls), argv
        assert hidden.encode("unicode_escape").decode() in out
        assert "rm -rf ~" in out


def test_a_request_whose_waiter_is_gone_is_orphaned_and_cannot_be_approved(
    queue: Queue, capsys: pytest.CaptureFixture[str]
) -> None:
    waiter = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, time; from agentguard.approval import ApprovalStore, ApprovalRequest;"
            "s = ApprovalStore(url=sys.argv[1]) if '://' in sys.argv[1] else ApprovalStore(sys.argv[1]);"
            "s.submit(ApprovalRequest(id='eee555', action_hash='h', tool='run', kind='shell',"
            " summary='rm -rf build', reason='r', rule_ids=(), run_id=None, agent='a', created=time.time()),"
            " expires=time.time() + 600, waiter=True)",
            queue.url or str(queue.path),
        ],
        check=True,
        timeout=60,
    )
    assert waiter.returncode == 0  # the waiting process has exited: nobody will read an answer
    status, out, _ = cli(capsys, *queue.argv, "list")
    row = out.splitlines()[1].split()
    assert (row[0], row[2]) == ("eee555", "orphaned")
    assert json.loads(cli(capsys, *queue.argv, "list", "--json")[1])[0]["status"] == "orphaned"
    status, _, err = cli(capsys, *queue.argv, "approve", "eee555", "--scope", "always")
    assert status == 1
    assert "orphaned" in err
    with queue.open() as store:
        assert store.grants() == []
        assert store.pending() == []
    assert "orphaned" in cli(capsys, *queue.argv, "history")[1]


def test_expired_requests_say_expired_in_history(queue: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    with queue.open() as store:
        store.submit(_request("fff666"), expires=time.time() - 1)
    out = cli(capsys, *queue.argv, "history")[1]
    assert out.splitlines()[1].split()[2] == "expired"
    assert "No pending" in cli(capsys, *queue.argv, "list")[1]


def test_list_is_the_default_and_db_may_follow_the_action(
    q: Queue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, *q.argv)[1] == cli(capsys, "list", *q.argv)[1]


def test_list_json(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, *q.argv, "list", "--json")
    data = json.loads(out)
    assert status == 0
    assert [d["id"] for d in data] == ["aaa111", "bbb222"]
    assert data[0]["rule_ids"] == ["destructive_commands"]


def test_list_without_a_queue_says_so(queue: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["list"], ["grants"], ["history"]):
        status, out, _ = cli(capsys, *queue.argv, *argv)
        assert status == 0
        assert out.startswith("Nothing yet: no approvals queue at ")
        assert cli(capsys, *queue.argv, *argv, "--json")[1] == "[]\n"
    _assert_no_queue(queue)


def _assert_no_queue(queue: Queue) -> None:
    """Reading an absent queue created nothing: no file, no tables."""
    if queue.path is not None:
        assert not queue.path.exists()
        return
    with pytest.raises(FileNotFoundError):
        queue.open(create=False)


def test_queue_from_environment(
    q: Queue, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AGENTGUARD_APPROVALS_URL", raising=False)
    monkeypatch.delenv("AGENTGUARD_APPROVALS_DB", raising=False)
    if q.url is not None:
        monkeypatch.setenv("AGENTGUARD_APPROVALS_URL", q.url)
        monkeypatch.setenv("AGENTGUARD_APPROVALS_DB", str(tmp_path / "other.db"))  # the URL wins
    else:
        monkeypatch.setenv("AGENTGUARD_APPROVALS_DB", str(q.path))
    assert "aaa111" in cli(capsys, "list")[1]
    # an explicit --store is that file, whatever the environment says
    assert "Nothing yet" in cli(capsys, "--store", str(tmp_path / "none.db"), "list")[1]


def test_approve_with_scope_then_grants_then_revoke(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = cli(capsys, *q.argv, "approve", "aaa111", "--scope", "run", "--by", "alice")
    assert status == 0
    assert out.startswith("approved aaa111 for the run (grant g")
    grant_id = out.split("grant ")[1].rstrip(")\n")
    status, out, _ = cli(capsys, *q.argv, "grants")
    assert status == 0
    assert out.splitlines()[0].split() == ["GRANT", "SCOPE", "RUN", "AGE", "BY", "TOOL", "SUMMARY"]
    assert out.splitlines()[1].split()[:3] == [grant_id, "run", "run-1"]
    assert json.loads(cli(capsys, *q.argv, "grants", "--json")[1])[0]["by"] == "alice"
    assert cli(capsys, *q.argv, "revoke", grant_id)[:2] == (0, f"revoked {grant_id}\n")
    assert "No grants" in cli(capsys, *q.argv, "grants")[1]
    assert "(revoked)" in cli(capsys, *q.argv, "grants", "--all")[1]
    assert "aaa111" not in cli(capsys, *q.argv, "list")[1]


def test_deny_with_reason(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, *q.argv, "deny", "bbb222", "--reason", "not on main")[:2] == (
        0,
        "denied bbb222\n",
    )
    with q.open() as store:
        record = store.get("bbb222")
    assert (record.status, record.reason) == ("denied", "not on main")
    assert record.by


def test_history(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, *q.argv, "approve", "aaa111", "--scope", "always", "--by", "alice")
    status, out, _ = cli(capsys, *q.argv, "history")
    assert status == 0
    assert "granted (always)" in out
    assert "pending" in out
    assert len(json.loads(cli(capsys, *q.argv, "history", "--json")[1])) == 2


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
    q: Queue, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = cli(capsys, *q.argv, *argv)
    assert status == 1
    assert out == ""
    assert err.startswith("agentguard approvals: ")
    assert message in err
    assert err.count("\n") == 1


def test_answering_twice_is_an_error(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, *q.argv, "deny", "aaa111", "--by", "bob")
    status, _, err = cli(capsys, *q.argv, "approve", "aaa111")
    assert status == 1
    assert err == "agentguard approvals: request aaa111 was already denied by bob\n"


def test_answer_needs_an_existing_queue(queue: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, *queue.argv, "approve", "x")
    assert status == 1
    assert "no approvals queue at" in err
    _assert_no_queue(queue)


def test_bad_scope_is_a_usage_error(q: Queue, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, *q.argv, "approve", "aaa111", "--scope", "forever")[0] == EXIT_USAGE


def test_store_is_the_queue_flag_and_db_its_hidden_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "approvals.db"
    with ApprovalStore(db) as store:
        store.submit(_request("aaa111"))
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


def _pending_id(queue: Queue) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = _agentguard(*queue.argv, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        pending = json.loads(listed.stdout)
        if pending:
            return str(pending[0]["id"])
        time.sleep(0.05)
    raise AssertionError("the request never showed up in the queue")


ACTION = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd="/tmp")
ASK = ag.Decision.ask("destructive command", rule_id="destructive_commands")


@pytest.mark.timeout(120)
def test_queue_request_answered_from_a_second_process_through_the_cli(queue: Queue) -> None:
    approver = queue.approver(poll_interval=0.05, timeout=60)
    results: list[ApprovalResult] = []
    waiter = threading.Thread(target=lambda: results.append(resolve(approver, ACTION, ASK, None)))
    waiter.start()
    request_id = _pending_id(queue)
    answered = _agentguard(*queue.argv, "approve", request_id, "--scope", "always", "--by", "alice")
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
    revoked = _agentguard(*queue.argv, "revoke", result.grant_id)
    assert revoked.returncode == 0, revoked.stderr
    assert resolve(approver, ACTION, ASK, None, timeout=0.2).reason == "timed out after 0.2s"


@pytest.mark.timeout(120)
def test_async_queue_request_denied_from_a_second_process(queue: Queue) -> None:
    approver = queue.approver(poll_interval=0.05, timeout=60)

    async def agent() -> ApprovalResult:
        wait = asyncio.ensure_future(aresolve(approver, ACTION, ASK, None))
        request_id = await asyncio.to_thread(_pending_id, queue)
        denied = await asyncio.to_thread(
            _agentguard, *queue.argv, "deny", request_id, "--reason", "no", "--by", "bob"
        )
        assert denied.returncode == 0, denied.stderr
        return await wait

    result = asyncio.run(agent())
    assert (result.granted, result.by, result.reason) == (False, "bob", "no")
    assert result.wait_s > 0
    again = _agentguard(*queue.argv, "approve", _last_id(queue))
    assert again.returncode == 1
    assert "already denied by bob" in again.stderr
    assert "Traceback" not in again.stderr


def _last_id(queue: Queue) -> str:
    with queue.open() as store:
        return store.history(limit=1)[0].request.id
