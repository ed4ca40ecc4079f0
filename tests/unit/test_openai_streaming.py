"""Streamed Chat Completions: the span ends exactly once, however the stream ends."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.trace import StatusCode
from test_openai_fakes import FakeServer, chunk, sse, text_chunks

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Count to three"}]
CHAT = "chat gpt-4o-mini"


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


@pytest.fixture
def server() -> FakeServer:
    s = FakeServer()
    s.stream("/chat/completions", sse(text_chunks("one ", "two ", "three")))
    return s


def chat_spans(cap: CapturingGuard) -> list[str]:
    return [s.name for s in cap.spans() if s.name.startswith("chat")]


def test_exhausted_stream_ends_the_span_with_usage(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    assert cap.spans() == []  # not before the stream is read
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "one two three"
    attrs = dict(cap.span(CHAT).attributes or {})
    assert attrs[sc.GEN_AI_REQUEST_STREAM] is True
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-stream1"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 9
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 4
    stream.close()  # closing after exhaustion does not end it twice
    assert len(cap.spans()) == 1


def test_stream_without_usage_has_no_token_attributes(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/chat/completions", sse(text_chunks("hi", usage=False)))
    ag.instrument_openai(guard=cap.guard)
    for _ in server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
        pass
    attrs = dict(cap.span(CHAT).attributes or {})
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in attrs
    assert sc.METRIC_TOKEN_USAGE not in cap.metrics()


def test_closed_early_ends_the_span_once(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    next(stream)
    stream.close()
    stream.close()
    assert chat_spans(cap) == [CHAT]
    assert cap.span(CHAT).status.status_code != StatusCode.ERROR


def test_leaving_the_with_block_ends_the_span(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    with server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True) as stream:
        first = next(stream)
        assert first.id == "chatcmpl-stream1"
        assert cap.spans() == []
    assert chat_spans(cap) == [CHAT]


def test_garbage_collected_stream_ends_the_span(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert chat_spans(cap) == [CHAT]


def test_error_mid_stream_marks_the_span_and_propagates(cap: CapturingGuard) -> None:
    server = FakeServer()
    body = sse([chunk(content="par")], done=False) + (
        b"data: "
        + json.dumps({"error": {"message": "overloaded", "type": "server_error"}}).encode()
        + b"\n\n"
    )
    server.stream("/chat/completions", body)
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    with pytest.raises(openai.APIError, match="overloaded"):
        for _ in stream:
            pass
    span = cap.span(CHAT)
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "APIError"  # type: ignore[index]


def test_streamed_tool_call_deltas_are_assembled(cap: CapturingGuard) -> None:
    server = FakeServer()
    deltas = [
        chunk(tool_calls=[{"index": 0, "id": "call_1", "function": {"name": "add", "arguments": ""}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": '{"a": 1,'}}]),
        chunk(tool_calls=[{"index": 1, "id": "call_2", "function": {"name": "mul", "arguments": "{}"}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": ' "b": 2}'}}]),
        chunk(finish_reason="tool_calls"),
    ]  # fmt: skip
    server.stream("/chat/completions", sse(deltas))
    guard = CapturingGuard(capture_content=True)
    ag.instrument_openai()

    @ag.guarded(guard=guard.guard)
    def agent() -> ag.RunState:
        for _ in server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True):
            pass
        run = ag.current_run()
        assert run is not None
        return run

    run = agent()
    span = guard.span(CHAT)
    events = [dict(e.attributes or {}) for e in span.events if e.name == sc.EVENT_TOOL_CALL]
    assert [(e[sc.GEN_AI_TOOL_NAME], e[sc.GEN_AI_TOOL_CALL_ID]) for e in events] == [
        ("add", "call_1"),
        ("mul", "call_2"),
    ]
    assert events[0][sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"a": 1, "b": 2}'
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)  # type: ignore[index]
    assert run.take_tool_call_id("mul") == "call_2"


def test_streamed_refusal_is_an_api_refusal(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/chat/completions", sse([chunk(refusal="I can't"), chunk(finish_reason="stop")]))
    ag.instrument_openai(guard=cap.guard)
    list(server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    attrs = dict(cap.span(CHAT).attributes or {})
    assert (attrs[sc.REFUSAL], attrs[sc.REFUSAL_SOURCE]) == (True, "api")


def test_stream_helper_produces_one_span(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    with server.client().chat.completions.stream(model="gpt-4o-mini", messages=USER) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "one two three"
    assert chat_spans(cap) == [CHAT]
    assert cap.span(CHAT).attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 4  # type: ignore[index]


def test_stream_metrics_when_sampled_out(cap_unsampled: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap_unsampled.guard)
    list(server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert cap_unsampled.spans() == []
    tokens = {
        labels[sc.GEN_AI_TOKEN_TYPE]: total
        for labels, (_, total) in cap_unsampled.metrics()[sc.METRIC_TOKEN_USAGE]
    }
    assert tokens == {"input": 9, "output": 4}


def test_stream_chunk_fault_never_breaks_the_stream(
    cap: CapturingGuard, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentguard.instrumentation.openai import _chat

    def broken(self: object, item: object) -> None:
        raise RuntimeError("accumulator bug")

    monkeypatch.setattr(_chat.ChatStreamState, "add", broken)
    ag.instrument_openai(guard=cap.guard)
    stream = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "one two three"
    assert chat_spans(cap) == [CHAT]


# --- async ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_stream_exhausted_inside_a_run(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai()
    client = server.async_client()

    @ag.guarded(guard=cap.guard)
    async def agent() -> str:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert await agent() == "one two three"
    span = cap.span(CHAT)
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 9  # type: ignore[index]
    assert cap.span("invoke_agent agent").attributes[sc.RUN_INPUT_TOKENS] == 9  # type: ignore[index]


@pytest.mark.asyncio
async def test_async_stream_closed_early(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    stream = await server.async_client().chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True
    )
    await stream.__anext__()
    await stream.close()
    await stream.aclose()
    assert chat_spans(cap) == [CHAT]


@pytest.mark.asyncio
async def test_async_stream_context_manager(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = server.async_client()
    async with await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True
    ) as stream:
        async for _ in stream:
            break
        assert cap.spans() == []
    assert chat_spans(cap) == [CHAT]


@pytest.mark.asyncio
async def test_async_stream_error_mid_stream(cap: CapturingGuard) -> None:
    server = FakeServer()
    body = sse([chunk(content="x")], done=False) + b'data: {"error": {"message": "boom"}}\n\n'
    server.stream("/chat/completions", body)
    ag.instrument_openai(guard=cap.guard)
    stream = await server.async_client().chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True
    )
    with pytest.raises(openai.APIError, match="boom"):
        async for _ in stream:
            pass
    assert cap.span(CHAT).attributes[sc.ERROR_TYPE] == "APIError"  # type: ignore[index]


@pytest.mark.asyncio
async def test_async_stream_helper(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    async with server.async_client().chat.completions.stream(model="gpt-4o-mini", messages=USER) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "one two three"
    assert chat_spans(cap) == [CHAT]
