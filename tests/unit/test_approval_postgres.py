"""The approvals queue on PostgreSQL: what only this backend has (its schema, its URL and password,
a dropped connection, NUL), and agents in separate processes sharing one queue with the CLI.

The queue's semantics themselves run on both backends in test_approval_store.py, test_approval_queue.py
and test_cli_approvals.py. Every test here uses the session's real PostgreSQL (tests/postgres_server.py).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import agentguard as ag
from agentguard import _safe
from agentguard.approval import (
    ApprovalError,
    ApprovalRequest,
    ApprovalStore,
    QueueApprover,
    redact_url,
    resolve,
)
from agentguard.cli import main
from postgres_server import PostgresServer

pytestmark = pytest.mark.components

ACTION = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd="/tmp")
ASK = ag.Decision.ask("destructive command", rule_id="destructive_commands")


def _request(rid: str = "r1", summary: str = "rm -rf build") -> ApprovalRequest:
    return ApprovalRequest(
        id=rid,
        action_hash="h1",
        tool="run",
        kind="shell",
        summary=summary,
        reason="destructive command",
        rule_ids=("destructive_commands",),
        run_id="run-1",
        agent="fixer",
        created=time.time(),
    )


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["approvals", *argv])
    out, err = capsys.readouterr()
    return status, out, err


# -- where the queue lives ------------------------------------------------------------------------------
def test_tables_live_in_the_agentguard_schema_with_a_version(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with ApprovalStore(url=postgres_url) as store:
        assert (store.backend, store.path, store.memory) == ("postgresql", None, False)
        store.submit(_request())
    tables = postgres_server.sql(
        postgres_url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'agentguard'"
        " ORDER BY table_name",
    )
    assert [t for (t,) in tables] == ["grants", "requests", "schema_version"]
    assert postgres_server.sql(postgres_url, "SELECT version FROM agentguard.schema_version") == [(2,)]
    assert postgres_server.sql(postgres_url, "SELECT id, status FROM agentguard.requests") == [
        ("r1", "pending")
    ]


def test_create_false_on_a_database_without_a_queue_creates_nothing(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    with pytest.raises(FileNotFoundError, match="no approvals queue at postgresql://agentguard:\\*\\*\\*@"):
        ApprovalStore(url=postgres_url, create=False)
    assert postgres_server.sql(postgres_url, "SELECT to_regnamespace('agentguard') IS NULL") == [(True,)]
    ApprovalStore(url=postgres_url).close()
    with ApprovalStore(url=postgres_url, create=False) as store:
        assert store.pending() == []


def test_a_newer_schema_is_refused(postgres_server: PostgresServer, postgres_url: str) -> None:
    ApprovalStore(url=postgres_url).close()
    postgres_server.sql(postgres_url, "UPDATE agentguard.schema_version SET version = 99")
    with pytest.raises(ApprovalError, match="schema version 99, newer"):
        ApprovalStore(url=postgres_url)


def test_the_url_comes_from_the_environment(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTGUARD_APPROVALS_URL", postgres_url)
    monkeypatch.setenv("AGENTGUARD_APPROVALS_DB", str(tmp_path / "file.db"))
    approver = QueueApprover()
    assert approver.store.backend == "postgresql"
    approver.store.submit(_request())
    approver.close()
    with ApprovalStore() as store:
        assert [r.id for r in store.pending()] == ["r1"]
    with ApprovalStore(tmp_path / "explicit.db") as store:  # an explicit path is that file
        assert store.backend == "sqlite"
        assert store.pending() == []
    assert not (tmp_path / "file.db").exists()
    assert not (tmp_path / ".agentguard").exists()


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@127.0.0.1/db", "POSTGRESQL://u:p@127.0.0.1/db"],
    ids=["postgres-scheme", "upper-case-scheme"],
)
def test_other_spellings_of_the_scheme_are_urls(url: str) -> None:
    with pytest.raises(ValueError, match="is a URL: pass it as url="):
        ApprovalStore(url)


@pytest.mark.parametrize("url", ["mysql://u:p@127.0.0.1/db", "host=127.0.0.1 password=p"])
def test_a_url_that_is_not_postgresql_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ValueError, match="not a postgresql:// URL") as raised:
        ApprovalStore(url=url)
    assert "p@" not in str(raised.value) and "password=p" not in str(raised.value)


def test_path_and_url_together_are_refused(postgres_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        ApprovalStore(tmp_path / "a.db", url=postgres_url)
    with pytest.raises(ValueError, match="not both"):
        QueueApprover(tmp_path / "a.db", url=postgres_url)


def test_without_psycopg_the_error_names_the_extra(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` meets when it is absent
    with pytest.raises(ImportError, match=r"pip install 'agentguard\[postgres\]'"):
        ApprovalStore(url=postgres_url)
    status, out, err = _cli(capsys, "--url", postgres_url, "list")
    assert (status, out) == (1, "")
    assert "agentguard[postgres]" in err
    assert err.count("\n") == 1


# -- the password -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://agent:s3cret@db:5432/q", "postgresql://agent:***@db:5432/q"),
        ("postgresql://agent@db/q", "postgresql://agent@db/q"),
        ("postgresql://db/q?password=s3cret&sslmode=require", "postgresql://db/q?password=***&sslmode=require"),
        ("postgresql://agent:p%40ss%2Fw@db/q", "postgresql://agent:***@db/q"),
        ("postgresql://agent:pa/ss@w0rd@db/q", "postgresql://agent:***@db/q"),
        ("postgresql://agent:@db/q", "postgresql://agent:***@db/q"),
        ("postgresql://a:b@db1:5432,db2:5433/q?target_session_attrs=read-write",
         "postgresql://a:***@db1:5432,db2:5433/q?target_session_attrs=read-write"),
    ],
    ids=["userinfo", "no-password", "query", "percent-encoded", "unencoded-slash-and-at", "empty",
         "multi-host"],
)  # fmt: skip
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_password_is_not_in_reprs_or_cli_output(
    postgres_server: PostgresServer, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = postgres_server.password
    approver = QueueApprover(url=postgres_url, poll_interval=0.02)
    seen = [repr(approver), str(approver.url), repr(vars(approver))]
    store = approver.store
    seen += [repr(approver), repr(store), store.location, repr(vars(store))]
    store.submit(_request("aaa111"))
    store.answer("aaa111", True, by="alice", scope="always")
    approver.close()
    for argv in (["list"], ["list", "--json"], ["grants"], ["history"], ["show", "aaa111"], ["approve", "x"]):
        seen += _cli(capsys, "--url", postgres_url, *argv)[1:]
    assert "No pending approval requests in postgresql://agentguard:***@127.0.0.1:" in "".join(seen)
    assert not [text for text in seen if password in text]


def test_a_wrong_password_is_an_error_that_does_not_show_it(
    postgres_server: PostgresServer, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "Wr0ng-pa55-x9"
    url = postgres_url.replace(postgres_server.password, wrong)
    with pytest.raises(ApprovalError, match="password authentication failed") as raised:
        ApprovalStore(url=url)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    status, out, err = _cli(capsys, "--url", url, "list")
    assert (status, out) == (1, "")
    assert "cannot open the approvals queue at postgresql://agentguard:***@" in err
    assert wrong not in str(raised.value) + err
    assert postgres_server.password not in str(raised.value) + err


def test_a_url_libpq_cannot_parse_is_reported_without_any_of_the_password(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # libpq's own message quotes the piece it could not parse ("wr ong"), a piece of the password
    url = f"postgresql://agentguard:wr ong@pw@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(ValueError, match="not a valid PostgreSQL connection URL") as raised:
        ApprovalStore(url=url)
    status, _, err = _cli(capsys, "--url", url, "list")
    assert status == 1
    for piece in ("wr ong", "ong@pw", "wr"):
        assert piece not in str(raised.value) + err


def test_an_unreachable_queue_denies_and_logs_no_password(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    from postgres_server import _free_port

    secret = "Unseen-Pw-4242"
    url = f"postgresql://agentguard:{secret}@127.0.0.1:{_free_port()}/nothing"  # nobody listens there
    _safe.reset_warnings()
    caplog.set_level(logging.DEBUG, logger="agentguard")
    result = resolve(QueueApprover(url=url, poll_interval=0.02), ACTION, ASK, None, timeout=5)
    assert result.granted is False
    assert result.reason.startswith("approver raised ApprovalError: PostgreSQL: connection failed")
    logged = "\n".join(
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    assert secret not in result.reason + logged


# -- what PostgreSQL does differently -----------------------------------------------------------------
def test_nul_in_a_value_is_stored_as_an_escape(postgres_url: str) -> None:
    with ApprovalStore(url=postgres_url) as store:
        store.submit(_request("n1", summary="printf 'a\x00b' > f"))
        assert store.get("n1").request.summary == "printf 'a\\x00b' > f"
        assert store.answer("n1", True, by="al\x00ice").by == "al\\x00ice"


def test_a_connection_the_server_dropped_is_reopened(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    def drop_ours() -> int:
        rows = postgres_server.sql(
            postgres_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'agentguard-approvals' AND datname = current_database()",
        )
        return int(rows[0][0])

    with ApprovalStore(url=postgres_url) as store:
        store.submit(_request("c1"))
        assert drop_ours() == 1
        assert store.get("c1").status == "pending"  # a read: repeated on a new connection
        assert drop_ours() == 1
        assert store.answer("c1", True, by="alice").status == "granted"  # a write: begun anew
        assert drop_ours() == 1
        assert [r.request.id for r in store.history()] == ["c1"]


def test_the_urls_own_connection_settings_win(postgres_server: PostgresServer, postgres_url: str) -> None:
    def names() -> list[str]:
        rows = postgres_server.sql(
            postgres_url,
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() ORDER BY 1",
        )
        return [name for (name,) in rows]

    with (
        ApprovalStore(url=postgres_url),
        ApprovalStore(url=postgres_url + "?application_name=fleet-approver"),
    ):
        assert names() == ["agentguard-approvals", "fleet-approver"]


def test_a_writer_that_holds_the_queue_makes_others_wait_then_time_out(postgres_url: str) -> None:
    with (
        ApprovalStore(url=postgres_url) as holder,
        ApprovalStore(url=postgres_url, busy_timeout=0.3) as other,
    ):
        holder.submit(_request("w1"))
        with holder._write():
            started = time.monotonic()
            with pytest.raises(ApprovalError, match="lock timeout"):
                other.answer("w1", True, by="bob")
            assert time.monotonic() - started >= 0.3
            assert other.get("w1").status == "pending", "reads do not wait for writers"
        assert other.answer("w1", True, by="bob").status == "granted"


# -- across processes -----------------------------------------------------------------------------------
AGENT = textwrap.dedent(
    """
    import json, sys
    import agentguard as ag

    url, name = sys.argv[1], sys.argv[2]

    @ag.tool(kind="shell")
    def run(command: str) -> str:
        return f"ran {command}"

    approver = ag.QueueApprover(url=url, poll_interval=0.05, timeout=90)

    @ag.guarded(name=name, policy=ag.Policy(default="ask"), approver=approver)
    def agent() -> list[str]:
        results = []
        for _ in range(2):  # the second identical call is covered by a run grant, if there is one
            try:
                results.append(run("rm -rf build"))
            except ag.Denied as denied:
                results.append(f"denied: {denied.decision.reason}")
        return results

    print(json.dumps(agent()))
    """
)


def _agentguard(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentguard", "approvals", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("AGENTGUARD_APPROVALS")},
    )


@pytest.mark.timeout(180)
def test_two_agents_in_other_processes_wait_on_one_queue_answered_from_a_third(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    agents = {
        name: subprocess.Popen(
            [sys.executable, str(script), postgres_url, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for name in ("agent-a", "agent-b")
    }
    try:
        deadline = time.monotonic() + 60
        waiting: dict[str, str] = {}
        while len(waiting) < 2:
            assert time.monotonic() < deadline, "both agents' requests never showed up in the queue"
            listed = _agentguard("--url", postgres_url, "list", "--json")
            assert listed.returncode == 0, listed.stderr
            waiting = {r["agent"]: r["id"] for r in json.loads(listed.stdout) if r["status"] == "pending"}
            time.sleep(0.1)
        table = _agentguard("--url", postgres_url, "list")
        assert table.stdout.count("pending") == 2
        approved = _agentguard(
            "--url", postgres_url, "approve", waiting["agent-a"], "--scope", "run", "--by", "alice"
        )
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.startswith(f"approved {waiting['agent-a']} for the run (grant g")
        denied = _agentguard(
            "--url", postgres_url, "deny", waiting["agent-b"], "--by", "bob", "--reason", "not here"
        )
        assert denied.returncode == 0, denied.stderr
        # agent-b asks again for its second call; deny that one too
        deadline = time.monotonic() + 60
        again: list[str] = []
        while not again:
            assert time.monotonic() < deadline, "agent-b's second request never showed up"
            listed = _agentguard("--url", postgres_url, "list", "--json")
            again = [r["id"] for r in json.loads(listed.stdout) if r["agent"] == "agent-b"]
            time.sleep(0.1)
        assert _agentguard("--url", postgres_url, "deny", again[0], "--by", "bob").returncode == 0
        outputs = {name: proc.communicate(timeout=60) for name, proc in agents.items()}
    finally:
        for proc in agents.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for name, (_, err) in outputs.items():
        assert agents[name].returncode == 0, f"{name}: {err}"
    assert json.loads(outputs["agent-a"][0]) == ["ran rm -rf build", "ran rm -rf build"]
    a_denied = json.loads(outputs["agent-b"][0])
    assert len(a_denied) == 2 and all(r.startswith("denied: ") for r in a_denied)
    assert "not here" in a_denied[0]

    history = json.loads(_agentguard("--url", postgres_url, "history", "--json").stdout)
    by_agent = sorted((h["request"]["agent"], h["status"], h["by"], h["scope"]) for h in history)
    # agent-a asked once, approved for the run: its second call passed on the grant without asking
    assert by_agent == [
        ("agent-a", "granted", "alice", "run"),
        ("agent-b", "denied", "bob", "once"),
        ("agent-b", "denied", "bob", "once"),
    ]
    grants = _agentguard("--url", postgres_url, "grants", "--json")
    (grant,) = json.loads(grants.stdout)
    assert (grant["scope"], grant["by"]) == ("run", "alice")
    assert grant["id"] == next(h["grant_id"] for h in history if h["by"] == "alice")
    revoked = _agentguard("--url", postgres_url, "revoke", grant["id"])
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(_agentguard("--url", postgres_url, "grants", "--json").stdout) == []
    everything = "".join(
        _agentguard("--url", postgres_url, *argv).stdout + _agentguard("--url", postgres_url, *argv).stderr
        for argv in (["list"], ["history"], ["grants", "--all"])
    )
    assert postgres_server.password not in everything
