"""scan over the local store: one run is one session, and uncaptured arguments are not 'the same'."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentguard as ag
from agentguard.detect import DetectorSet
from agentguard.export import LocalStoreSpanExporter
from agentguard.scan._runner import scan_file


def _record(store: Path, *, capture: bool, commands: list[str]) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(LocalStoreSpanExporter(store)))
    guard = ag.Guard(tracer_provider=provider, capture_content=capture, detectors=())

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return "exit 0"

    @ag.guarded(guard=guard, name="worker")
    def agent() -> None:
        for command in commands:
            run(command)

    agent()
    provider.shutdown()


@pytest.mark.parametrize("capture", [False, True], ids=["no-capture", "capture"])
def test_a_run_is_one_session_although_its_root_span_comes_first(tmp_path: Path, capture: bool) -> None:
    store = tmp_path / "store.db"
    _record(store, capture=capture, commands=["pytest -q", "git status", "ls"])
    results, issues, spans = scan_file(store, DetectorSet())
    assert issues == []
    assert spans == 4
    assert [r.spans for r in results] == [4]


def test_different_uncaptured_commands_are_not_a_loop(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    _record(store, capture=False, commands=["pytest -q", "git status", "ls", "make"])
    results, _, _ = scan_file(store, DetectorSet())
    assert not [s for r in results for s in r.signals if s.category == "loop"]


def test_a_captured_repeated_call_is_still_a_loop(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    _record(store, capture=True, commands=["pytest -q"] * 4)
    results, _, _ = scan_file(store, DetectorSet())
    assert "loop.repeated_call" in {s.code for r in results for s in r.signals}
