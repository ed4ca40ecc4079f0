"""A guarded agent loop on the real ``openai`` SDK against the local llama.cpp server (SmolLM2-135M).

The loop is what a user writes: chat calls (plain, with tools, streaming, async), running the tools the
model asked for, feeding the results back. The model's answers are poor, so the tests assert on the
trace's structure (span tree, usage, tool-call links, run totals), never on wording. Forcing the tool
with ``tool_choice`` makes the server constrain the output to the tool's schema, so tool calls are
reliable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from harness import LLMServer
from openai import AsyncOpenAI, OpenAI
from opentelemetry.sdk.trace import ReadableSpan

import agentguard
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

pytestmark = pytest.mark.components


@agentguard.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@agentguard.tool(kind="network", name="stock_level")
async def stock_level(item: int) -> str:
    """How many of an item are in stock (integer arguments: the model's strings ramble)."""
    await asyncio.sleep(0)
    return f"{item * 7} in stock"


def function_tool(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": list(properties)},
        },
    }


ADD = function_tool("add", "Add two integers.", {"a": {"type": "integer"}, "b": {"type": "integer"}})
STOCK_LEVEL = function_tool("stock_level", "How many of an item are in stock.", {"item": {"type": "integer"}})
SYNC_TOOLS: dict[str, Callable[..., Any]] = {"add": add}
ASYNC_TOOLS: dict[str, Callable[..., Awaitable[Any]]] = {"stock_level": stock_level}


def force(name: str) -> dict[str, Any]:
    """``tool_choice`` that makes the server answer with a call of ``name``."""
    return {"type": "function", "function": {"name": name}}


def assistant_turn(message: Any) -> dict[str, Any]:
    """The assistant message to send back. ``content`` must be ``""``, not ``None``, beside tool calls:
    llama-cpp-python answers ``None`` with HTTP 500."""
    turn: dict[str, Any] = {"role": "assistant", "content": message.content or ""}
    if message.tool_calls:
        turn["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in message.tool_calls
        ]
    return turn


# --- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture
def client(llm_server: LLMServer, instrumented_openai: None) -> Iterator[OpenAI]:
    with OpenAI(base_url=llm_server.base_url, api_key="local", max_retries=0, timeout=120) as c:
        yield c


@pytest.fixture
def aclient(llm_server: LLMServer, instrumented_openai: None) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=llm_server.base_url, api_key="local", max_retries=0, timeout=120)


# --- span helpers --------------------------------------------------------------------------------------
def by_operation(cap: CapturingGuard, operation: str) -> list[ReadableSpan]:
    return [s for s in cap.spans() if (s.attributes or {}).get(sc.GEN_AI_OPERATION_NAME) == operation]


def root_of(cap: CapturingGuard) -> ReadableSpan:
    (root,) = by_operation(cap, sc.OP_INVOKE_AGENT)
    assert root.parent is None
    return root


def assert_child_of(span: ReadableSpan, parent: ReadableSpan) -> None:
    assert span.parent is not None, f"{span.name} has no parent"
    assert span.parent.span_id == parent.context.span_id, f"{span.name} is not a child of {parent.name}"
    assert span.context.trace_id == parent.context.trace_id


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def requested_calls(span: ReadableSpan) -> list[tuple[str, str]]:
    """(tool name, call id) of every tool call the model requested, from the chat span's events."""
    return [
        (str(e.attributes[sc.GEN_AI_TOOL_NAME]), str(e.attributes[sc.GEN_AI_TOOL_CALL_ID]))
        for e in span.events
        if e.name == sc.EVENT_TOOL_CALL and e.attributes
    ]


def assert_chat_span(span: ReadableSpan, model: str, *, usage: bool = True) -> None:
    a = attrs(span)
    assert span.name == f"chat {model}"
    assert a[sc.GEN_AI_OPERATION_NAME] == sc.OP_CHAT
    assert a[sc.GEN_AI_REQUEST_MODEL] == model
    assert a[sc.GEN_AI_RESPONSE_MODEL] == model
    assert str(a[sc.GEN_AI_RESPONSE_ID]).startswith("chatcmpl-")
    assert a[sc.GEN_AI_PROVIDER_NAME]
    assert a[sc.SERVER_ADDRESS] == "127.0.0.1"
    assert len(a[sc.GEN_AI_RESPONSE_FINISH_REASONS]) == 1
    if usage:
        assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0
        assert a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert sc.ERROR_TYPE not in a


def assert_linked(chat: ReadableSpan, tool_span: ReadableSpan, tool_name: str) -> None:
    """The execute_tool span carries the id of the tool call the chat span recorded."""
    calls = requested_calls(chat)
    assert [name for name, _ in calls] == [tool_name]
    assert attrs(tool_span)[sc.GEN_AI_TOOL_CALL_ID] == calls[0][1]


# --- tests -------------------------------------------------------------------------------------------
def test_plain_chat_is_a_child_of_the_run_with_usage_and_totals(
    cap: CapturingGuard, client: OpenAI, llm_server: LLMServer
) -> None:
    @agentguard.guarded(guard=cap.guard, task="say hello")
    def agent() -> str:
        r = client.chat.completions.create(
            model=llm_server.model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16
        )
        return r.choices[0].message.content or ""

    agent()

    root = root_of(cap)
    (chat,) = by_operation(cap, sc.OP_CHAT)
    assert root.name == "invoke_agent agent"
    assert_child_of(chat, root)
    assert_chat_span(chat, llm_server.model)
    assert attrs(chat)[sc.GEN_AI_REQUEST_MAX_TOKENS] == 16
    r = attrs(root)
    assert r[sc.TASK] == "say hello"
    assert r[sc.RUN_LLM_CALLS] == 1
    assert r[sc.RUN_TOOL_CALLS] == 0
    assert r[sc.RUN_INPUT_TOKENS] == attrs(chat)[sc.GEN_AI_USAGE_INPUT_TOKENS]
    assert r[sc.RUN_OUTPUT_TOKENS] == attrs(chat)[sc.GEN_AI_USAGE_OUTPUT_TOKENS]


def test_agent_loop_runs_requested_tools_and_links_them_to_the_chat(
    cap: CapturingGuard, client: OpenAI, llm_server: LLMServer
) -> None:
    results: list[Any] = []

    @agentguard.guarded(guard=cap.guard, task="add two numbers")
    def agent(goal: str) -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": goal}]
        tool_choice: Any = force("add")
        for _ in range(3):
            r = client.chat.completions.create(
                model=llm_server.model, messages=messages, tools=[ADD], tool_choice=tool_choice, max_tokens=48
            )
            message = r.choices[0].message
            if not message.tool_calls:
                return message.content or ""
            messages.append(assistant_turn(message))
            for call in message.tool_calls:
                result = SYNC_TOOLS[call.function.name](**json.loads(call.function.arguments))
                results.append(result)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": str(result)})
            tool_choice = "none"  # now answer in words
        raise AssertionError("the loop did not finish")

    agent("What is 2 + 3? Use the add tool.")

    assert len(results) == 1 and isinstance(results[0], int)
    root = root_of(cap)
    chats = sorted(by_operation(cap, sc.OP_CHAT), key=lambda s: s.start_time or 0)
    (tool_span,) = by_operation(cap, sc.OP_EXECUTE_TOOL)
    assert len(chats) == 2
    for chat in chats:
        assert_child_of(chat, root)
        assert_chat_span(chat, llm_server.model)
    assert attrs(chats[0])[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert requested_calls(chats[1]) == []

    assert tool_span.name == "execute_tool add"
    assert_child_of(tool_span, root)
    assert attrs(tool_span)[sc.GEN_AI_TOOL_NAME] == "add"
    assert attrs(tool_span)[sc.TOOL_KIND] == "other"
    assert_linked(chats[0], tool_span, "add")
    assert chats[0].end_time is not None and tool_span.start_time is not None
    assert chats[0].end_time <= tool_span.start_time <= (chats[1].start_time or 0)

    r = attrs(root)
    assert r[sc.RUN_LLM_CALLS] == 2
    assert r[sc.RUN_TOOL_CALLS] == 1
    assert r[sc.RUN_INPUT_TOKENS] == sum(attrs(c)[sc.GEN_AI_USAGE_INPUT_TOKENS] for c in chats)
    assert r[sc.RUN_OUTPUT_TOKENS] == sum(attrs(c)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] for c in chats)


def test_streamed_tool_call_span_ends_with_the_stream_and_links_the_tool(
    cap: CapturingGuard, client: OpenAI, llm_server: LLMServer
) -> None:
    @agentguard.guarded(guard=cap.guard)
    def agent() -> int:
        stream = client.chat.completions.create(
            model=llm_server.model,
            messages=[{"role": "user", "content": "What is 4 + 5? Use the add tool."}],
            tools=[ADD],
            tool_choice=force("add"),
            max_tokens=48,
            stream=True,
            stream_options={"include_usage": True},  # the local server ignores it: no usage chunk
        )
        ids: dict[int, str] = {}
        arguments: dict[int, str] = {}
        with stream:
            for chunk in stream:
                for choice in chunk.choices:
                    for delta in choice.delta.tool_calls or ():
                        if delta.id:
                            ids[delta.index] = delta.id
                        arguments[delta.index] = arguments.get(delta.index, "") + (
                            delta.function.arguments if delta.function and delta.function.arguments else ""
                        )
            assert by_operation(cap, sc.OP_CHAT) != [], "the chat span ends when the stream is exhausted"
        assert list(ids) == [0]
        return int(add(**json.loads(arguments[0])))

    agent()

    root = root_of(cap)
    (chat,) = by_operation(cap, sc.OP_CHAT)
    (tool_span,) = by_operation(cap, sc.OP_EXECUTE_TOOL)
    assert_child_of(chat, root)
    assert_child_of(tool_span, root)
    assert_chat_span(chat, llm_server.model, usage=False)
    assert attrs(chat)[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert_linked(chat, tool_span, "add")
    assert attrs(root)[sc.RUN_LLM_CALLS] == 1
    assert attrs(root)[sc.RUN_TOOL_CALLS] == 1


def test_streamed_text_span_covers_the_whole_stream(
    cap: CapturingGuard, client: OpenAI, llm_server: LLMServer
) -> None:
    @agentguard.guarded(guard=cap.guard)
    def agent() -> str:
        stream = client.chat.completions.create(
            model=llm_server.model,
            messages=[{"role": "user", "content": "Count from one to five."}],
            max_tokens=24,
            stream=True,
        )
        text = []
        for chunk in stream:
            assert by_operation(cap, sc.OP_CHAT) == [], "the span stays open while chunks arrive"
            text.extend(c.delta.content or "" for c in chunk.choices)
        return "".join(text)

    assert agent()
    (chat,) = by_operation(cap, sc.OP_CHAT)
    assert_child_of(chat, root_of(cap))
    assert_chat_span(chat, llm_server.model, usage=False)


@pytest.mark.asyncio
async def test_async_agent_with_async_tool_and_async_stream(
    cap: CapturingGuard, aclient: AsyncOpenAI, llm_server: LLMServer
) -> None:
    @agentguard.guarded(guard=cap.guard, name="reader")
    async def agent() -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": "How many of item 42 are in stock?"}]
        r = await aclient.chat.completions.create(
            model=llm_server.model,
            messages=messages,
            tools=[STOCK_LEVEL],
            tool_choice=force("stock_level"),
            max_tokens=48,
        )
        message = r.choices[0].message
        assert message.tool_calls
        messages.append(assistant_turn(message))
        for call in message.tool_calls:
            result = await ASYNC_TOOLS[call.function.name](**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        stream = await aclient.chat.completions.create(
            model=llm_server.model, messages=messages, max_tokens=24, stream=True
        )
        return "".join([c.delta.content or "" async for chunk in stream for c in chunk.choices])

    await agent()
    await aclient.close()

    root = root_of(cap)
    assert root.name == "invoke_agent reader"
    chats = sorted(by_operation(cap, sc.OP_CHAT), key=lambda s: s.start_time or 0)
    (tool_span,) = by_operation(cap, sc.OP_EXECUTE_TOOL)
    assert len(chats) == 2
    for chat in chats:
        assert_child_of(chat, root)
    assert_chat_span(chats[0], llm_server.model)
    assert_chat_span(chats[1], llm_server.model, usage=False)
    assert tool_span.name == "execute_tool stock_level"
    assert attrs(tool_span)[sc.TOOL_KIND] == "network"
    assert_child_of(tool_span, root)
    assert_linked(chats[0], tool_span, "stock_level")
    assert attrs(root)[sc.RUN_LLM_CALLS] == 2
    assert attrs(root)[sc.RUN_TOOL_CALLS] == 1


def test_concurrent_runs_in_threads_do_not_mix(
    cap: CapturingGuard, client: OpenAI, llm_server: LLMServer
) -> None:
    """Two runs in two threads against the one server: each chat span lands in its own run's trace."""
    from concurrent.futures import ThreadPoolExecutor

    @agentguard.guarded(guard=cap.guard)
    def agent(word: str) -> str:
        r = client.chat.completions.create(
            model=llm_server.model, messages=[{"role": "user", "content": f"Say {word}."}], max_tokens=8
        )
        return r.choices[0].message.content or ""

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(agent, ["one", "two"]))

    roots = by_operation(cap, sc.OP_INVOKE_AGENT)
    chats = by_operation(cap, sc.OP_CHAT)
    assert len(roots) == 2 and len(chats) == 2
    for root in roots:
        mine = [c for c in chats if c.parent is not None and c.parent.span_id == root.context.span_id]
        assert len(mine) == 1
        assert attrs(root)[sc.RUN_LLM_CALLS] == 1
        assert attrs(root)[sc.RUN_INPUT_TOKENS] == attrs(mine[0])[sc.GEN_AI_USAGE_INPUT_TOKENS]
