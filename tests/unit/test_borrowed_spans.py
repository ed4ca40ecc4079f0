"""A model call another instrumentation already has a span for is recorded on that span: one span
per call, carrying our usage, cost and run id (OpenInference LLM spans, GenAI ``chat`` spans of other
tracers, OpenLLMetry's ``llm.request.type``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_openai_fakes import FakeServer, chat_completion

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


def _call(cap: CapturingGuard, foreign: dict[str, Any] | None, *, calls: int = 1) -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion())
    ag.instrument_openai(guard=cap.guard)
    client = server.client()
    other = cap.tracer_provider.get_tracer("another.instrumentation")

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        with other.start_as_current_span("their span", attributes=foreign or {}):
            for _ in range(calls):
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
                )

    agent()


@pytest.mark.parametrize(
    "foreign",
    [
        {"openinference.span.kind": "LLM"},
        {sc.GEN_AI_OPERATION_NAME: "chat", sc.GEN_AI_PROVIDER_NAME: "openai"},
        {sc.GEN_AI_OPERATION_NAME: "text_completion"},
        {"llm.request.type": "chat"},
        {"traceloop.span.kind": "llm"},
    ],
)
def test_a_foreign_llm_span_is_enriched_instead_of_a_second_span(
    cap: CapturingGuard, foreign: dict[str, Any]
) -> None:
    _call(cap, foreign)
    names = [s.name for s in cap.spans()]
    assert names.count("their span") == 1 and not [n for n in names if n.startswith("chat ")]
    a = dict(cap.span("their span").attributes or {})
    assert a[sc.BORROWED] is True
    assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12 and sc.COST_USD in a
    assert a[sc.RUN_ID] == dict(cap.span("invoke_agent agent").attributes or {})[sc.RUN_ID]
    assert cap.span("their span").end_time is not None  # ended once, by its owner
    run = dict(cap.span("invoke_agent agent").attributes or {})
    assert run[sc.RUN_LLM_CALLS] == 1 and run[sc.RUN_INPUT_TOKENS] == 12


@pytest.mark.parametrize(
    "foreign",
    [
        None,
        {"openinference.span.kind": "CHAIN"},
        {sc.GEN_AI_OPERATION_NAME: "execute_tool"},
        {"llm.request.type": 3},
    ],
)
def test_any_other_current_span_gets_a_child_span_of_ours(
    cap: CapturingGuard, foreign: dict[str, Any] | None
) -> None:
    _call(cap, foreign)
    chat = cap.span("chat gpt-4o-mini")
    assert chat.parent is not None and chat.parent.span_id == cap.span("their span").context.span_id
    assert sc.BORROWED not in dict(cap.span("their span").attributes or {})


def test_a_foreign_span_is_borrowed_once_and_later_calls_under_it_get_their_own(cap: CapturingGuard) -> None:
    _call(cap, {"openinference.span.kind": "LLM"}, calls=3)
    assert len([s for s in cap.spans() if s.name == "chat gpt-4o-mini"]) == 2
    run = dict(cap.span("invoke_agent agent").attributes or {})
    assert run[sc.RUN_LLM_CALLS] == 3 and run[sc.RUN_INPUT_TOKENS] == 36


def test_our_own_spans_are_never_borrowed(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion())
    ag.instrument_openai(guard=cap.guard)
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        with cap.guard.tracer.start_as_current_span("ours", attributes={sc.GEN_AI_OPERATION_NAME: "chat"}):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    agent()
    assert cap.span("chat gpt-4o-mini").parent is not None
