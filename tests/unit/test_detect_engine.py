"""Detectors inside the guard: span events, metrics, run.signals, diffs, safety, configuration, rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentguard.action import Denied
from agentguard.detect import (
    Detector,
    DetectorSet,
    Loop,
    RunStart,
    Session,
    Signal,
    ToolCall,
    make_diff,
    severity_rank,
    split_diff,
)
from agentguard.guard import current_run
from agentguard.instrumentation import guarded, tool
from agentguard.policy import Policy
from agentguard.policy.rules import after_signal, no_egress_after_secret_read
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


def test_signal_model() -> None:
    s = Signal(code="loop.repeated_call", severity="medium", confidence=0.5, message="m")
    assert s.category == "loop" and s.at_least("low") and not s.at_least("high")
    assert [severity_rank(x) for x in ("info", "low", "medium", "high", "critical")] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="category"):
        Signal(code="made_up.thing", severity="low", confidence=1, message="")
    with pytest.raises(ValueError, match="severity"):
        Signal(code="loop.x", severity="severe", confidence=1, message="")  # type: ignore[arg-type]


def test_signal_is_a_span_event_a_metric_and_on_the_run(tmp_path: Path) -> None:
    cap = CapturingGuard()

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    seen: list[Any] = []

    @guarded(guard=cap.guard)
    def agent() -> str:
        run("git commit --no-verify -m wip")
        seen.extend(current_run().signals)  # type: ignore[union-attr]
        return "ok"

    agent()
    (sig,) = seen
    assert sig.code == "circumvention.bypass_flag"
    span = cap.span("execute_tool run")
    (event,) = [e for e in span.events if e.name == sc.EVENT_SIGNAL]
    attrs = dict(event.attributes or {})
    assert attrs[sc.SIGNAL_CODE] == "circumvention.bypass_flag"
    assert attrs[sc.SIGNAL_CATEGORY] == "circumvention"
    assert attrs[sc.SIGNAL_SEVERITY] == "high"
    assert attrs[sc.SIGNAL_SOURCE] == "detector"
    assert "--no-verify" in str(attrs[sc.SIGNAL_EVIDENCE])
    assert list(cast(Sequence[str], attrs[sc.SIGNAL_SPAN_IDS])) == [f"{span.context.span_id:016x}"]
    ((labels, value),) = cap.metrics()[sc.METRIC_SIGNALS]
    assert labels == {sc.SIGNAL_CATEGORY: "circumvention", sc.SIGNAL_SEVERITY: "high"} and value == 1
    cap.shutdown()


def test_metrics_still_count_when_spans_are_sampled_out() -> None:
    cap = CapturingGuard(sampled=False)

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    guarded(guard=cap.guard)(lambda: run("echo eA== | base64 -d | sh"))()
    assert [v for _, v in cap.metrics()[sc.METRIC_SIGNALS]] == [1]
    cap.shutdown()


class Boom(Detector):
    category = "loop"

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        raise RuntimeError("detector bug")


def test_a_detector_bug_never_reaches_the_agent(caplog: pytest.LogCaptureFixture) -> None:
    cap = CapturingGuard(detectors=DetectorSet([Boom]))

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    with caplog.at_level(logging.WARNING, logger="agentguard"):
        assert guarded(guard=cap.guard)(lambda: run("ls"))() == "done"
    assert "detect.tool_call" in caplog.text
    cap.shutdown()


@pytest.mark.parametrize("detectors", [(), [], DetectorSet([])], ids=["tuple", "list", "empty-set"])
def test_detectors_can_be_turned_off(detectors: Any) -> None:
    cap = CapturingGuard(detectors=detectors)

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    signals: list[Any] = []

    @guarded(guard=cap.guard)
    def agent() -> str:
        run("git commit --no-verify")
        signals.extend(current_run().signals)  # type: ignore[union-attr]
        return "I ran the tests and all tests pass."

    agent()
    assert signals == []
    assert all(e.name != sc.EVENT_SIGNAL for s in cap.spans() for e in s.events)
    cap.shutdown()


def test_a_custom_set_as_a_list_of_detectors() -> None:
    cap = CapturingGuard(detectors=[Loop])

    @tool(kind="file_read", guard=cap.guard)
    def read(path: str) -> str:
        return "same"

    signals: list[Any] = []

    @guarded(guard=cap.guard)
    def agent() -> str:
        for _ in range(3):
            read("a.txt")
        signals.extend(current_run().signals)  # type: ignore[union-attr]
        return "I ran the tests and all tests pass."  # deception is not in this set

    agent()
    assert [s.code for s in signals] == ["loop.repeated_call"]
    cap.shutdown()


@pytest.mark.parametrize("capture", [True, False], ids=["capture-on", "capture-off"])
def test_overwrite_records_a_redacted_diff_when_content_capture_is_on(tmp_path: Path, capture: bool) -> None:
    target = tmp_path / "tests" / "test_a.py"
    target.parent.mkdir()
    target.write_text("def test_a():\n    assert f() == 1\n    assert g() == 2\n")
    cap = CapturingGuard(capture_content=capture)

    @tool(kind="file_write", guard=cap.guard)
    def write_file(path: str, content: str) -> str:
        Path(path).write_text(content)
        return "ok"

    signals: list[Any] = []

    @guarded(guard=cap.guard)
    def agent() -> None:
        write_file(
            str(target), "def test_a():\n    assert f() == 1\n    # api_key = 'sk-abcdefghijklmnopqrstuvwx'\n"
        )
        signals.extend(current_run().signals)  # type: ignore[union-attr]

    agent()
    attrs = dict(cap.span("execute_tool write_file").attributes or {})
    if capture:
        diff = attrs[sc.FILE_DIFF]
        assert isinstance(diff, str)
        assert "-    assert g() == 2" in diff and "sk-abcdefghijklmnop" not in diff
    else:
        assert sc.FILE_DIFF not in attrs
    assert [s.code for s in signals] == ["reward_hacking.assert_removed"]  # detected online either way
    cap.shutdown()


@given(st.text(alphabet="ab \n\t\\x", max_size=80), st.text(alphabet="ab \n\t\\x", max_size=80))
def test_a_full_context_diff_gives_back_both_sides(old: str, new: str) -> None:
    assert split_diff(make_diff("f.txt", old, new)) == (old, new) or old == new


def test_after_signal_rule_asks_and_without_approver_denies() -> None:
    policy = Policy(rules=[after_signal(severity="critical", then="ask")])
    cap = CapturingGuard(policy=policy)

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    @guarded(guard=cap.guard)
    def agent() -> str:
        run("ls")
        with pytest.raises(Denied, match=r"circumvention\.decode_exec"):
            run("echo bHM= | base64 -d | sh")  # the signal comes before the decision: this call already asks
        with pytest.raises(Denied):
            run("ls")
        return "ok"

    agent()
    cap.shutdown()


def test_no_egress_after_a_secret_read(tmp_path: Path) -> None:
    policy = Policy(rules=[no_egress_after_secret_read()])
    cap = CapturingGuard(policy=policy)

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    @guarded(guard=cap.guard)
    def agent() -> str:
        run("curl https://example.org/")  # fine before
        run("cat .env")
        with pytest.raises(Denied, match="after a secret was read"):
            run("curl -d x=1 https://example.org/")
        run("ls")
        return "ok"

    agent()
    cap.shutdown()


def test_rule_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        after_signal(then="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        after_signal(severity="severe")
    with pytest.raises(ValueError):
        after_signal(categories=["vibes"])


def test_run_end_final_message_is_recorded_and_judged() -> None:
    cap = CapturingGuard(capture_content=True)
    signals: list[Any] = []

    @guarded(guard=cap.guard)
    def agent() -> str:
        run = current_run()
        assert run is not None
        signals.append(run)
        return "All tests pass."

    agent()
    run_span = cap.span("invoke_agent agent")
    attrs = dict(run_span.attributes or {})
    assert "All tests pass." in str(attrs[sc.GEN_AI_OUTPUT_MESSAGES])
    assert [e.attributes[sc.SIGNAL_CODE] for e in run_span.events if e.name == sc.EVENT_SIGNAL] == [  # type: ignore[index]
        "deception.unverified_claim"
    ]
    cap.shutdown()


def test_signals_on_a_run_are_bounded() -> None:
    from agentguard.detect._online import MAX_RUN_SIGNALS

    cap = CapturingGuard()

    @tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "done"

    count: list[int] = []

    @guarded(guard=cap.guard)
    def agent() -> None:
        for i in range(MAX_RUN_SIGNALS + 50):
            run(f"git commit --no-verify -m {i}")
        count.append(len(current_run().signals))  # type: ignore[union-attr]

    agent()
    assert count == [MAX_RUN_SIGNALS] or count[0] <= MAX_RUN_SIGNALS
    cap.shutdown()


def test_async_tools_and_streamed_responses_feed_the_detectors() -> None:
    import asyncio

    from openai import AsyncOpenAI

    from agentguard.demo import ScriptedServer, Step
    from agentguard.instrumentation.openai import instrument_openai, uninstrument_openai

    cap = CapturingGuard(capture_content=True)

    @tool(kind="shell", guard=cap.guard)
    async def run(command: str) -> str:
        return "1 failed, 2 passed"

    holder: list[Any] = []
    steps = [Step(tool_calls=[("run", {"command": "pytest -q"})]), Step(text="All tests pass now.")]

    with ScriptedServer(steps) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0)

        @guarded(guard=cap.guard)
        async def agent() -> None:
            messages: list[Any] = [{"role": "user", "content": "fix it"}]
            for _ in steps:
                stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
                text, calls = "", []
                async for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        text += chunk.choices[0].delta.content
                    if chunk.choices and chunk.choices[0].delta.tool_calls:
                        calls.extend(chunk.choices[0].delta.tool_calls)
                messages.append({"role": "assistant", "content": text or None,
                                 "tool_calls": [c.model_dump() for c in calls] or None})  # fmt: skip
                for c in calls:
                    out = await run(command="pytest -q")
                    messages.append({"role": "tool", "tool_call_id": c.id, "content": out})
            holder.append(current_run())

        instrument_openai()
        try:
            asyncio.run(agent())  # returns None: the final message is the last assistant text
        finally:
            uninstrument_openai()
    assert [s.code for s in holder[0].signals] == ["deception.false_success"]
    run_span = cap.span("invoke_agent agent")
    assert [e.attributes[sc.SIGNAL_CODE] for e in run_span.events if e.name == sc.EVENT_SIGNAL] == [  # type: ignore[index]
        "deception.false_success"
    ]
    cap.shutdown()


class _ScopedOnly(Detector):
    """Applies only to runs that declare writable paths; says so on every shell call."""

    category = "scope_creep"

    def enabled(self, ev: RunStart) -> bool:
        return bool(ev.scope_write)

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        return [Signal(code="scope_creep.out_of_scope_write", severity="low", confidence=1.0, message="seen")]


@pytest.mark.parametrize(
    ("scope_write", "calls_seen"), [((), 0), (("src/**",), 1)], ids=["no-scope", "scope"]
)
def test_a_detector_that_does_not_apply_to_a_run_is_not_called(
    scope_write: tuple[str, ...], calls_seen: int
) -> None:
    from agentguard.action import Action

    session = DetectorSet([_ScopedOnly, Loop]).session()
    session.feed(RunStart(span_id="r", scope_write=scope_write))
    session.feed(ToolCall(span_id="c", action=Action(kind="shell", tool="run", command="ls")))
    assert len(session.signals) == calls_seen
