# ruff: noqa: E501 - OTLP documents read best as one literal
"""Inputs: gzip (whole, truncated, corrupt), base64 ids, OTLP logs, OTLP protobuf files, the report."""

from __future__ import annotations

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.cli import main
from agentguard.scan import scan
from agentguard.traces import ReadIssue, Span, decode_line, encode_records, read_file

sys.path.insert(0, str(Path(__file__).parent))
from test_scan import line, session


def _sessions_file(path: Path, n: int) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt") as f:
        for i in range(n):
            cmd = "git commit --no-verify -m x" if i % 2 == 0 else "ls"
            f.write(line(*session(f"{i + 1:032x}", None, [cmd, "pwd"])) + "\n")


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_gzip_is_one_clear_line_and_a_failing_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str, damage: str
) -> None:
    path = tmp_path / "t.jsonl.gz"
    _sessions_file(path, 200)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    else:
        path.write_bytes(data[:40] + bytes(b ^ 0x5A for b in data[40:80]) + data[80:])
    status = main(["scan", "--workers", workers, str(path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x]
    assert len(lines) == 1 and str(path) in lines[0]
    assert "gzip" in lines[0] or "nothing could be read" in lines[0]


def test_a_truncated_gzip_still_reports_what_was_read(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    _sessions_file(path, 200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = scan([path])
    (issue,) = report.issues
    assert issue.fatal and "truncated or corrupt gzip" in issue.message
    assert 0 < len(report.sessions) < 200


def test_report_reads_a_gzipped_otlp_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.jsonl.gz"
    _sessions_file(path, 5)
    assert len(scan([path]).sessions) == 5
    assert main(["report", "--otlp", str(path), "-o", str(tmp_path / "r.html")]) == 0
    assert "5 runs" in capsys.readouterr().out


_ids = st.tuples(
    st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8), st.binary(min_size=8, max_size=8)
)


@settings(max_examples=50, deadline=None)
@given(ids=_ids)
def test_hex_and_base64_ids_decode_to_the_same_record(ids: tuple[bytes, bytes, bytes]) -> None:
    trace, span_id, parent = ids

    def doc(encode: Any) -> str:
        sp = {"traceId": encode(trace), "spanId": encode(span_id), "parentSpanId": encode(parent), "name": "s",
              "links": [{"traceId": encode(trace), "spanId": encode(parent)}]}  # fmt: skip
        return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [sp]}]}]})

    (from_hex,) = decode_line(doc(lambda b: b.hex()))
    (from_b64,) = decode_line(doc(lambda b: base64.b64encode(b).decode()))
    assert from_hex == from_b64
    assert (from_hex.trace_id, from_hex.span_id, from_hex.parent_id) == (
        trace.hex(),
        span_id.hex(),
        parent.hex(),
    )
    assert from_hex.links[0].span_id == parent.hex()


def test_records_round_trip_through_the_json_codec() -> None:
    original = Span(
        trace_id="ab" * 16, span_id="cd" * 8, parent_id="ef" * 8, name="chat m", kind=3, start=5, end=9,
        status=2, status_message="boom", attributes={"i": 1, "f": 0.5, "b": True, "s": "x", "a": ["y", 2]},
        resource={"service.name": "svc"}, scope="lib", scope_version="1.0",
    )  # fmt: skip
    (back,) = decode_line(json.dumps(encode_records([original])))
    assert back == original


def test_log_records_join_the_session_of_their_span(tmp_path: Path) -> None:
    trace = "7" * 32
    logs = {"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"scope": {"name": "genai"}, "logRecords": [{
        "timeUnixNano": "1500", "traceId": trace, "spanId": "1" * 16, "eventName": "gen_ai.choice",
        "body": {"kvlistValue": {"values": [{"key": "message", "value": {"stringValue": "done"}}]}},
        "attributes": [{"key": "gen_ai.system", "value": {"stringValue": "openai"}}],
    }]}]}]}  # fmt: skip
    (tmp_path / "logs.jsonl").write_text(json.dumps(logs) + "\n")
    (tmp_path / "spans.jsonl").write_text(line(*session(trace, "conv-7", ["ls"])) + "\n")
    issues: list[ReadIssue] = []
    (record,) = read_file(tmp_path / "logs.jsonl", issues)
    assert issues == []
    assert (record.parent_id, record.events[0].name) == ("1" * 16, "gen_ai.choice")
    assert record.events[0].attributes["log.body"] == {"message": "done"}
    (sess,) = scan([tmp_path]).sessions
    assert (sess.id, sess.spans) == ("conv-7", 3)


def test_an_otlp_protobuf_file_scans_like_its_json(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as proto_encode
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import agentguard as ag
    from agentguard.scan import OtlpJsonFileExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(OtlpJsonFileExporter(tmp_path / "t.jsonl")))
    guard = ag.Guard(tracer_provider=provider, capture_content=True)

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard)
    def agent() -> None:
        run("git commit --no-verify -m x")

    agent()
    provider.shutdown()
    (tmp_path / "t.binpb").write_bytes(proto_encode(memory.get_finished_spans()).SerializeToString())

    def shape(path: Path) -> list[Any]:
        return [(s.id, s.spans, [g.code for g in s.signals]) for s in scan([path]).sessions]

    assert shape(tmp_path / "t.binpb") == shape(tmp_path / "t.jsonl")
    assert shape(tmp_path / "t.jsonl")[0][2] == ["circumvention.bypass_flag"]
