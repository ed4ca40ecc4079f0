"""The Responses API through the instrumented SDK: create, parse, streams, tool calls, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from test_openai_fakes import FakeServer, function_call_item, message_item, response_events, response_obj, sse

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

SPAN = "chat gpt-4.1"


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


def attrs_of(cap: CapturingGuard, name: str = SPAN) -> dict[str, Any]:
    return dict(cap.span(name).attributes or {})


def test_create_is_a_chat_span_with_usage(cap: CapturingGuard) -> None:
    server = FakeServer()
    usage = {
        "input_tokens": 2000,
        "output_tokens": 500,
        "total_tokens": 2500,
        "input_tokens_details": {"cached_tokens": 1024},
        "output_tokens_details": {"reasoning_tokens": 384},
    }
    server.json("/responses", response_obj(usage=usage))
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> str:
        return client.responses.create(
            model="gpt-4.1", input="Capital of France?", max_output_tokens=100, temperature=0
        ).output_text

    assert agent() == "Paris."
    attrs = attrs_of(cap)
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 100
    assert attrs[sc.GEN_AI_REQUEST_TEMPERATURE] == 0
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4.1-2025-04-14"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp_123"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 2000
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 500
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 384
    assert attrs[sc.REFUSAL] is False
    assert sc.RUN_ID in attrs


def test_function_calls_are_tool_calls_linked_to_tools(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json(
        "/responses", response_obj(output=[function_call_item("get_weather", "call_w1", '{"city": "Oslo"}')])
    )
    ag.instrument_openai()
    client = server.client()

    @ag.tool
    def get_weather(city: str) -> str:
        return "rain"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        reply = client.responses.create(model="gpt-4.1", input="Weather in Oslo?")
        for item in reply.output:
            if item.type == "function_call":
                get_weather(city="Oslo")

    agent()
    span = cap.span(SPAN)
    [event] = [e for e in span.events if e.name == sc.EVENT_TOOL_CALL]
    assert dict(event.attributes or {}) == {
        sc.GEN_AI_TOOL_NAME: "get_weather",
        sc.GEN_AI_TOOL_CALL_ID: "call_w1",
    }
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)  # type: ignore[index]
    assert cap.span("execute_tool get_weather").attributes[sc.GEN_AI_TOOL_CALL_ID] == "call_w1"  # type: ignore[index]


@pytest.mark.parametrize(
    ("response", "source", "finish"),
    [
        pytest.param(
            response_obj(output=[message_item(refusal="I can't help with that.")]),
            "api",
            "stop",
            id="refusal-part",
        ),
        pytest.param(
            response_obj(output=[], status="incomplete", incomplete_reason="content_filter"),
            "content_filter",
            "content_filter",
            id="incomplete-content-filter",
        ),
    ],
)
def test_refusals(cap: CapturingGuard, response: dict[str, Any], source: str, finish: str) -> None:
    server = FakeServer()
    server.json("/responses", response)
    ag.instrument_openai(guard=cap.guard)
    server.client().responses.create(model="gpt-4.1", input="...")
    attrs = attrs_of(cap)
    assert (attrs[sc.REFUSAL], attrs[sc.REFUSAL_SOURCE]) == (True, source)
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == (finish,)
    [(labels, count)] = cap.metrics()[sc.METRIC_REFUSALS]
    assert (labels[sc.REFUSAL_SOURCE], count) == (source, 1)


def test_incomplete_for_length_is_not_a_refusal(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj(status="incomplete", incomplete_reason="max_output_tokens"))
    ag.instrument_openai(guard=cap.guard)
    server.client().responses.create(model="gpt-4.1", input="...")
    attrs = attrs_of(cap)
    assert attrs[sc.REFUSAL] is False
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)


def test_parse_with_text_format(cap: CapturingGuard) -> None:
    class City(BaseModel):
        name: str

    server = FakeServer()
    server.json("/responses", response_obj(output=[message_item('{"name": "Paris"}')]))
    ag.instrument_openai(guard=cap.guard)
    parsed = server.client().responses.parse(model="gpt-4.1", input="Capital?", text_format=City)
    assert parsed.output_parsed == City(name="Paris")
    assert attrs_of(cap)[sc.GEN_AI_USAGE_INPUT_TOKENS] == 20


def test_stream_takes_the_completed_response(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/responses", sse(response_events(response_obj(), "Par", "is."), named=True, done=False))
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().responses.create(model="gpt-4.1", input="Capital?", stream=True)
    deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "Paris."
    attrs = attrs_of(cap)
    assert attrs[sc.GEN_AI_REQUEST_STREAM] is True
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 8
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_stream_closed_before_completion_keeps_model_and_id(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/responses", sse(response_events(response_obj(), "Par", "is."), named=True, done=False))
    ag.instrument_openai(guard=cap.guard)
    with server.client().responses.create(model="gpt-4.1", input="Capital?", stream=True) as stream:
        next(stream)
    attrs = attrs_of(cap)
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp_123"
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs


def test_stream_helper_produces_one_span(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/responses", sse(response_events(response_obj(), "Par", "is."), named=True, done=False))
    ag.instrument_openai(guard=cap.guard)
    with server.client().responses.stream(model="gpt-4.1", input="Capital?") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Paris."
    assert [s.name for s in cap.spans()] == [SPAN]
    assert attrs_of(cap)[sc.GEN_AI_USAGE_INPUT_TOKENS] == 20


@pytest.mark.asyncio
async def test_async_create_and_stream(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj())
    ag.instrument_openai(guard=cap.guard)
    client = server.async_client()
    reply = await client.responses.create(model="gpt-4.1", input="Capital?")
    assert reply.output_text == "Paris."
    server.replies["/responses"] = []
    server.stream("/responses", sse(response_events(response_obj(), "Par", "is."), named=True, done=False))
    stream = await client.responses.create(model="gpt-4.1", input="Capital?", stream=True)
    async for _ in stream:
        pass
    spans = cap.spans()
    assert [s.name for s in spans] == [SPAN, SPAN]
    assert [(s.attributes or {}).get(sc.GEN_AI_REQUEST_STREAM) for s in spans] == [None, True]
    assert all((s.attributes or {})[sc.GEN_AI_USAGE_INPUT_TOKENS] == 20 for s in spans)


@pytest.mark.asyncio
async def test_async_parse(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj())
    ag.instrument_openai(guard=cap.guard)
    parsed = await server.async_client().responses.parse(model="gpt-4.1", input="Capital?")
    assert parsed.output_text == "Paris."
    assert attrs_of(cap)[sc.GEN_AI_RESPONSE_ID] == "resp_123"


def test_captured_content_has_instructions_input_and_output() -> None:
    cap = CapturingGuard(capture_content=True)
    server = FakeServer()
    server.json("/responses", response_obj())
    ag.instrument_openai(guard=cap.guard)
    server.client().responses.create(model="gpt-4.1", input="Capital of France?", instructions="Be brief.")
    attrs = attrs_of(cap)
    assert "Be brief." in attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS]
    assert "Capital of France?" in attrs[sc.GEN_AI_INPUT_MESSAGES]
    assert "Paris." in attrs[sc.GEN_AI_OUTPUT_MESSAGES]


def test_responses_with_raw_response(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj())
    ag.instrument_openai(guard=cap.guard)
    raw = server.client().responses.with_raw_response.create(model="gpt-4.1", input="Capital?")
    assert raw.parse().output_text == "Paris."
    assert attrs_of(cap)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 8


def test_denied_responses_call(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj())
    guard = CapturingGuard(policy=_DenyAll())
    ag.instrument_openai(guard=guard.guard)
    with pytest.raises(ag.Denied, match=r"openai\.responses"):
        server.client().responses.create(model="gpt-4.1", input="Capital?")
    assert server.requests == []


class _DenyAll:
    def check(self, action: ag.Action, run: ag.RunState | None = None) -> ag.Decision:
        return ag.Decision.deny("no", rule_id="deny-all")
