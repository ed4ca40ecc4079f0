"""The dashboard's data layer, server and report: OTLP files, panels over a large store, escaping."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agentguard.cli import main as cli
from agentguard.dashboard import (
    PANELS,
    DashboardApi,
    DashboardServer,
    OtlpFileReader,
    OtlpSource,
    StoreSource,
)
from agentguard.dashboard._page import asset, report_page
from agentguard.export._sqlite import connect_writer
from agentguard.telemetry import semconv as sc

EVIL = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'
T0 = 1_750_000_000_000_000_000


def kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, list):
            return {"arrayValue": {"values": [value(x) for x in v]}}
        return {"stringValue": str(v)}

    return [{"key": k, "value": value(v)} for k, v in attrs.items()]


def run_request(i: int, *, agent: str = "fixer", t0: int = T0) -> dict[str, Any]:
    """One guarded run as an OTLP ExportTraceServiceRequest: agent, chat, a denied tool with a signal."""
    trace_id, run_id = f"{i:032x}", f"run{i:05d}"
    root, chat, tool = f"{i:012x}0001", f"{i:012x}0002", f"{i:012x}0003"
    start = t0 + i * 1_000_000_000

    def span(
        span_id: str,
        parent: str | None,
        name: str,
        attrs: dict[str, Any],
        events: Sequence[tuple[str, dict[str, Any]]] = (),
        status: int = 0,
    ) -> dict[str, Any]:
        return {
            "traceId": trace_id,
            "spanId": span_id,
            "parentSpanId": parent or "",
            "name": name,
            "kind": 1,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + 500_000_000),
            "attributes": kv(attrs),
            "events": [{"name": n, "timeUnixNano": str(start + 1), "attributes": kv(a)} for n, a in events],
            "status": {"code": status},
        }

    spans = [
        span(root, None, f"invoke_agent {agent}", {
            sc.GEN_AI_OPERATION_NAME: "invoke_agent", sc.GEN_AI_AGENT_NAME: agent, sc.RUN_ID: run_id,
            sc.TASK: "fix the parser", sc.RUN_COST_USD: 0.01,
        }),
        span(chat, root, "chat gpt-4o-mini", {
            sc.GEN_AI_OPERATION_NAME: "chat", sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini",
            sc.GEN_AI_USAGE_INPUT_TOKENS: 400, sc.GEN_AI_USAGE_OUTPUT_TOKENS: 40, sc.COST_USD: 0.01,
            sc.REFUSAL: i % 10 == 0, sc.REFUSAL_SOURCE: "text",
        }),
        span(tool, root, "execute_tool run", {
            sc.GEN_AI_OPERATION_NAME: "execute_tool", sc.GEN_AI_TOOL_NAME: "run", sc.TOOL_KIND: "shell",
        }, events=[
            (sc.EVENT_POLICY_DECISION, {
                sc.POLICY_DECISION: "deny", sc.POLICY_RULE_IDS: ["scope.write"], sc.POLICY_REASON: EVIL,
                sc.POLICY_MODE: "enforce", sc.POLICY_FACTS: "file_write | paths: write tests/t.py (outside)",
            }),
            (sc.EVENT_SIGNAL, {
                "agentguard.signal.code": "reward_hacking.assert_removed",
                "agentguard.signal.category": "reward_hacking",
                "agentguard.signal.severity": "critical" if i % 7 == 0 else "medium",
                "agentguard.signal.message": EVIL, "agentguard.signal.evidence.excerpt": "- assert x == 1",
            }),
        ], status=2 if i % 5 == 0 else 0),
    ]  # fmt: skip
    scope_spans = [{"scope": {"name": "agentguard"}, "spans": spans}]
    return {
        "resourceSpans": [{"resource": {"attributes": kv({"service.name": "t"})}, "scopeSpans": scope_spans}]
    }


def write_otlp(path: Path, runs: range, **kw: Any) -> None:
    with path.open("a") as f:
        for i in runs:
            f.write(json.dumps(run_request(i, **kw)) + "\n")


def test_otlp_reader_streams_skips_malformed_lines_and_waits_for_a_partial_one(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    write_otlp(path, range(2))
    with path.open("a") as f:
        f.write("{not json\n")
        f.write('{"resourceSpans": "oops"}\n')
        f.write(json.dumps(run_request(2))[:50])  # the collector is still writing this one
    reader = OtlpFileReader(path)
    spans = list(reader.read_new())
    assert len(spans) == 6
    assert [line for line, _ in reader.malformed] == [3, 4]
    assert (
        spans[0].attributes[sc.RUN_ID] == "run00000" and spans[2].events[0].name == sc.EVENT_POLICY_DECISION
    )
    with path.open("a") as f:
        f.write(json.dumps(run_request(2))[50:] + "\n")
    assert len(list(reader.read_new())) == 3
    assert list(reader.read_new()) == []


def test_otlp_source_groups_spans_into_runs_and_feeds_every_panel(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    write_otlp(path, range(20))
    source = OtlpSource(path)
    api = DashboardApi(source)
    overview = api.panel("overview")
    assert (overview["runs"], overview["llm_calls"], overview["tool_calls"]) == (20, 20, 20)
    assert overview["decisions"]["deny"] == 20 and overview["signals"] == 20
    assert all(isinstance(api.panel(name), dict) for name in PANELS)
    assert api.panel("scope")["by_rule"] == [{"rule": "scope.write", "n": 20}]
    assert api.panel("refusals")["total_refusals"] == 2
    triage = api.triage(limit=5)
    assert triage["total"] == 20 and triage["items"][0]["severity"] == "critical"
    timeline = api.run(triage["items"][0]["run_id"])
    assert [s["type"] for s in timeline["spans"]] == ["agent", "llm", "tool"]
    assert [e["type"] for e in timeline["spans"][2]["events"]] == ["decision", "signal"]
    assert timeline["spans"][2]["events"][1]["evidence"] == {"evidence.excerpt": "- assert x == 1"}
    write_otlp(path, range(20, 25))  # the file grows: the dashboard follows it
    time.sleep(1.05)
    assert api.panel("overview")["runs"] == 25
    source.close()


def big_store(path: Path, runs: int) -> None:
    """A store with ``runs`` runs, written straight into the store's schema (fast)."""
    otlp = path.with_suffix(".jsonl")
    write_otlp(otlp, range(200))
    template = OtlpSource(otlp)
    spans = template.query("SELECT * FROM spans")
    rows = template.query("SELECT * FROM runs")
    template.close()
    conn = connect_writer(path, busy_timeout_s=5)
    conn.execute("BEGIN")
    for copy in range(runs // 200):
        shift = copy * 200 * 1_000_000_000
        conn.executemany(
            "INSERT INTO spans VALUES (" + ",".join("?" * 16) + ")",
            [
                (
                    f"{copy:04x}{r[0][4:]}",
                    *r[1:5],
                    r[5] + shift,
                    r[6] + shift,
                    *r[7:9],
                    f"{copy}-{r[9]}",
                    *r[10:],
                )
                for r in spans
            ],
        )
        conn.executemany(
            "INSERT INTO runs VALUES (" + ",".join("?" * 16) + ")",
            [
                (f"{copy}-{r[0]}", f"{copy:04x}{r[1][4:]}", *r[2:6], r[6] + shift, r[7] + shift, *r[8:])
                for r in rows
            ],
        )
    conn.execute("COMMIT")
    conn.close()


def test_ten_thousand_runs_aggregate_in_sql_and_paginate(tmp_path: Path) -> None:
    path = tmp_path / "agentguard.db"
    big_store(path, 10_000)
    source = StoreSource(path)
    source.refresh()
    api = DashboardApi(source)
    start = time.perf_counter()
    panels = {name: api.panel(name) for name in PANELS}
    page = api.triage(offset=25, limit=25)
    elapsed = time.perf_counter() - start
    assert panels["overview"]["runs"] == 10_000
    assert panels["refusals"]["axis"]["n"] <= 61  # bucketed server-side
    assert page["total"] == 10_000 and len(page["items"]) == 25
    assert len(json.dumps(panels)) < 200_000  # what the page downloads stays small
    assert elapsed < 10, f"all panels took {elapsed:.1f}s over 10,000 runs"
    source.close()


def test_report_is_self_contained_and_escapes_agent_strings(tmp_path: Path) -> None:
    otlp = tmp_path / "traces.jsonl"
    write_otlp(otlp, range(3), agent=EVIL)
    out = tmp_path / "report.html"
    assert cli(["report", "--otlp", str(otlp), "-o", str(out)]) == 0
    html = out.read_text()
    assert EVIL not in html and "<img src=x" not in html
    assert html.count("<script") == 2  # the data block and the inlined script, nothing else
    assert re.search(
        r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-",
        html,
    )
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # no CDN, no external fonts
    data = json.loads(re.search(r'id="agentguard-data">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert data["triage"]["items"][0]["name"] == EVIL  # intact once decoded


def test_the_page_script_never_writes_markup() -> None:
    script = asset("dashboard.js")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script
    # a slot name inside agent data stays text: the template is filled in one pass
    page = report_page({"x": "{{SCRIPT}}"})
    assert page.split('id="agentguard-data">')[1].split("</script>")[0] == '{"x":"{{SCRIPT}}"}'


def get(url: str, host: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_server_routes_and_refuses_foreign_hosts(tmp_path: Path) -> None:
    otlp = tmp_path / "traces.jsonl"
    write_otlp(otlp, range(3))
    with DashboardServer(DashboardApi(OtlpSource(otlp))) as server:
        status, body = get(server.url)
        assert status == 200 and b'data-panel="triage"' in body
        assert get(server.url + "api/panel/cost")[0] == 200
        assert json.loads(get(server.url + "api/triage?limit=2")[1])["items"][0]["run_id"]
        assert get(server.url + "api/panel/nope")[0] == 404
        assert get(server.url + "api/run/missing")[0] == 404
        assert get(server.url + "static/dashboard.js")[0] == 200
        assert get(server.url + "static/../../_source.py")[0] == 404
        assert get(server.url + "api/meta", host="evil.example:80")[0] == 403


def test_missing_store_is_an_empty_state_and_a_missing_otlp_file_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = DashboardApi(StoreSource(tmp_path / "nope.db"))
    assert api.meta()["available"] is False and api.panel("overview")["runs"] == 0
    assert cli(["report", "--otlp", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "r.html")]) == 1
    assert "no OTLP file" in capsys.readouterr().err
