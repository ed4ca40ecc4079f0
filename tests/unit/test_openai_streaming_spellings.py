"""Every way the SDK streams a body settles the call: usage, cost, tool-call ids and the budget.

``with_streaming_response`` and ``with_raw_response`` hand back the HTTP response before its body is
read; the call is finished when the user parses it (a stream is then read chunk by chunk) or closes
it, never at the headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from openai.types.chat import ChatCompletionMessageParam
from test_openai_fakes import (
    FakeServer,
    chunk,
    response_events,
    response_obj,
    sse,
    text_chunks,
    tool_call,
)

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Count to three"}]


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


def chat_server() -> FakeServer:
    server = FakeServer()
    server.stream("/chat/completions", sse(text_chunks("one ", "two ", "three")))
    return server


def responses_server() -> FakeServer:
    server = FakeServer()
    server.stream("/responses", sse(response_events(response_obj(), "Par", "is."), named=True, done=False))
    return server


def only_chat_attrs(cap: CapturingGuard) -> dict[str, Any]:
    (span,) = [s for s in cap.spans() if s.name.startswith("chat")]
    return dict(span.attributes or {})


def test_chat_with_streaming_response_and_stream_true(cap: CapturingGuard) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = chat_server().client()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=USER, stream=True
    ) as response:
        assert not cap.spans()  # headers only: nothing is finished yet
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    assert text == "one two three"
    attrs = only_chat_attrs(cap)
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert attrs[sc.GEN_AI_RESPONSE_MODEL]


def test_chat_with_raw_response_and_stream_true(cap: CapturingGuard) -> None:
    ag.instrument_openai(guard=cap.guard)
    raw = (
        chat_server()
        .client()
        .chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER, stream=True)
    )
    for _ in raw.parse():
        pass
    assert only_chat_attrs(cap)[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0


def test_responses_with_streaming_response_and_stream_true(cap: CapturingGuard) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = responses_server().client()
    with client.responses.with_streaming_response.create(
        model="gpt-4.1", input="Capital?", stream=True
    ) as response:
        deltas = [e.delta for e in response.parse() if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "Paris."
    attrs = only_chat_attrs(cap)
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 8
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "resp_123"


def test_async_responses_with_streaming_response(cap: CapturingGuard) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = responses_server().async_client()

    async def main() -> str:
        async with client.responses.with_streaming_response.create(
            model="gpt-4.1", input="Capital?", stream=True
        ) as response:
            stream = await response.parse()
            return "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])

    assert asyncio.run(main()) == "Paris."
    assert only_chat_attrs(cap)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 8


def test_a_streamed_tool_call_id_reaches_the_tool_span(cap: CapturingGuard) -> None:
    server = FakeServer()
    call = tool_call("run", "call_7", '{"command": "ls"}')
    server.stream(
        "/chat/completions",
        sse(
            [
                chunk(tool_calls=[{"index": 0, **call}]),
                chunk(finish_reason="tool_calls"),
                chunk(usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}, choices=False),
            ]
        ),
    )
    ag.instrument_openai(guard=cap.guard)

    @ag.tool(kind="shell")
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        with server.client().chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=USER, stream=True
        ) as response:
            for _ in response.parse():
                pass
        run("ls")

    agent()
    tool = cap.span("execute_tool run")
    assert dict(tool.attributes or {})[sc.GEN_AI_TOOL_CALL_ID] == "call_7"


def test_a_budget_reservation_is_settled_by_a_streamed_call(cap: CapturingGuard) -> None:
    server = chat_server()
    policy = ag.Policy(rules=[ag.rules.budget(tokens=10_000, estimate_tokens=500)])
    ag.instrument_openai(guard=cap.guard)

    @ag.guarded(guard=cap.guard, policy=policy)
    def agent() -> tuple[int, int]:
        with server.client().chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=USER, stream=True
        ) as response:
            for _ in response.parse():
                pass
        run = ag.current_run()
        assert run is not None
        return run.budget.reserved_tokens, run.budget.spent_tokens

    reserved, spent = agent()
    assert reserved == 0  # settled, not left outstanding
    assert 0 < spent < 500  # the real usage, not the estimate


def test_closing_an_unparsed_streaming_response_finishes_the_call(cap: CapturingGuard) -> None:
    ag.instrument_openai(guard=cap.guard)
    with (
        chat_server()
        .client()
        .chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=USER, stream=True
        ) as response
    ):
        next(response.iter_lines())
    attrs = only_chat_attrs(cap)
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
