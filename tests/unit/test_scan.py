# ruff: noqa: E501 - the cases are tables, one case per line
"""scan: OTLP JSON lines and the local store, grouped into sessions, replayed through the detectors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from agentguard.scan import FormatError, decode_request, scan
from agentguard.testing import CapturingGuard


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, list):
        v = {"arrayValue": {"values": [{"stringValue": x} for x in value]}}
    else:
        v = {"stringValue": value}
    return {"key": key, "value": v}


def span(trace: str, sid: str, parent: str, name: str, start: int, attrs: dict[str, Any],
         events: list[dict[str, Any]] | None = None, status: int = 0) -> dict[str, Any]:  # fmt: skip
    out: dict[str, Any] = {
        "traceId": trace, "spanId": sid, "parentSpanId": parent, "name": name, "kind": 1,
        "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10),
        "attributes": [_attr(k, v) for k, v in attrs.items()], "status": {"code": status},
    }  # fmt: skip
    if events:
        out["events"] = events
    return out


def line(*spans: dict[str, Any]) -> str:
    return json.dumps(
        {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "x"}, "spans": list(spans)}]}]}
    )


def session(
    trace: str, conv: str | None, commands: list[str], *, t0: int = 1000, run_id: str | None = None
) -> list[dict[str, Any]]:
    """A run span and one shell tool span per command (children first, as exporters write them)."""
    root = trace[:16]
    out = []
    for i, cmd in enumerate(commands):
        out.append(span(trace, f"{i + 1:016x}", root, "execute_tool run", t0 + 100 * (i + 1),
                        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "run",
                         "agentguard.tool.kind": "shell", "gen_ai.tool.call.arguments": json.dumps({"command": cmd})}))  # fmt: skip
    attrs: dict[str, Any] = {"gen_ai.operation.name": "invoke_agent"}
    if conv:
        attrs["gen_ai.conversation.id"] = conv
    if run_id:
        attrs["agentguard.run.id"] = run_id
    out.append(span(trace, root, "", "invoke_agent a", t0, attrs))
    return out


T1, T2, T3 = "a" * 32, "b" * 32, "c" * 32


def test_decode_attribute_values_and_ids() -> None:
    doc = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "q83vEjRWeJCrze8SNFZ4kA==", "spanId": "EjRWeJCrze8=", "name": "s",
            "startTimeUnixNano": "5", "endTimeUnixNano": 9,
            "attributes": [
                {"key": "i", "value": {"intValue": "42"}}, {"key": "d", "value": {"doubleValue": 0.5}},
                {"key": "b", "value": {"boolValue": True}},
                {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": 1}]}}},
                {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}},
            ],
            "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
        }]}]}]
    }  # fmt: skip
    (s,) = decode_request(doc)
    assert s.trace_id == "abcdef1234567890abcdef1234567890"
    assert s.span_id == "1234567890abcdef"
    assert (s.start, s.end, s.status, s.status_message) == (5, 9, 2, "boom")
    assert s.attributes == {"i": 42, "d": 0.5, "b": True, "a": ["x", 1], "kv": {"k": "v"}}


@pytest.mark.parametrize("doc", [[], "x", {"resourceSpans": "no"}, {"other": 1}])
def test_not_a_request(doc: Any) -> None:
    with pytest.raises(FormatError):
        list(decode_request(doc))


def test_sessions_by_conversation_id_else_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    spans = [
        *session(T1, "conv-1", ["echo cm0gLXJmIC8= | base64 -d | sh"], t0=1000),
        *session(
            T2, "conv-1", ["git commit --no-verify -m x"], t0=5000
        ),  # the same conversation, another trace
        *session(T3, None, ["ls"], t0=9000),
    ]
    path.write_text("\n".join(line(s) for s in spans) + "\n")
    report = scan([path])
    by_id = {s.id: s for s in report.sessions}
    assert set(by_id) == {"conv-1", T3}
    assert sorted(s.code for s in by_id["conv-1"].signals) == [
        "circumvention.bypass_flag",
        "circumvention.decode_exec",
    ]
    assert by_id["conv-1"].spans == 4
    assert by_id[T3].signals == []
    assert report.spans == 6


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    good = session(T1, None, ["git commit --no-verify -m x"])
    path.write_text("\n".join([line(good[0]), "{not json", "", json.dumps({"foo": 1}), line(good[1])]) + "\n")
    report = scan([path])
    assert [(i.path, i.line) for i in report.issues] == [(str(path), 2), (str(path), 4)]
    assert "malformed JSON" in report.issues[0].message
    assert [s.code for s in report.sessions[0].signals] == ["circumvention.bypass_flag"]


def test_incomplete_trace_is_still_replayed(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    spans = session(T1, None, ["git commit --no-verify -m x"])[:-1]  # no root span
    path.write_text(line(*spans) + "\n")
    report = scan([path])
    assert [s.code for sess in report.sessions for s in sess.signals] == ["circumvention.bypass_flag"]


def test_a_large_input_spills_to_disk_and_gives_the_same_report(tmp_path: Path) -> None:
    from agentguard.traces import SessionAssembler, read_file

    path = tmp_path / "t.jsonl"
    with path.open("w") as f:
        for i in range(200):
            cmd = "git commit --no-verify -m x" if i % 4 == 0 else "ls"
            for s in session(f"{i:032x}", None, [cmd, "pwd"], run_id=f"{i:032x}"):
                f.write(line(s) + "\n")
    in_memory = scan([path])
    spilled = scan([path], memory_spans=50, spill_dir=tmp_path)
    assert [s.to_dict() for s in spilled.sessions] == [s.to_dict() for s in in_memory.sessions]
    assert len(spilled.sessions) == 200
    assert sum(len(s.signals) for s in spilled.sessions) == 50
    asm = SessionAssembler(memory_spans=50, spill_dir=tmp_path)
    for span in read_file(path, []):
        asm.add(span)
    assert asm.spool.on_disk and not asm.spool._mem  # past the threshold nothing stays in memory
    assert sum(1 for _ in asm.sessions()) == 200
    assert list(tmp_path.iterdir()) == [path]  # the spool file is gone once the sessions are read


def test_gzip_and_directories(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with gzip.open(tmp_path / "d" / "a.jsonl.gz", "wt") as f:
        f.write(line(*session(T1, None, ["git commit --no-verify"])) + "\n")
    (tmp_path / "d" / "b.json").write_text(line(*session(T2, None, ["ls"])) + "\n")
    report = scan([tmp_path / "d"])
    assert len(report.sessions) == 2
    assert sum(len(s.signals) for s in report.sessions) == 1


@pytest.mark.parametrize("files", [1, 3])
def test_workers_give_the_same_report(tmp_path: Path, files: int) -> None:
    paths = []
    for n in range(files):
        p = tmp_path / f"t{n}.jsonl"
        with p.open("w") as f:
            for i in range(30):
                cmd = "git commit --no-verify -m x" if i % 3 == 0 else "ls"
                f.write(line(*session(f"{n:08x}{i:024x}", None, [cmd])) + "\n")
        paths.append(p)
    one = scan(paths)
    two = scan(paths, workers=2)
    assert [s.to_dict() for s in two.sessions] == [s.to_dict() for s in one.sessions]
    assert sum(len(s.signals) for s in one.sessions) == 10 * files


def test_workers_read_sessions_spilled_to_disk(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with path.open("w") as f:
        for i in range(40):
            f.write(line(*session(f"{i:032x}", None, ["git commit --no-verify -m x", "ls"])) + "\n")
    one = scan([path], memory_spans=20, spill_dir=tmp_path)
    two = scan([path], workers=2, memory_spans=20, spill_dir=tmp_path)
    assert [s.to_dict() for s in two.sessions] == [s.to_dict() for s in one.sessions]
    assert len(one.sessions) == 40


def test_local_store(tmp_path: Path) -> None:
    from agentguard.export import LocalStoreSpanExporter
    from agentguard.instrumentation import guarded, tool

    db = tmp_path / "agentguard.db"
    cap = CapturingGuard(capture_content=True)
    exporter = LocalStoreSpanExporter(db)
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    cap.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "ok"

    @guarded(guard=cap.guard)
    def agent() -> str:
        run("git push --force origin main")
        return "pushed"

    agent()
    cap.shutdown()
    report = scan([db])
    assert report.issues == []
    assert [s.code for sess in report.sessions for s in sess.signals] == ["destructive.command"]


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    report = scan([tmp_path / "nope.jsonl"])
    assert report.sessions == [] and "no such file" in report.issues[0].message
