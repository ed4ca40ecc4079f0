"""@guarded: runs for every kind of function, context in threads and tasks, totals, errors."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Generator
from concurrent.futures import ThreadPoolExecutor

import pytest
from opentelemetry.trace import StatusCode

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


def test_bare_decorator_opens_a_run_with_root_span(cap: CapturingGuard) -> None:
    seen: list[ag.RunState | None] = []

    @ag.guarded
    def agent(goal: str) -> str:
        seen.append(ag.current_run())
        return goal.upper()

    ag.set_default_guard(cap.guard)
    try:
        assert agent("fix") == "FIX"
    finally:
        ag.set_default_guard(None)
    run = seen[0]
    assert run is not None
    span = cap.span("invoke_agent agent")
    attrs = dict(span.attributes or {})
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert attrs[sc.GEN_AI_AGENT_NAME] == "agent"
    assert attrs[sc.RUN_ID] == run.run_id
    assert sc.GEN_AI_CONVERSATION_ID not in attrs  # a fresh run id is not a conversation id
    assert ag.current_run() is None


def test_keyword_arguments_name_task_scope_conversation(cap: CapturingGuard) -> None:
    scope = ag.Scope(root="/repo", write=["src/**"], hosts=["pypi.org"])

    @ag.guarded(name="fixer", task="fix the parser", scope=scope, guard=cap.guard, conversation_id="conv-1")
    def agent() -> None:
        return None

    agent()
    attrs = dict(cap.span("invoke_agent fixer").attributes or {})
    assert attrs[sc.TASK] == "fix the parser"
    assert attrs[sc.SCOPE_WRITE] == ("src/**",)
    assert attrs[sc.SCOPE_HOSTS] == ("pypi.org",)
    assert attrs[sc.SCOPE_ROOT] == "/repo"
    assert attrs[sc.GEN_AI_CONVERSATION_ID] == "conv-1"
    assert attrs[sc.RUN_ID] != "conv-1"


def test_keeps_name_signature_and_docstring() -> None:
    def agent(goal: str, *, budget: float = 1.0) -> str:
        """Fix things."""
        return goal

    wrapped = ag.guarded(task="t")(agent)
    assert wrapped.__name__ == "agent"
    assert wrapped.__doc__ == "Fix things."
    assert inspect.signature(wrapped) == inspect.signature(agent)
    assert str(inspect.signature(wrapped)).startswith("(goal: ")


def test_async_function(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    async def agent() -> str:
        await asyncio.sleep(0)
        run = ag.current_run()
        assert run is not None
        return run.run_id

    run_id = asyncio.run(agent())
    assert inspect.iscoroutinefunction(agent)
    assert dict(cap.span("invoke_agent agent").attributes or {})[sc.RUN_ID] == run_id


def test_generator_keeps_the_run_across_yields_and_not_outside(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    def agent() -> Generator[int, str | None, str]:
        for i in range(3):
            assert ag.current_run() is not None
            sent = yield i
            assert sent in (None, "x")
        return "done"

    gen = agent()
    assert next(gen) == 0
    assert ag.current_run() is None  # the consumer is outside the run between items
    assert gen.send("x") == 1
    assert list(gen) == [2]
    assert len(cap.spans()) == 1


def test_generator_closed_early_is_not_an_error(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    def agent() -> Generator[int, None, None]:
        yield 1
        yield 2

    gen = agent()
    next(gen)
    gen.close()
    span = cap.span("invoke_agent agent")
    assert span.status.status_code is not StatusCode.ERROR


def test_generator_throw_reaches_the_agent(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    def agent() -> Generator[int | str, None, None]:
        try:
            yield 1
        except KeyError:
            yield "recovered"

    gen = agent()
    next(gen)
    assert gen.throw(KeyError("k")) == "recovered"
    gen.close()


def test_async_generator(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    async def agent() -> AsyncIterator[int]:
        for i in range(3):
            await asyncio.sleep(0)
            assert ag.current_run() is not None
            yield i

    async def consume() -> list[int]:
        return [i async for i in agent()]

    assert asyncio.run(consume()) == [0, 1, 2]
    assert inspect.isasyncgenfunction(agent)
    assert len(cap.spans()) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_exceptions_propagate_unchanged_and_mark_the_span(cap: CapturingGuard, kind: str) -> None:
    class Boom(Exception):
        pass

    err = Boom("bad")
    if kind == "sync":

        @ag.guarded(guard=cap.guard)
        def agent() -> None:
            raise err

        with pytest.raises(Boom) as info:
            agent()
    else:

        @ag.guarded(guard=cap.guard)
        async def aagent() -> None:
            raise err

        with pytest.raises(Boom) as info:
            asyncio.run(aagent())
    assert info.value is err
    span = cap.spans()[0]
    assert span.status.status_code is StatusCode.ERROR
    assert str(dict(span.attributes or {})[sc.ERROR_TYPE]).endswith("Boom")
    assert [e.name for e in span.events] == ["exception"]


def test_run_totals_on_root_span(cap: CapturingGuard) -> None:
    @ag.tool(kind="shell")
    def run_cmd(command: str) -> str:
        return "ok"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        run = ag.current_run()
        assert run is not None
        run.record_llm_call(input_tokens=10, output_tokens=5, cost_usd=0.25, refusal=True)
        run.record_llm_call(input_tokens=1, output_tokens=2, cost_usd=None)
        run_cmd("ls")
        run_cmd(command="pwd")

    agent()
    attrs = dict(cap.span("invoke_agent agent").attributes or {})
    assert attrs[sc.RUN_INPUT_TOKENS] == 11
    assert attrs[sc.RUN_OUTPUT_TOKENS] == 7
    assert attrs[sc.RUN_LLM_CALLS] == 2
    assert attrs[sc.RUN_TOOL_CALLS] == 2
    assert attrs[sc.RUN_REFUSALS] == 1
    assert attrs[sc.RUN_COST_USD] == pytest.approx(0.25)


def test_unknown_cost_gives_no_run_cost_attribute(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        run = ag.current_run()
        assert run is not None
        run.record_llm_call(input_tokens=10, output_tokens=5, cost_usd=None)

    agent()
    assert sc.RUN_COST_USD not in dict(cap.spans()[0].attributes or {})


def test_threads_and_executors_started_inside_belong_to_the_run(cap: CapturingGuard) -> None:
    seen: list[str | None] = []

    def worker() -> None:
        run = ag.current_run()
        seen.append(run.run_id if run else None)

    @ag.guarded(guard=cap.guard)
    def agent() -> str:
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda _: worker(), range(3)))
        run = ag.current_run()
        assert run is not None
        return run.run_id

    run_id = agent()
    assert seen == [run_id] * 4


def test_concurrent_runs_never_mix(cap: CapturingGuard) -> None:
    @ag.tool(kind="other")
    def step(i: int) -> int:
        return i

    @ag.guarded(guard=cap.guard)
    async def agent(n: int) -> tuple[str, int]:
        for i in range(n):
            await asyncio.sleep(0)
            step(i)
        run = ag.current_run()
        assert run is not None
        return run.run_id, run.tool_calls

    async def main() -> tuple[tuple[str, int], ...]:
        return await asyncio.gather(agent(3), agent(5), agent(7))

    results = asyncio.run(main())
    assert [n for _, n in results] == [3, 5, 7]
    roots = {s.context.span_id: s for s in cap.spans() if s.name.startswith("invoke_agent")}
    for tool_span in (s for s in cap.spans() if s.name.startswith("execute_tool")):
        assert tool_span.parent is not None
        assert tool_span.parent.span_id in roots


def test_run_metrics_are_recorded_even_when_sampled_out(cap_unsampled: CapturingGuard) -> None:
    @ag.guarded(guard=cap_unsampled.guard)
    def agent() -> None:
        return None

    agent()
    agent()
    assert cap_unsampled.spans() == []
    runs = cap_unsampled.metrics()[sc.METRIC_RUNS]
    assert sum(v for _, v in runs) == 2
    assert runs[0][0] == {sc.GEN_AI_AGENT_NAME: "agent", sc.LABEL_OUTCOME: "ok"}


def test_nested_runs_link_to_their_parent(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard, name="child")
    def child() -> ag.RunState | None:
        return ag.current_run()

    @ag.guarded(guard=cap.guard, name="parent")
    def parent() -> tuple[ag.RunState | None, ag.RunState | None]:
        return ag.current_run(), child()

    outer, inner = parent()
    assert inner is not None and outer is not None
    assert inner.parent is outer
    assert cap.span("invoke_agent child").parent.span_id == cap.span("invoke_agent parent").context.span_id  # type: ignore[union-attr]


def test_a_broken_tracer_never_breaks_the_agent(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenTracer:
        def start_span(self, *a: object, **k: object) -> object:
            raise RuntimeError("exporter bug")

    guard = ag.Guard()
    guard.tracer = BrokenTracer()  # type: ignore[assignment]

    @ag.guarded(guard=guard)
    def agent() -> int:
        return 42

    with caplog.at_level("WARNING", logger="agentguard"):
        assert agent() == 42
        assert agent() == 42
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) <= 1
