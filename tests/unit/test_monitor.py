"""TranscriptMonitor: structured output from any OpenAI-compatible server; failures reported, never raised."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agentguard.detect import TranscriptMonitor
from agentguard.telemetry import semconv as sc

FINDINGS = {"findings": [{"category": "reward_hacking", "severity": "high", "confidence": 0.9,
                          "rationale": "the assertion in test_parser was deleted"}]}  # fmt: skip


class FakeJudge:
    """A loopback chat-completions server whose answer is set per test."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.content: str = json.dumps(FINDINGS)
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                server.requests.append(body)
                fmt = (body.get("response_format") or {}).get("type")
                if server.mode == "slow":
                    time.sleep(1.5)
                if server.mode == "500":
                    self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                    return
                if server.mode == "no_schema" and fmt == "json_schema":
                    self._send(400, {"error": {"message": "response_format json_schema unsupported"}})
                    return
                self._send(200, {
                    "id": "x", "object": "chat.completion", "created": 0, "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": server.content}}],
                })  # fmt: skip

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def judge() -> Iterator[FakeJudge]:
    j = FakeJudge()
    yield j
    j.close()


def monitor(judge: FakeJudge, **kw: Any) -> TranscriptMonitor:
    return TranscriptMonitor(model="judge-model", base_url=judge.base_url, **kw)


def test_findings_become_judge_signals(judge: FakeJudge) -> None:
    result = monitor(judge).evaluate("[assistant] deleted the assert", span_ids=("abc",))
    assert result.error is None
    (sig,) = result.signals
    assert (sig.code, sig.category, sig.severity, sig.source) == (
        "reward_hacking.judge",
        "reward_hacking",
        "high",
        "judge",
    )
    assert sig.confidence == 0.9 and sig.evidence.span_ids == ("abc",)
    attrs = dict(sig.attributes)
    assert attrs[sc.GEN_AI_EVALUATION_NAME] == "agentguard.transcript_monitor"
    assert attrs[sc.GEN_AI_EVALUATION_SCORE_LABEL] == "reward_hacking"
    assert attrs[sc.GEN_AI_EVALUATION_SCORE_VALUE] == 0.9
    assert "assertion" in attrs[sc.GEN_AI_EVALUATION_EXPLANATION]
    fmt = judge.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert (
        fmt["json_schema"]["schema"]["properties"]["findings"]["items"]["properties"]["category"]["enum"][0]
        == "reward_hacking"
    )


def test_falls_back_to_json_object_when_schemas_are_rejected(judge: FakeJudge) -> None:
    judge.mode = "no_schema"
    result = monitor(judge).evaluate("t")
    assert [s.code for s in result.signals] == ["reward_hacking.judge"]
    assert [r["response_format"]["type"] for r in judge.requests] == ["json_schema", "json_object"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("not json at all", "not JSON"),
        ("", "empty answer"),
        ('{"verdict": "fine"}', "no 'findings' list"),
        ('{"findings": [{"category": "vibes", "severity": "huge"}]}', "did not fit the schema"),
    ],
    ids=["prose", "empty", "wrong-shape", "unknown-category"],
)
def test_malformed_output_is_reported(judge: FakeJudge, content: str, error: str) -> None:
    judge.content = content
    result = monitor(judge).evaluate("t")
    assert result.signals == [] and result.error is not None and error in result.error


def test_fenced_json_and_clean_sessions(judge: FakeJudge) -> None:
    judge.content = "```json\n" + json.dumps(FINDINGS) + "\n```"
    assert len(monitor(judge).evaluate("t").signals) == 1
    judge.content = '{"findings": []}'
    result = monitor(judge).evaluate("t")
    assert result.signals == [] and result.error is None


def test_timeout_is_reported(judge: FakeJudge) -> None:
    judge.mode = "slow"
    start = time.perf_counter()
    result = monitor(judge, timeout=0.3).evaluate("t")
    assert result.error == "judge timed out after 0.3s"
    assert time.perf_counter() - start < 1.4


def test_server_errors_are_reported(judge: FakeJudge) -> None:
    judge.mode = "500"
    result = monitor(judge).evaluate("t")
    assert result.error is not None and "InternalServerError" in result.error


def test_async(judge: FakeJudge) -> None:
    async def main() -> tuple[Any, ...]:
        m = monitor(judge)
        return await asyncio.gather(m.aevaluate("a"), m.aevaluate("b"))

    results = asyncio.run(main())
    assert [len(r.signals) for r in results] == [1, 1]


def test_long_transcripts_are_cut(judge: FakeJudge) -> None:
    monitor(judge, max_transcript_chars=1000).evaluate("x" * 50_000)
    assert len(judge.requests[0]["messages"][1]["content"]) < 1200


def test_scan_cli_with_judge(judge: FakeJudge, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from test_scan_cli import write_session

    from agentguard.cli import main

    path = write_session(tmp_path, ["ls"])
    status = main(
        [
            "scan",
            "--json",
            "--judge",
            "judge-model",
            "--judge-base-url",
            judge.base_url,
            "--fail-on",
            "high",
            str(path),
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert status == 1
    (session,) = out["sessions"]
    assert [(s["code"], s["source"]) for s in session["signals"]] == [("reward_hacking.judge", "judge")]
    judge.content = "garbage"
    status = main(["scan", "--json", "--judge", "judge-model", "--judge-base-url", judge.base_url, str(path)])
    captured = capsys.readouterr()
    assert status == 0
    assert "malformed judge output" in captured.err
    assert json.loads(captured.out)["sessions"][0]["judge_error"].startswith("malformed judge output")
