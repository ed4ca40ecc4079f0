"""A denied attempt to weaken a test is still reward hacking, online and offline alike.

The write never lands, so the detector judges what was attempted: the file's content before the call
(read relative to the scope root, as the policy reads the path) against the proposed content.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentguard as ag
from agentguard.detect import DetectorSet
from agentguard.scan._exporter import OtlpJsonFileExporter
from agentguard.scan._runner import scan_file

TEST = "def test_a():\n    assert f(1) == 2\n    assert f(2) == 4\n"
WEAKENED = "def test_a():\n    f(1)\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_f.py").write_text(TEST)
    return tmp_path


def _play(repo: Path, guard: ag.Guard) -> None:
    policy = ag.Policy(scope=ag.Scope(root=str(repo), write=["src/**"]))

    @ag.tool(kind="file_write", on_deny="return", guard=guard)
    def write_file(path: str, content: str) -> str:  # relative to the repository, like agents' tools
        (repo / path).write_text(content)
        return "ok"

    @ag.guarded(guard=guard, policy=policy)
    def agent() -> str:
        return write_file("tests/test_f.py", WEAKENED)

    assert agent().startswith("Denied")
    assert (repo / "tests" / "test_f.py").read_text() == TEST  # the write never ran


def test_online_signal_on_a_denied_weakening(repo: Path) -> None:
    from agentguard.testing import CapturingGuard

    cap = CapturingGuard(capture_content=True)
    _play(repo, cap.guard)
    span = cap.span("execute_tool write_file")
    codes = [dict(e.attributes or {}).get("agentguard.signal.code") for e in span.events]
    assert "reward_hacking.assert_removed" in codes


def test_offline_scan_finds_the_same_signal(repo: Path, tmp_path: Path) -> None:
    otlp = tmp_path / "spans.jsonl"
    provider = TracerProvider()
    exporter = OtlpJsonFileExporter(otlp)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _play(repo, ag.Guard(tracer_provider=provider, capture_content=True))
    provider.shutdown()
    results, issues, _ = scan_file(otlp, DetectorSet())
    assert issues == []
    codes = {s.code for r in results for s in r.signals}
    assert "reward_hacking.assert_removed" in codes
