# ruff: noqa: E501 - message literals read best one message per line
"""Our own telemetry in the current GenAI conventions: what a GenAI backend reads off our spans,
metrics and log records, through the real ``openai`` SDK (transport answered in process)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_openai_fakes import FakeServer, chat_completion, response_obj, sse, text_chunks, tool_call

import agentguard as ag
from agentguard.telemetry import chat_input, responses_input, tool_arguments
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


@pytest.fixture
def capc() -> Iterator[CapturingGuard]:
    c = CapturingGuard(capture_content=True)
    yield c
    c.shutdown()


def _attrs(cap: CapturingGuard, name: str) -> dict[str, Any]:
    return dict(cap.span(name).attributes or {})


def _assert_messages(text: str) -> list[dict[str, Any]]:
    """``text`` is a list of ``{"role", "parts": [{"type", ...}]}`` messages."""
    messages = json.loads(text)
    assert isinstance(messages, list)
    for m in messages:
        assert isinstance(m["role"], str) and m["role"]
        assert isinstance(m["parts"], list)
        for part in m["parts"]:
            assert isinstance(part["type"], str) and part["type"]
        assert "content" not in m
    return messages


# -- the agent span --------------------------------------------------------------------------------
def test_agent_span_names_the_provider_of_its_llm_calls_and_no_invented_conversation(
    capc: CapturingGuard,
) -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion())
    ag.instrument_openai(guard=capc.guard)
    client = server.client()

    @ag.guarded(guard=capc.guard)
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    agent()
    run = _attrs(capc, "invoke_agent agent")
    chat = _attrs(capc, "chat gpt-4o-mini")
    assert run[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert sc.GEN_AI_CONVERSATION_ID not in run and sc.GEN_AI_CONVERSATION_ID not in chat
    assert run[sc.RUN_ID] == chat[sc.RUN_ID]


def test_agent_span_without_llm_calls_names_no_provider(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard)
    def agent() -> int:
        return 1

    agent()
    assert sc.GEN_AI_PROVIDER_NAME not in _attrs(cap, "invoke_agent agent")


def test_a_named_conversation_is_on_every_span_and_nested_runs_inherit_it(cap: CapturingGuard) -> None:
    @ag.guarded(guard=cap.guard, name="inner")
    def inner() -> None:
        return None

    @ag.guarded(guard=cap.guard, name="outer", conversation_id="thread-7")
    def outer() -> None:
        inner()

    outer()
    assert _attrs(cap, "invoke_agent outer")[sc.GEN_AI_CONVERSATION_ID] == "thread-7"
    assert _attrs(cap, "invoke_agent inner")[sc.GEN_AI_CONVERSATION_ID] == "thread-7"
    assert _attrs(cap, "invoke_agent inner")[sc.RUN_ID] != _attrs(cap, "invoke_agent outer")[sc.RUN_ID]


# -- messages ---------------------------------------------------------------------------------------
def test_chat_messages_are_in_the_role_parts_schema_with_tool_arguments_as_objects(
    capc: CapturingGuard,
) -> None:
    server = FakeServer()
    server.json(
        "/chat/completions",
        chat_completion(
            tool_calls=[
                tool_call("edit", "c2", '{"path": "a.py", "n": 2}'),
                tool_call("raw", "c3", "not json"),
            ]
        ),
    )
    ag.instrument_openai(guard=capc.guard)
    client = server.client()
    messages: list[Any] = [
        {"role": "developer", "content": [{"type": "text", "text": "be brief"}]},
        {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "ls", "arguments": '{"path": "."}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
    ]  # fmt: skip
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    attrs = _attrs(capc, "chat gpt-4o-mini")
    assert json.loads(attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "be brief"}]
    user, assistant, tool = _assert_messages(attrs[sc.GEN_AI_INPUT_MESSAGES])
    assert user["parts"] == [
        {"type": "text", "content": "look"},
        {"type": "uri", "modality": "image", "uri": "https://x.test/a.png"},
    ]
    assert assistant == {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": "ls", "arguments": {"path": "."}}],
    }
    assert tool == {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "a.py"}]}
    (out,) = _assert_messages(attrs[sc.GEN_AI_OUTPUT_MESSAGES])
    calls = [p for p in out["parts"] if p["type"] == "tool_call"]
    assert calls[0]["arguments"] == {"path": "a.py", "n": 2}
    assert calls[1]["arguments"] == "not json"  # free text stays text


def test_responses_input_items_are_in_the_role_parts_schema(capc: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/responses", response_obj())
    ag.instrument_openai(guard=capc.guard)
    items: list[Any] = [
        {"role": "system", "content": "from the input"},
        {"role": "user", "content": [{"type": "input_text", "text": "run it"}]},
        {"type": "function_call", "call_id": "f1", "name": "sh", "arguments": '{"cmd": "ls"}'},
        {"type": "function_call_output", "call_id": "f1", "output": "a.py"},
    ]
    server.client().responses.create(model="gpt-4.1", input=items, instructions="be brief")
    attrs = _attrs(capc, "chat gpt-4.1")
    assert json.loads(attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS]) == [
        {"type": "text", "content": "be brief"},
        {"type": "text", "content": "from the input"},
    ]
    user, call, result = _assert_messages(attrs[sc.GEN_AI_INPUT_MESSAGES])
    assert user == {"role": "user", "parts": [{"type": "text", "content": "run it"}]}
    assert call["parts"] == [{"type": "tool_call", "id": "f1", "name": "sh", "arguments": {"cmd": "ls"}}]
    assert result["role"] == "tool" and result["parts"][0]["response"] == "a.py"


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": ""},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}}]},
        {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]},
        {"role": "assistant", "refusal": "I can't."},
        {"role": "assistant", "function_call": {"name": "old", "arguments": "{}"}},
        {"role": "function", "name": "old", "content": "done"},
        {"role": "user", "name": "alice", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "x", "type": "custom", "custom": {"name": "patch", "input": "*** Begin"}}]},
    ],
)  # fmt: skip
def test_every_chat_message_shape_becomes_role_and_typed_parts(message: dict[str, Any]) -> None:
    system, messages = chat_input([message])
    assert system == []
    _assert_messages(json.dumps(messages))


def test_sdk_message_objects_are_read_like_dicts() -> None:
    from openai.types.chat import ChatCompletionMessage
    from openai.types.chat.chat_completion_message_function_tool_call import (
        ChatCompletionMessageFunctionToolCall,
        Function,
    )

    msg = ChatCompletionMessage(
        role="assistant",
        content="ok",
        tool_calls=[
            ChatCompletionMessageFunctionToolCall(
                id="c9", type="function", function=Function(name="ls", arguments='{"a": 1}')
            )
        ],
    )
    _, (out,) = chat_input([msg])
    assert out["parts"] == [
        {"type": "text", "content": "ok"},
        {"type": "tool_call", "id": "c9", "name": "ls", "arguments": {"a": 1}},
    ]


def test_responses_items_of_unknown_types_keep_their_type() -> None:
    _, messages = responses_input(
        [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]}, {"type": "web_search_call", "id": "w"}]
    )  # fmt: skip
    assert messages[0]["parts"] == [{"type": "reasoning", "content": "think"}]
    assert messages[1]["parts"][0]["type"] == "web_search_call"
    assert messages[1]["role"] == "assistant"


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ('{"a": 1}', {"a": 1}),
        ('  [1, 2]', [1, 2]),
        ('{"a": ', '{"a": '),  # cut off mid-stream
        ("ls -la", "ls -la"),
        ("", ""),
        (None, None),
        ({"a": 1}, {"a": 1}),
        ('"just a string"', '"just a string"'),
    ],
)  # fmt: skip
def test_tool_arguments_are_objects_when_they_are_json_objects_or_lists(given: Any, read: Any) -> None:
    assert tool_arguments(given) == read


# -- tools ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("on_deny", ["raise", "return"])
def test_a_denied_tools_result_is_its_denial_text(capc: CapturingGuard, on_deny: ag.OnDeny) -> None:
    capc.guard.policy = ag.Policy(rules=[ag.rules.destructive_commands()])

    @ag.tool(guard=capc.guard, kind="shell", on_deny=on_deny)
    def run(command: str) -> str:
        return "ran"

    @ag.guarded(guard=capc.guard)
    def agent() -> None:
        with contextlib.suppress(ag.Denied):
            run("rm -rf /")

    agent()
    result = _attrs(capc, "execute_tool run")[sc.GEN_AI_TOOL_CALL_RESULT]
    assert result != "null"
    assert result.startswith("Denied by policy:") and "destructive_commands" in result


def test_a_tool_that_returns_none_records_null(capc: CapturingGuard) -> None:
    @ag.tool(guard=capc.guard)
    def noop() -> None:
        return None

    noop()
    assert _attrs(capc, "execute_tool noop")[sc.GEN_AI_TOOL_CALL_RESULT] == "null"


# -- metrics and streams ----------------------------------------------------------------------------
def test_client_metrics_carry_the_server(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion())
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    metrics = cap.metrics()
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE):
        for labels, _ in metrics[name]:
            assert labels[sc.SERVER_ADDRESS] == "llm.test"
            assert labels[sc.SERVER_PORT] == 8080


def test_a_stream_records_time_to_first_chunk_and_a_complete_call_does_not(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/chat/completions", sse(text_chunks("one ", "two")))
    ag.instrument_openai(guard=cap.guard)
    client = server.client()
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "one two"
    attrs = _attrs(cap, "chat gpt-4o-mini")
    first = attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    span = cap.span("chat gpt-4o-mini")
    assert span.start_time is not None and span.end_time is not None
    assert isinstance(first, float) and 0 <= first <= (span.end_time - span.start_time) / 1e9 + 0.01
    ((labels, (count, _)),) = cap.metrics()[sc.METRIC_TIME_TO_FIRST_CHUNK]
    assert count == 1 and labels[sc.GEN_AI_OPERATION_NAME] == "chat"

    cap.clear()
    server.replies.clear()
    server.json("/chat/completions", chat_completion())
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in _attrs(cap, "chat gpt-4o-mini")


@pytest.mark.asyncio
async def test_an_async_stream_records_time_to_first_chunk(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.stream("/chat/completions", sse(text_chunks("a", "b")))
    ag.instrument_openai(guard=cap.guard)
    stream = await server.async_client().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async for _ in stream:
        pass
    assert sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in _attrs(cap, "chat gpt-4o-mini")


# -- signals as evaluation results ------------------------------------------------------------------
def test_each_signal_is_also_a_gen_ai_evaluation_result_in_the_spans_context(cap: CapturingGuard) -> None:
    @ag.tool(guard=cap.guard, kind="shell")
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        run("echo cm0gLXJmIC8K | base64 -d | sh")

    agent()
    span = cap.span("execute_tool run")
    signals = [e for e in span.events if e.name == sc.EVENT_SIGNAL]
    assert signals
    records = [r.log_record for r in cap.logs() if r.log_record.event_name == sc.EVENT_EVALUATION_RESULT]
    assert len(records) == len(signals)
    for event, record in zip(signals, records, strict=True):
        a = dict(record.attributes or {})
        ev = dict(event.attributes or {})
        assert a[sc.GEN_AI_EVALUATION_NAME] == ev[sc.SIGNAL_CODE]
        assert a[sc.GEN_AI_EVALUATION_SCORE_LABEL] == ev[sc.SIGNAL_SEVERITY]
        assert a[sc.GEN_AI_EVALUATION_EXPLANATION] == ev[sc.SIGNAL_MESSAGE]
        assert a[sc.GEN_AI_EVALUATION_SCORE_VALUE] == ev[sc.SIGNAL_CONFIDENCE]
        assert record.trace_id == span.context.trace_id
        assert record.span_id == span.context.span_id


def test_a_failing_logger_never_reaches_the_agent(
    cap: CapturingGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def emit(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("log pipeline down")

    monkeypatch.setattr(cap.guard, "_logger", Broken())

    @ag.tool(guard=cap.guard, kind="shell")
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=cap.guard)
    def agent() -> str:
        return run("echo cm0gLXJmIC8K | base64 -d | sh")

    assert agent() == "ok"
    assert [e for e in cap.span("execute_tool run").events if e.name == sc.EVENT_SIGNAL]
