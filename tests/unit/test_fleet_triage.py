"""Triage of the monitor's findings and incident records, through the command line a reviewer uses."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentguard.fleet import Journal, Monitor, MonitorConfig, hash_chain, incident_record, verify_chain
from agentguard.traces import Span, SpanEvent

NS = 1_000_000_000


def _reviewed_session(state: Path) -> str:
    """One session whose tool span carries a recorded critical signal and a deny decision."""
    root = Span(
        trace_id="a" * 32,
        span_id="1" * 16,
        name="invoke_agent coder",
        start=10 * NS,
        end=20 * NS,
        attributes={"gen_ai.conversation.id": "conv-1", "gen_ai.agent.name": "coder"},
        resource={"service.name": "fleet-agent"},
    )
    tool = Span(
        trace_id="a" * 32,
        span_id="2" * 16,
        parent_id="1" * 16,
        name="execute_tool run",
        start=11 * NS,
        end=12 * NS,
        attributes={"gen_ai.tool.name": "run", "agentguard.tool.kind": "shell"},
    )
    signal = {
        "agentguard.signal.code": "circumvention.decode_exec",
        "agentguard.signal.severity": "critical",
        "agentguard.signal.message": "runs decoded text as code",
        "agentguard.signal.evidence.span_ids": ["2" * 16],
    }
    tool.events.append(SpanEvent("agentguard.signal", 11 * NS, signal))
    m = Monitor(MonitorConfig(state_dir=state, port=None, settle_s=0.0))
    try:
        m.journal.append([tool, root], now=time.time() - 1)
        assert m.review_due() == 1
    finally:
        m.stop()
    return "conv-1"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentguard", *args], capture_output=True, text=True, check=False
    )


def test_a_finding_is_triaged_with_its_history_and_exported_as_a_label(tmp_path: Path) -> None:
    state = tmp_path / "m"
    _reviewed_session(state)
    listed = _cli("triage", "--state-dir", str(state), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [finding] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (finding["code"], finding["state"]) == ("circumvention.decode_exec", "new")
    assert _cli("triage", "--state-dir", str(state), "export", "--jsonl").stdout == ""  # nothing labelled yet
    done = _cli(
        "triage",
        "--state-dir",
        str(state),
        "set",
        str(finding["id"]),
        "confirmed",
        "--by",
        "ana",
        "--note",
        "real",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(_cli("triage", "--state-dir", str(state), "show", str(finding["id"])).stdout)
    assert shown["state"] == "confirmed"
    assert [(h["previous"], h["state"], h["by"]) for h in shown["history"]] == [("new", "confirmed", "ana")]
    [line] = _cli("triage", "--state-dir", str(state), "export", "--jsonl").stdout.splitlines()
    label = json.loads(line)
    assert (label["label"], label["session_id"]) == ("confirmed", "conv-1")
    assert len(label["otlp"]["resourceSpans"]) >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "99", "confirmed"), "no finding 99"),
        (("show", "99"), "no finding 99"),
    ],
)
def test_unknown_findings_are_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    state = tmp_path / "m"
    _reviewed_session(state)
    done = _cli("triage", "--state-dir", str(state), *args)
    assert done.returncode == 1 and message in done.stderr and done.stderr.count("\n") == 1


def test_an_unknown_state_is_a_usage_error(tmp_path: Path) -> None:
    state = tmp_path / "m"
    _reviewed_session(state)
    done = _cli("triage", "--state-dir", str(state), "set", "1", "fixed")
    assert done.returncode not in (0, 1)
    with pytest.raises(ValueError, match="unknown triage state"):
        journal = Journal(state / "monitor.db")
        try:
            journal.set_state(1, "fixed", by="x")
        finally:
            journal.close()


def test_an_incident_record_carries_findings_actions_evidence_and_the_article_73_clock(
    tmp_path: Path,
) -> None:
    state = tmp_path / "m"
    session = _reviewed_session(state)
    done = _cli("incident", session, "--state-dir", str(state), "--format", "eu-ai-act", "--kind", "death")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["severity"] == "critical"
    assert record["what_happened"][0]["code"] == "circumvention.decode_exec"
    assert record["affected_system"]["services"] == ["fleet-agent"]
    assert record["affected_system"]["agents"] == ["coder"]
    assert [e["span_id"] for e in record["evidence"]] == ["2" * 16]
    assert verify_chain(record["evidence"], record["chain_head"])
    clock = record["eu_ai_act"]
    assert (clock["article"], clock["reporting_days"]) == ("73", 10)
    assert "not legal advice" in clock["disclaimer"]
    missing = _cli("incident", "nope", "--state-dir", str(state))
    assert missing.returncode == 1 and "no reviewed session" in missing.stderr


def test_the_hash_chain_notices_any_change_drop_or_reorder() -> None:
    entries = [{"span_id": str(i), "name": f"s{i}"} for i in range(4)]
    head = hash_chain(entries)
    assert verify_chain(entries, head)
    changed = [dict(e) for e in entries]
    changed[1]["name"] = "edited"
    assert not verify_chain(changed, head)
    assert not verify_chain([dict(e) for e in entries[:3]], head)
    assert not verify_chain([dict(e) for e in (entries[1], entries[0], *entries[2:])], head)


def test_incident_kinds_and_formats_are_checked(tmp_path: Path) -> None:
    state = tmp_path / "m"
    session = _reviewed_session(state)
    journal = Journal(state / "monitor.db")
    try:
        assert "eu_ai_act" not in incident_record(journal, session)
        with pytest.raises(ValueError, match="kind"):
            incident_record(journal, session, fmt="eu-ai-act", kind="minor")
        with pytest.raises(KeyError):
            incident_record(journal, "absent")
    finally:
        journal.close()
