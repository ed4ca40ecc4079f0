"""Triage of the monitor's findings from the dashboard: a token-carrying, same-origin POST that changes
what ``agentguard triage`` lists and exports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentguard.dashboard import DashboardApi, DashboardServer, MonitorView, NotFound, StoreSource
from agentguard.dashboard._page import report_page
from agentguard.fleet import Monitor, MonitorConfig
from agentguard.traces import Span, SpanEvent

NS = 1_000_000_000
TOKEN = "t0k3n-for-tests-0123456789abcdef"


def _session(conversation: str, trace: str, codes: list[tuple[str, str]]) -> list[Span]:
    root = Span(
        trace_id=trace,
        span_id="1" * 16,
        name="invoke_agent coder",
        start=10 * NS,
        end=20 * NS,
        attributes={"gen_ai.conversation.id": conversation, "gen_ai.agent.name": "coder"},
    )
    tool = Span(
        trace_id=trace,
        span_id="2" * 16,
        parent_id="1" * 16,
        name="execute_tool run",
        start=11 * NS,
        end=12 * NS,
        attributes={"gen_ai.tool.name": "run", "agentguard.tool.kind": "shell"},
    )
    for code, severity in codes:
        tool.events.append(
            SpanEvent(
                "agentguard.signal",
                11 * NS,
                {
                    "agentguard.signal.code": code,
                    "agentguard.signal.severity": severity,
                    "agentguard.signal.message": f"{code} happened",
                    "agentguard.signal.evidence.span_ids": ["2" * 16],
                },
            )
        )
    return [tool, root]


def reviewed_journal(state: Path) -> None:
    """Two reviewed sessions: conv-1 with two findings, conv-2 with one."""
    m = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        m.journal.append(
            _session(
                "conv-1", "a" * 32, [("circumvention.decode_exec", "critical"), ("loop.repeated_call", "low")]
            )
            + _session("conv-2", "b" * 32, [("destructive.command", "high")]),
            now=time.time() - 1,
        )
        assert m.review_due() == 2
    finally:
        m.stop()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[DashboardServer, Path]]:
    state = tmp_path / "monitor"
    reviewed_journal(state)
    view = MonitorView(state)
    api = DashboardApi(StoreSource(tmp_path / "agentguard.db"), monitor=view)
    with DashboardServer(api, token=TOKEN) as server:
        yield server, state
    view.close()


def request(
    url: str, *, body: Any = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw.startswith(b"{") else raw


def post(server: DashboardServer, body: Any, **headers: str) -> tuple[int, Any]:
    base = {
        "Origin": f"http://127.0.0.1:{server.port}",
        "X-Agentguard-Token": TOKEN,
        "Content-Type": "application/json",
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return request(server.url + "api/monitor/triage", body=body, headers={k: v for k, v in base.items() if v})


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentguard", *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_findings_are_listed_per_session_worst_untriaged_first(served: tuple[DashboardServer, Path]) -> None:
    server, _ = served
    status, page = request(server.url + "api/monitor/findings")
    assert status == 200
    assert page["states"] == ["new", "acknowledged", "false_positive", "confirmed"]
    assert [s["session_id"] for s in page["items"]] == ["conv-1", "conv-2"]
    first = page["items"][0]
    assert [f["code"] for f in first["findings"]] == ["circumvention.decode_exec", "loop.repeated_call"]
    assert first["states"]["new"] == 2 and first["fleet"] is False and first["spans"] == 2
    _, only_new = request(server.url + "api/monitor/findings?state=confirmed")
    assert only_new["items"] == []


def test_a_valid_change_is_seen_by_agentguard_triage_and_in_the_export(
    served: tuple[DashboardServer, Path],
) -> None:
    server, state = served
    _, page = request(server.url + "api/monitor/findings")
    critical = page["items"][0]["findings"][0]["id"]
    status, done = post(
        server,
        {"session_id": "conv-1", "finding_id": critical, "state": "confirmed", "by": "ana", "note": "real"},
    )
    assert status == 200, done
    assert [(f["id"], f["state"]) for f in done["findings"]] == [(critical, "confirmed")]
    listed = cli("triage", "--state-dir", str(state), "list", "--json")
    states = {json.loads(line)["code"]: json.loads(line)["state"] for line in listed.stdout.splitlines()}
    assert states == {
        "circumvention.decode_exec": "confirmed",
        "loop.repeated_call": "new",
        "destructive.command": "new",
    }
    shown = json.loads(cli("triage", "--state-dir", str(state), "show", str(critical)).stdout)
    assert [(h["previous"], h["state"], h["by"], h["note"]) for h in shown["history"]] == [
        ("new", "confirmed", "ana", "real")
    ]
    [line] = cli("triage", "--state-dir", str(state), "export", "--jsonl").stdout.splitlines()
    label = json.loads(line)
    assert (label["finding_id"], label["label"], label["session_id"]) == (critical, "confirmed", "conv-1")
    # a whole session at once, then visible on the page's next poll
    status, done = post(server, {"session_id": "conv-2", "state": "false_positive"})
    assert status == 200 and [f["state"] for f in done["findings"]] == ["false_positive"]
    _, page = request(server.url + "api/monitor/findings?state=false_positive")
    assert [s["session_id"] for s in page["items"]] == ["conv-2"]
    exported = cli("triage", "--state-dir", str(state), "export", "--jsonl").stdout.splitlines()
    assert sorted(json.loads(x)["label"] for x in exported) == ["confirmed", "false_positive"]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({"X-Agentguard-Token": ""}, 401, "missing X-Agentguard-Token"),
        ({"X-Agentguard-Token": "wrong"}, 401, "wrong X-Agentguard-Token"),
        ({"X-Agentguard-Token": TOKEN[:-1]}, 401, "wrong X-Agentguard-Token"),
        ({"Origin": ""}, 403, "Origin"),
        ({"Origin": "null"}, 403, "Origin"),
        ({"Origin": "http://evil.example"}, 403, "Origin"),
        ({"Origin": "http://127.0.0.1:1"}, 403, "Origin"),
        ({"Origin": "https://127.0.0.1"}, 403, "Origin"),
        ({"Host": "evil.example:80"}, 403, "Host"),
    ],
    ids=[
        "no-token",
        "wrong-token",
        "token-prefix",
        "no-origin",
        "null-origin",
        "foreign-origin",
        "other-port",
        "https-origin",
        "rebinding-host",
    ],
)
def test_refused_changes_change_nothing(
    served: tuple[DashboardServer, Path], headers: dict[str, str], status: int, message: str
) -> None:
    server, state = served
    if "Origin" in headers and headers["Origin"].endswith(":1"):
        headers = {"Origin": headers["Origin"] + str(server.port + 1)[-1]}  # never this server's port
    got, body = post(server, {"session_id": "conv-1", "state": "confirmed"}, **headers)
    assert got == status and message in body["error"]
    listed = cli("triage", "--state-dir", str(state), "list", "--json", "--state", "confirmed")
    assert listed.returncode == 0 and listed.stdout == ""


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"session_id": "nope", "state": "confirmed"}, 404, "no session with findings 'nope'"),
        ({"session_id": "conv-2", "finding_id": 1, "state": "confirmed"}, 404, "no finding 1 in session"),
        ({"session_id": "conv-1", "state": "fixed"}, 400, "unknown triage state"),
        ({"session_id": "conv-1", "state": "confirmed", "finding_id": "1"}, 400, "finding_id"),
        ({"session_id": "conv-1", "state": "confirmed", "finding_id": True}, 400, "finding_id"),
        ({"state": "confirmed"}, 400, "session_id"),
        (["conv-1", "confirmed"], 400, "JSON object"),
        (b"{not json", 400, "not JSON"),
    ],
)
def test_bad_requests_are_answered_and_change_nothing(
    served: tuple[DashboardServer, Path], body: Any, status: int, message: str
) -> None:
    server, state = served
    got, answer = post(server, body)
    assert got == status and message in answer["error"], answer
    before = cli("triage", "--state-dir", str(state), "list", "--json").stdout
    assert all(json.loads(line)["state"] == "new" for line in before.splitlines())


def test_the_body_must_be_json_and_small(served: tuple[DashboardServer, Path]) -> None:
    server, _ = served
    got, answer = post(
        server, b"session_id=conv-1&state=confirmed", Content_Type="application/x-www-form-urlencoded"
    )
    assert got == 400 and "application/json" in answer["error"]  # what an HTML form could send
    big = {"session_id": "conv-1", "state": "confirmed", "note": "x" * 70_000}
    got, answer = post(server, big)
    assert got == 400 and "Content-Length" in answer["error"]


def test_a_dashboard_without_a_token_or_a_monitor_refuses_changes(tmp_path: Path) -> None:
    state = tmp_path / "monitor"
    reviewed_journal(state)
    view = MonitorView(state)
    try:
        with DashboardServer(DashboardApi(StoreSource(tmp_path / "s.db"), monitor=view)) as server:
            got, answer = post(server, {"session_id": "conv-1", "state": "confirmed"})
            assert got == 403 and "without a token" in answer["error"]
            with urllib.request.urlopen(server.url, timeout=10) as r:
                assert '<meta name="agentguard-token"' not in r.read().decode()
    finally:
        view.close()
    with DashboardServer(DashboardApi(StoreSource(tmp_path / "s.db")), token=TOKEN) as server:
        got, answer = post(server, {"session_id": "conv-1", "state": "confirmed"})
        assert got == 404 and "--monitor" in answer["error"]
        assert request(server.url + "api/monitor/findings")[0] == 404
        meta = request(server.url + "api/meta")[1]
        assert meta["monitor"] is None
    with pytest.raises(NotFound):
        DashboardApi(StoreSource(tmp_path / "s.db")).monitor_findings()
    with pytest.raises(FileNotFoundError, match="no monitor journal"):
        MonitorView(tmp_path / "absent")


def test_only_the_live_page_carries_the_token(served: tuple[DashboardServer, Path]) -> None:
    server, _ = served
    with urllib.request.urlopen(server.url, timeout=10) as r:
        page = r.read().decode()
    assert f'<meta name="agentguard-token" content="{TOKEN}">' in page
    assert '<meta name="agentguard-token"' not in report_page({"meta": {}})
    meta = request(server.url + "api/meta")[1]
    assert meta["monitor"].endswith("monitor") and TOKEN not in json.dumps(meta)


def test_the_dashboard_command_takes_the_monitor_directory(tmp_path: Path) -> None:
    done = cli("dashboard", "--monitor", str(tmp_path / "absent"), "--no-open", "--port", "0")
    assert done.returncode == 1 and "no monitor journal" in done.stderr


def test_the_trends_panel_shows_each_agent_and_repository_and_its_spike(tmp_path: Path) -> None:
    from test_fleet_trends import Plan, spans_of, steady

    from agentguard.fleet import SPIKE_CODE

    plans = steady("coder", "parser", range(7), 6, 0.3, seed=9) + steady(
        "fixer", "web", range(8), 6, 0.5, seed=10
    )
    plans += [Plan(day=7, passed=True, writes=("tests/test_parser.py",)) for _ in range(8)]
    state = tmp_path / "monitor"
    m = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        m.journal.append([s for n, p in enumerate(plans) for s in spans_of(p, n)], now=time.time() - 1)
        assert m.review_due() == len(plans)
    finally:
        m.stop()
    view = MonitorView(state)
    try:
        with DashboardServer(
            DashboardApi(StoreSource(tmp_path / "s.db"), monitor=view), token=TOKEN
        ) as server:
            status, data = request(server.url + "api/monitor/trends")
            assert status == 200 and data["bucket_ms"] == 86_400_000 and data["n"] == 8
            assert [(s["agent"], s["repo"]) for s in data["series"]] == [
                ("coder", "parser"),
                ("fixer", "web"),
            ]
            assert data["series"][0]["buckets"][-1]["pass_rate"] == 1.0
            [spike] = data["spikes"]
            assert spike["code"] == SPIKE_CODE and spike["evidence"]["agent"] == "coder"
            hourly = request(server.url + "api/monitor/trends?bucket=3600")[1]
            # hourly: the last 90 buckets and a 7-bucket baseline before them, not the whole history
            assert hourly["bucket_ms"] == 3_600_000 and 24 < hourly["n"] <= 98
            assert request(server.url + "api/monitor/trends?bucket=5")[0] == 400
            # the spike is a finding like any other: listed per (fleet) session and triaged the same way
            _, page = request(server.url + "api/monitor/findings")
            [fleet] = [s for s in page["items"] if s["fleet"]]
            assert fleet["session_id"] == spike["session_id"]
            got, done = post(server, {"session_id": fleet["session_id"], "state": "acknowledged"})
            assert got == 200 and done["findings"][0]["state"] == "acknowledged"
    finally:
        view.close()
