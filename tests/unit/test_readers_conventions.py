"""The convention readers over every spelling of the same model output (property tests).

One model turn asks for some tool calls; however it is recorded (OTel GenAI parts with arguments as an
object or as JSON text, OpenAI-shaped messages, OpenInference's flattened attributes, OpenLLMetry's
indexed ones, a GenAI log event), the detectors see the same requested calls. Index gaps and missing
optional fields change nothing; malformed values never raise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.detect._events import LLMTurn, ToolCall
from agentguard.traces import KIND_LOG, Span, SpanEvent
from agentguard.traces._assemble import events, observe
from agentguard.traces._messages import parse_messages

Call = tuple[str, str, dict[str, str]]
"""(call id, tool name, arguments)"""

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_args = st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8),
    st.text(max_size=30),
    max_size=4,
)
calls_strategy = st.lists(st.tuples(_names, _args), min_size=1, max_size=3).map(
    lambda items: [(f"call_{i}", name, args) for i, (name, args) in enumerate(items)]
)
_gaps = st.lists(st.integers(min_value=0, max_value=5), min_size=3, max_size=3)


def _span(attrs: dict[str, Any], *, name: str = "chat", kind: int = 3, parent: str = "") -> Span:
    return Span(
        trace_id="a" * 32,
        span_id="b" * 16,
        parent_id=parent,
        name=name,
        kind=kind,
        start=10,
        end=20,
        attributes=attrs,
    )


def _indices(gaps: list[int], n: int) -> list[int]:
    out, at = [], 0
    for i in range(n):
        at += gaps[i % len(gaps)] + (1 if i else 0)
        out.append(at)
    return out


def genai_parts(calls: list[Call], *, as_text: bool) -> Span:
    parts = [
        {"type": "tool_call", "id": cid, "name": name, "arguments": json.dumps(args) if as_text else args}
        for cid, name, args in calls
    ]
    message = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": ""}, *parts],
            "finish_reason": "tool_call",
        }
    ]
    return _span({"gen_ai.operation.name": "chat", "gen_ai.output.messages": json.dumps(message)})


def openai_shaped(calls: list[Call]) -> Span:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for cid, name, args in calls
        ],
    }
    return _span({"gen_ai.operation.name": "chat", "gen_ai.output.messages": json.dumps([message])})


def openinference(calls: list[Call], gaps: list[int], *, ids: bool) -> Span:
    attrs: dict[str, Any] = {
        "openinference.span.kind": "LLM",
        "llm.output_messages.0.message.role": "assistant",
    }
    for j, (cid, name, args) in zip(_indices(gaps, len(calls)), calls, strict=True):
        prefix = f"llm.output_messages.0.message.tool_calls.{j}.tool_call."
        attrs[prefix + "function.name"] = name
        attrs[prefix + "function.arguments"] = json.dumps(args)
        if ids:
            attrs[prefix + "id"] = cid
    return _span(attrs, name="ChatCompletion")


def openllmetry_legacy(calls: list[Call], gaps: list[int]) -> Span:
    attrs: dict[str, Any] = {
        "llm.request.type": "chat",
        "gen_ai.system": "openai",
        "gen_ai.completion.0.role": "assistant",
    }
    for j, (cid, name, args) in zip(_indices(gaps, len(calls)), calls, strict=True):
        prefix = f"gen_ai.completion.0.tool_calls.{j}."
        attrs[prefix + "name"] = name
        attrs[prefix + "arguments"] = json.dumps(args)
        attrs[prefix + "id"] = cid
    return _span(attrs, name="openai.chat")


def log_event(calls: list[Call]) -> list[Span]:
    parts = [{"type": "tool_call", "id": cid, "name": name, "arguments": args} for cid, name, args in calls]
    details = {"gen_ai.output.messages": [{"role": "assistant", "parts": parts}]}
    chat = _span({"gen_ai.operation.name": "chat"})
    record = Span(
        trace_id=chat.trace_id,
        span_id="c" * 16,
        parent_id=chat.span_id,
        name="",
        kind=KIND_LOG,
        start=15,
        end=15,
        events=[SpanEvent("gen_ai.client.inference.operation.details", 15, details)],
    )
    return [chat, record]


def requested(spans: list[Span]) -> list[tuple[str, dict[str, Any]]]:
    """The calls the detectors see as model-requested (no tool span ran them): name and arguments."""
    evs = events(spans)
    assert sum(isinstance(e, LLMTurn) for e in evs) == 1
    return [(e.action.tool, dict(e.action.arguments)) for e in evs if isinstance(e, ToolCall)]


@settings(max_examples=40, deadline=None)
@given(calls=calls_strategy, gaps=_gaps, ids=st.booleans())
def test_every_spelling_of_a_turn_gives_the_same_requested_calls(
    calls: list[Call], gaps: list[int], ids: bool
) -> None:
    want = [(name, args) for _, name, args in calls]
    renderings: dict[str, Callable[[], list[Span]]] = {
        "genai object arguments": lambda: [genai_parts(calls, as_text=False)],
        "genai text arguments": lambda: [genai_parts(calls, as_text=True)],
        "openai-shaped": lambda: [openai_shaped(calls)],
        "openinference": lambda: [openinference(calls, gaps, ids=ids)],
        "openllmetry indexed": lambda: [openllmetry_legacy(calls, gaps)],
        "log event": lambda: log_event(calls),
    }
    for label, render in renderings.items():
        assert requested(render()) == want, label


@settings(max_examples=40, deadline=None)
@given(calls=calls_strategy)
def test_a_tool_span_of_a_requested_call_counts_it_once(calls: list[Call]) -> None:
    chat = genai_parts(calls, as_text=False)
    tools = [
        Span(
            trace_id=chat.trace_id,
            span_id=f"{i + 1:016x}",
            name=f"execute_tool {name}",
            start=30 + i,
            end=31 + i,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": cid,
            },
        )
        for i, (cid, name, _) in enumerate(calls)
    ]
    seen = [e for e in events([chat, *tools]) if isinstance(e, ToolCall)]
    assert [(e.action.tool, dict(e.action.arguments)) for e in seen] == [(n, a) for _, n, a in calls]


@settings(max_examples=40, deadline=None)
@given(calls=calls_strategy)
def test_the_same_call_nested_in_several_layers_counts_once(calls: list[Call]) -> None:
    """An OpenInference TOOL span around an execute_tool around an MCP tools/call, for each call."""
    spans: list[Span] = []
    for i, (cid, name, args) in enumerate(calls):
        outer, middle, inner = (f"{i:04x}{k:012x}" for k in (1, 2, 3))
        spans += [
            Span(
                trace_id="a" * 32,
                span_id=outer,
                name=name,
                start=100 * i,
                end=100 * i + 9,
                attributes={
                    "openinference.span.kind": "TOOL",
                    "tool.name": name,
                    "input.value": json.dumps(args),
                },
            ),
            Span(
                trace_id="a" * 32,
                span_id=middle,
                parent_id=outer,
                name=f"execute_tool {name}",
                start=100 * i + 1,
                end=100 * i + 8,
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": name,
                    "gen_ai.tool.call.id": cid,
                },
            ),
            Span(
                trace_id="a" * 32,
                span_id=inner,
                parent_id=middle,
                name=f"tools/call {name}",
                kind=2,
                start=100 * i + 2,
                end=100 * i + 7,
                attributes={"mcp.method.name": "tools/call", "gen_ai.tool.name": name},
            ),
        ]
    seen = [e for e in events(spans) if isinstance(e, ToolCall)]
    assert [(e.action.tool, dict(e.action.arguments), e.action.call_id) for e in seen] == [
        (name, args, cid) for cid, name, args in calls
    ]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_keys = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.name",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.id",
        "openinference.span.kind",
        "input.value",
        "output.value",
        "tool.name",
        "tool.parameters",
        "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
        "llm.input_messages.1.message.content",
        "traceloop.span.kind",
        "traceloop.entity.input",
        "gen_ai.prompt.0.content",
        "gen_ai.completion.0.tool_calls.0.arguments",
        "llm.request.type",
        "mcp.method.name",
        "agentguard.tool.kind",
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.dictionaries(_keys, _json_values | st.builds(json.dumps, _json_values), max_size=6), max_size=4
    )
)
def test_malformed_attributes_never_raise(attrs_list: list[dict[str, Any]]) -> None:
    spans = [_span(a) for a in attrs_list]
    for i, s in enumerate(spans):
        s.span_id = f"{i + 1:016x}"
    events(spans)


@given(_json_values)
def test_message_parsing_accepts_any_json(value: Any) -> None:
    parse_messages(value)
    parse_messages(json.dumps(value))


def test_redacted_content_is_no_content() -> None:
    span = _span({"openinference.span.kind": "TOOL", "tool.name": "shell", "input.value": "__REDACTED__"})
    found = observe(span)
    assert found is not None
    (call,) = [e for e in events([span]) if isinstance(e, ToolCall)]
    assert call.action.command is None
