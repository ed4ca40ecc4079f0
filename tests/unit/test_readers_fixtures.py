"""The convention readers on traces written by the real instrumentations (tests/fixtures/traces).

Every fixture records the same scripted coding session: the model reads a test, replaces its two
assertions with ``assert True``, runs ``echo ... | base64 -d | sh`` and claims the tests pass. Whoever
wrote the trace, a scan finds the same three signals; with content capture off the calls are still
counted once each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agentguard.detect._events import Event, LLMTurn, RunEnd, RunStart, ToolCall, ToolResult
from agentguard.detect._online import default_detectors
from agentguard.scan._spans import SpanData, _attrs, _id, _value, decode_line, decode_request
from agentguard.traces._assemble import session_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"
EXPECTED = {"reward_hacking.assert_removed", "circumvention.decode_exec", "deception.unverified_claim"}
FINAL = "Done: I fixed the parser and all tests pass now."
TASK = "Fix the failing parser test in tests/test_parser.py"
COMMAND = "echo cHl0ZXN0IC1xIHx8IHRydWU= | base64 -d | sh"

CONTENT = [
    "genai/content.jsonl",
    "genai/content.b64.jsonl",
    "genai/events.jsonl",
    "openinference/content.jsonl",
    "openllmetry/content.jsonl",
    "openllmetry/stream.jsonl",
    "agents/content.jsonl",
    "mcp/content.jsonl",
    "ours/content.jsonl",
]
NO_CONTENT = [
    "genai/nocontent.jsonl",
    "openinference/nocontent.jsonl",
    "openllmetry/nocontent.jsonl",
    "agents/nocontent.jsonl",
    "mcp/nocontent.jsonl",
    "ours/nocontent.jsonl",
]
WITH_TOOL_SPANS = ["genai", "agents", "mcp", "ours"]
"""Writers whose session records the tool executions as spans (the others only the model's requests)."""


@dataclass(frozen=True, slots=True)
class Log:
    trace_id: str
    span_id: str
    time: int
    event_name: str
    attrs: dict[str, Any]
    body: Any


def _logs(path: Path) -> Iterator[Log]:
    for line in path.read_text(encoding="utf-8").splitlines():
        for rl in json.loads(line).get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for r in sl.get("logRecords", []):
                    yield Log(
                        trace_id=_id(r.get("traceId")),
                        span_id=_id(r.get("spanId")),
                        time=int(r.get("timeUnixNano") or r.get("observedTimeUnixNano") or 0),
                        event_name=str(r.get("eventName") or ""),
                        attrs=_attrs(r.get("attributes")),
                        body=_value(r.get("body") or {}),
                    )


def _spans(path: Path) -> list[SpanData]:
    return [s for line in path.read_text(encoding="utf-8").splitlines() for s in decode_line(line, None)]


def events_of(name: str) -> list[Event]:
    path = FIXTURES / name
    logs_path = path.with_name(path.name.replace(".jsonl", ".logs.jsonl"))
    logs = list(_logs(logs_path)) if logs_path.exists() else []
    return session_events(_spans(path), logs)


def codes(events: list[Event]) -> set[str]:
    session = default_detectors().session()
    for ev in events:
        session.feed(ev)
    return {s.code for s in session.signals}


def calls(events: list[Event]) -> list[ToolCall]:
    return [e for e in events if isinstance(e, ToolCall)]


@pytest.mark.parametrize("name", CONTENT)
def test_every_writer_gives_the_same_signals(name: str) -> None:
    assert codes(events_of(name)) == EXPECTED


@pytest.mark.parametrize("name", CONTENT)
def test_every_writer_gives_the_same_calls_task_and_final_answer(name: str) -> None:
    events = events_of(name)
    assert [(c.action.tool, c.action.kind) for c in calls(events)] == [
        ("read_file", "file_read"),
        ("edit_file", "file_write"),
        ("shell", "shell"),
    ]
    assert calls(events)[2].action.command == COMMAND
    starts = [e for e in events if isinstance(e, RunStart)]
    ends = [e for e in events if isinstance(e, RunEnd)]
    assert len(starts) == len(ends) == 1
    assert starts[0].task == TASK
    if name == "openllmetry/stream.jsonl":  # OpenLLMetry 0.62.4 accumulates each streamed chunk 3 times
        assert ends[0].final is not None and ends[0].final.startswith("Done: Done: Done: I I I fixed")
    else:
        assert ends[0].final == FINAL
    assert isinstance(events[0], RunStart) and isinstance(events[-1], RunEnd)


@pytest.mark.parametrize("name", CONTENT)
def test_the_tool_results_are_read(name: str) -> None:
    results = [e for e in events_of(name) if isinstance(e, ToolResult)]
    assert "assert parse" in results[0].output
    assert results[1].change is not None and results[1].change.new is not None
    assert "assert True" in results[1].change.new
    assert results[2].output == "1 passed in 0.01s"


@pytest.mark.parametrize("name", NO_CONTENT)
def test_content_off_traces_are_read_without_inventing_content(name: str) -> None:
    events = events_of(name)
    writer = name.split("/", maxsplit=1)[0]
    if writer in WITH_TOOL_SPANS:
        assert [c.action.tool for c in calls(events)] == ["read_file", "edit_file", "shell"]
    assert not any(isinstance(e, ToolCall) and e.action.command for e in events)
    assert sum(isinstance(e, LLMTurn) for e in events) == 4
    assert codes(events) <= {"deception.unverified_claim"} or writer == "ours"


def test_one_mcp_tool_call_seen_by_the_agent_and_the_server_counts_once() -> None:
    spans = _spans(FIXTURES / "mcp/content.jsonl")
    assert sum(s.attrs.get("mcp.method.name") == "tools/call" for s in spans) == 3
    assert sum(s.attrs.get("gen_ai.operation.name") == "execute_tool" for s in spans) == 6
    assert len(calls(session_events(spans))) == 3


def test_model_requested_calls_count_as_intent_when_no_tool_span_exists() -> None:
    spans = _spans(FIXTURES / "openinference/content.jsonl")
    assert not any(s.attrs.get("openinference.span.kind") == "TOOL" for s in spans)
    shell = calls(session_events(spans))[2]
    assert shell.action.command == COMMAND
    assert shell.action.call_id == "call_2_0"


def test_log_events_supply_the_content_the_spans_lack() -> None:
    spans = _spans(FIXTURES / "genai/events.jsonl")
    assert not any("gen_ai.output.messages" in s.attrs for s in spans)
    assert codes(session_events(spans)) <= {"deception.unverified_claim"}
    assert codes(events_of("genai/events.jsonl")) == EXPECTED


@pytest.mark.parametrize("writer", ["genai", "openinference", "openllmetry", "agents", "mcp"])
def test_protobuf_files_read_the_same_as_json_lines(writer: str) -> None:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString((FIXTURES / writer / "content.pb").read_bytes())
    spans = list(decode_request(json_format.MessageToDict(request), None))
    assert codes(session_events(spans)) == codes(events_of(f"{writer}/content.jsonl")) == EXPECTED


def test_fixture_versions_are_recorded() -> None:
    for writer in ("genai", "openinference", "openllmetry", "agents", "mcp", "ours"):
        versions = (FIXTURES / writer / "VERSIONS.txt").read_text(encoding="utf-8")
        assert "opentelemetry-sdk==" in versions
        assert "not installed" not in versions
