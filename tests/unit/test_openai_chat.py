"""Chat Completions through the instrumented SDK: spans, metrics, run totals, refusals, policy, faults."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel
from test_openai_fakes import BASE_URL, FakeServer, chat_completion, tool_call

import agentguard as ag
from agentguard.guard import _llm_step as llm_step
from agentguard.instrumentation.openai import _chat
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


@pytest.fixture
def server() -> FakeServer:
    s = FakeServer()
    s.json("/chat/completions", chat_completion())
    return s


class Policy:
    def __init__(self, decision: ag.Decision) -> None:
        self.decision = decision
        self.seen: list[ag.Action] = []

    def check(self, action: ag.Action, run: ag.RunState | None = None) -> ag.Decision:
        self.seen.append(action)
        return self.decision


class FixedPrices(ag.PriceBook):
    def __init__(self, usd: float | None) -> None:
        self.usd = usd
        self.asked: list[tuple[str, ag.TokenUsage]] = []

    def cost(self, *, model: str, provider: str | None, usage: ag.TokenUsage) -> float | None:
        self.asked.append((model, usage))
        return self.usd


def test_chat_call_in_a_run_is_a_client_span_under_the_agent(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard, conversation_id="conv-7")
    def agent() -> str:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.2)
        return reply.choices[0].message.content or ""

    assert agent() == "Hello there."
    span = cap.span("chat gpt-4o-mini")
    root = cap.span("invoke_agent agent")
    assert span.kind == SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == root.context.span_id
    attrs = dict(span.attributes or {})
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[sc.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-abc123"
    assert attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attrs[sc.SERVER_ADDRESS] == "llm.test"
    assert attrs[sc.SERVER_PORT] == 8080
    assert attrs[sc.GEN_AI_CONVERSATION_ID] == "conv-7"
    assert attrs[sc.RUN_ID] == root.attributes[sc.RUN_ID]  # type: ignore[index]
    assert attrs[sc.REFUSAL] is False
    assert span.status.status_code != StatusCode.ERROR
    assert root.attributes[sc.RUN_INPUT_TOKENS] == 12  # type: ignore[index]
    assert root.attributes[sc.RUN_OUTPUT_TOKENS] == 5  # type: ignore[index]
    assert root.attributes[sc.RUN_LLM_CALLS] == 1  # type: ignore[index]


def test_call_outside_a_run_is_traced_with_the_pinned_guard(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert sc.GEN_AI_CONVERSATION_ID not in attrs
    assert sc.RUN_ID not in attrs


def test_call_outside_a_run_uses_the_default_guard(cap: CapturingGuard, server: FakeServer) -> None:
    ag.set_default_guard(cap.guard)
    try:
        ag.instrument_openai()
        server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    finally:
        ag.set_default_guard(None)
    assert [s.name for s in cap.spans()] == ["chat gpt-4o-mini"]


@pytest.mark.asyncio
async def test_async_chat_call(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai()
    client = server.async_client()

    @ag.guarded(guard=cap.guard)
    async def agent() -> str:
        reply = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        return reply.choices[0].message.content or ""

    assert await agent() == "Hello there."
    span = cap.span("chat gpt-4o-mini")
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12  # type: ignore[index]
    assert span.parent is not None and span.parent.span_id == cap.span("invoke_agent agent").context.span_id


def test_request_parameters_become_attributes(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        max_completion_tokens=64,
        top_p=0.9,
        frequency_penalty=0.1,
        presence_penalty=0.3,
        stop=["END"],
        seed=42,
        n=2,
    )
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attrs[sc.GEN_AI_REQUEST_TOP_P] == 0.9
    assert attrs[sc.GEN_AI_REQUEST_FREQUENCY_PENALTY] == 0.1
    assert attrs[sc.GEN_AI_REQUEST_PRESENCE_PENALTY] == 0.3
    assert attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert attrs[sc.GEN_AI_REQUEST_SEED] == 42
    assert attrs[sc.GEN_AI_REQUEST_CHOICE_COUNT] == 2
    assert sc.GEN_AI_REQUEST_STREAM not in attrs


def test_legacy_max_tokens_and_single_stop_string(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="m", messages=USER, max_tokens=10, stop="\n")
    attrs = dict(cap.span("chat m").attributes or {})
    assert attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] == 10
    assert attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] == ("\n",)


def test_requested_tool_calls_are_events_and_link_to_the_tool_span(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json(
        "/chat/completions",
        chat_completion(
            content=None,
            finish_reason="tool_calls",
            tool_calls=[
                tool_call("read_file", "call_A", '{"path": "a.txt"}'),
                tool_call("read_file", "call_B", '{"path": "b.txt"}'),
            ],
        ),
    )
    ag.instrument_openai()
    client = server.client()

    @ag.tool(kind="file_read")
    def read_file(path: str) -> str:
        return f"contents of {path}"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        for tc in reply.choices[0].message.tool_calls or []:
            read_file(path=tc.function.arguments)  # type: ignore[union-attr]

    agent()
    span = cap.span("chat gpt-4o-mini")
    events = [e for e in span.events if e.name == sc.EVENT_TOOL_CALL]
    assert [(e.attributes or {}).get(sc.GEN_AI_TOOL_CALL_ID) for e in events] == ["call_A", "call_B"]
    assert all((e.attributes or {}).get(sc.GEN_AI_TOOL_NAME) == "read_file" for e in events)
    assert all(sc.GEN_AI_TOOL_CALL_ARGUMENTS not in (e.attributes or {}) for e in events)
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)  # type: ignore[index]
    tool_ids = [
        (s.attributes or {}).get(sc.GEN_AI_TOOL_CALL_ID)
        for s in cap.spans()
        if s.name == "execute_tool read_file"
    ]
    assert tool_ids == ["call_A", "call_B"]


def test_reasoning_and_cached_tokens(cap: CapturingGuard) -> None:
    server = FakeServer()
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 300,
        "total_tokens": 1300,
        "prompt_tokens_details": {"cached_tokens": 768},
        "completion_tokens_details": {"reasoning_tokens": 256},
    }
    server.json("/chat/completions", chat_completion(usage=usage, model="o4-mini"))
    prices = FixedPrices(None)
    guard = CapturingGuard(prices=prices)
    ag.instrument_openai(guard=guard.guard)
    server.client().chat.completions.create(model="o4-mini", messages=USER)
    attrs = dict(guard.span("chat o4-mini").attributes or {})
    assert attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 768
    assert attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 256
    assert prices.asked == [
        (
            "o4-mini",
            ag.TokenUsage(input_tokens=1000, output_tokens=300, cache_read_tokens=768, reasoning_tokens=256),
        )
    ]
    assert sc.COST_USD not in attrs  # unknown price: no cost attribute, never a wrong one


def test_known_cost_goes_on_the_span_the_metric_and_the_run(server: FakeServer) -> None:
    cap = CapturingGuard(prices=FixedPrices(0.25))
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    agent()
    spans = [s for s in cap.spans() if s.name == "chat gpt-4o-mini"]
    assert [(s.attributes or {})[sc.COST_USD] for s in spans] == [0.25, 0.25]
    assert cap.span("invoke_agent agent").attributes[sc.RUN_COST_USD] == 0.5  # type: ignore[index]
    [(labels, total)] = cap.metrics()[sc.METRIC_COST]
    assert total == 0.5
    assert labels[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("reply", "source"),
    [
        pytest.param(
            chat_completion(content=None, refusal="I can't help with that."), "api", id="message.refusal"
        ),
        pytest.param(
            chat_completion(content="", finish_reason="content_filter"), "content_filter", id="filter"
        ),
        pytest.param(chat_completion(content="I'm sorry, but I can't do that."), "text", id="text"),
    ],
)
def test_refusals_are_flagged_with_their_source(
    cap: CapturingGuard, monkeypatch: pytest.MonkeyPatch, reply: dict[str, Any], source: str
) -> None:
    monkeypatch.setattr(llm_step, "looks_like_refusal", lambda text: text.startswith("I'm sorry"))
    server = FakeServer()
    server.json("/chat/completions", reply)
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    agent()
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.REFUSAL] is True
    assert attrs[sc.REFUSAL_SOURCE] == source
    assert cap.span("invoke_agent agent").attributes[sc.RUN_REFUSALS] == 1  # type: ignore[index]
    [(labels, count)] = cap.metrics()[sc.METRIC_REFUSALS]
    assert (labels[sc.REFUSAL_SOURCE], count) == (source, 1)


def test_refusal_text_with_tool_calls_is_not_a_refusal(
    cap: CapturingGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm_step, "looks_like_refusal", lambda text: True)
    server = FakeServer()
    server.json(
        "/chat/completions",
        chat_completion(content="I'm sorry, let me check.", tool_calls=[tool_call("search", "call_1")]),
    )
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.REFUSAL] is False
    assert sc.METRIC_REFUSALS not in cap.metrics()


def test_http_error_marks_the_span_and_propagates_unchanged(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json(
        "/chat/completions",
        {"error": {"message": "model not found", "type": "invalid_request_error", "code": "model_not_found"}},
        status=404,
    )
    ag.instrument_openai(guard=cap.guard)
    with pytest.raises(openai.NotFoundError, match="model not found"):
        server.client().chat.completions.create(model="nope", messages=USER)
    span = cap.span("chat nope")
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE] == "NotFoundError"  # type: ignore[index]
    [(labels, (count, _))] = cap.metrics()[sc.METRIC_OPERATION_DURATION]
    assert labels[sc.ERROR_TYPE] == "NotFoundError"
    assert count == 1


def test_metrics_are_recorded_when_the_span_is_sampled_out(
    cap_unsampled: CapturingGuard, server: FakeServer
) -> None:
    ag.instrument_openai(guard=cap_unsampled.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert cap_unsampled.spans() == []
    metrics = cap_unsampled.metrics()
    tokens = {labels[sc.GEN_AI_TOKEN_TYPE]: total for labels, (_, total) in metrics[sc.METRIC_TOKEN_USAGE]}
    assert tokens == {"input": 12, "output": 5}
    labels, _ = metrics[sc.METRIC_TOKEN_USAGE][0]
    assert set(labels) == {
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_PROVIDER_NAME,
        sc.GEN_AI_REQUEST_MODEL,
        sc.GEN_AI_RESPONSE_MODEL,
        sc.SERVER_ADDRESS,
        sc.SERVER_PORT,
        sc.GEN_AI_TOKEN_TYPE,
    }
    assert metrics[sc.METRIC_LLM_CALLS][0][1] == 1
    assert metrics[sc.METRIC_OPERATION_DURATION][0][1][0] == 1


def test_content_is_not_captured_by_default(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert sc.GEN_AI_INPUT_MESSAGES not in attrs
    assert sc.GEN_AI_OUTPUT_MESSAGES not in attrs
    assert sc.GEN_AI_SYSTEM_INSTRUCTIONS not in attrs


def test_captured_content_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentguard.telemetry._content

    monkeypatch.setattr(
        agentguard.telemetry._content, "redact", lambda text: re.sub(r"sk-[A-Za-z0-9]+", "[REDACTED]", text)
    )
    cap = CapturingGuard(capture_content=True)
    server = FakeServer()
    server.json(
        "/chat/completions",
        chat_completion(
            content="Use sk-live123", tool_calls=[tool_call("login", "call_9", '{"key": "sk-abc"}')]
        ),
    )
    ag.instrument_openai(guard=cap.guard)
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "my key is sk-secret42"},
    ]
    server.client().chat.completions.create(model="gpt-4o-mini", messages=messages)
    span = cap.span("chat gpt-4o-mini")
    attrs = dict(span.attributes or {})
    assert "You are terse." in attrs[sc.GEN_AI_SYSTEM_INSTRUCTIONS]  # type: ignore[operator]
    assert "[REDACTED]" in attrs[sc.GEN_AI_INPUT_MESSAGES]  # type: ignore[operator]
    assert "sk-secret42" not in attrs[sc.GEN_AI_INPUT_MESSAGES]  # type: ignore[operator]
    assert "You are terse." not in attrs[sc.GEN_AI_INPUT_MESSAGES]  # type: ignore[operator]
    assert "Use [REDACTED]" in attrs[sc.GEN_AI_OUTPUT_MESSAGES]  # type: ignore[operator]
    [event] = [e for e in span.events if e.name == sc.EVENT_TOOL_CALL]
    assert (event.attributes or {})[sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"key": "[REDACTED]"}'


def test_denied_llm_call_is_never_sent(cap: CapturingGuard, server: FakeServer) -> None:
    policy = Policy(ag.Decision.deny("no LLM calls in this run", rule_id="no-llm"))
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard, policy=policy)
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)

    with pytest.raises(ag.Denied) as info:
        agent()
    assert info.value.tool == "openai.chat"
    assert server.requests == []
    [action] = policy.seen
    assert (action.kind, action.tool, action.model) == ("llm", "openai.chat", "gpt-4o-mini")
    span = cap.span("chat gpt-4o-mini")
    assert span.status.status_code != StatusCode.ERROR
    [event] = [e for e in span.events if e.name == sc.EVENT_POLICY_DECISION]
    assert (event.attributes or {})[sc.POLICY_RULE_IDS] == ("no-llm",)


def test_shadow_denial_records_but_sends(cap: CapturingGuard, server: FakeServer) -> None:
    shadow = ag.Decision(outcome="deny", reason="watching", rule_ids=("r1",), mode="shadow")
    guard = CapturingGuard(policy=Policy(shadow))
    ag.instrument_openai(guard=guard.guard)
    reply = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert reply.choices[0].message.content == "Hello there."
    span = guard.span("chat gpt-4o-mini")
    assert span.attributes[sc.POLICY_DECISION] == "deny"  # type: ignore[index]
    assert len(server.requests) == 1


def test_no_policy_means_no_decision_event(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert cap.span("chat gpt-4o-mini").events == ()
    assert sc.METRIC_DECISIONS not in cap.metrics()


def test_with_raw_response_returns_the_raw_response_and_still_reads_usage(
    cap: CapturingGuard, server: FakeServer
) -> None:
    ag.instrument_openai(guard=cap.guard)
    raw = server.client().chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER)
    assert raw.http_response.status_code == 200
    assert raw.parse().choices[0].message.content == "Hello there."
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attrs[sc.GEN_AI_RESPONSE_ID] == "chatcmpl-abc123"


def test_with_streaming_response_is_read_when_the_user_parses(
    cap: CapturingGuard, server: FakeServer
) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = server.client()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=USER
    ) as response:
        assert not cap.spans()  # the body is not read yet
        assert response.parse().choices[0].message.content == "Hello there."
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert sc.GEN_AI_RESPONSE_MODEL in attrs


def test_parse_with_a_response_format(cap: CapturingGuard) -> None:
    class Answer(BaseModel):
        city: str

    server = FakeServer()
    server.json("/chat/completions", chat_completion(content='{"city": "Paris"}'))
    ag.instrument_openai(guard=cap.guard)
    reply = server.client().chat.completions.parse(model="gpt-4o-mini", messages=USER, response_format=Answer)
    assert reply.choices[0].message.parsed == Answer(city="Paris")
    assert cap.span("chat gpt-4o-mini").attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 12  # type: ignore[index]


@pytest.mark.asyncio
async def test_async_parse_and_raw_response(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    client = server.async_client()
    raw = await client.chat.completions.with_raw_response.create(model="a", messages=USER)
    assert raw.parse().choices[0].message.content == "Hello there."
    await client.chat.completions.parse(model="b", messages=USER)
    assert {s.name for s in cap.spans()} == {"chat a", "chat b"}
    assert cap.span("chat a").attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == 5  # type: ignore[index]


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("telemetry is broken")


@pytest.mark.parametrize("target", ["start_span", "summarize", "metrics"])
def test_telemetry_fault_never_breaks_the_call(
    cap: CapturingGuard, server: FakeServer, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    if target == "start_span":
        monkeypatch.setattr(cap.guard.tracer, "start_span", _boom)
    elif target == "summarize":
        monkeypatch.setattr(_chat.CHAT, "summarize", _boom)
    else:
        monkeypatch.setattr(cap.guard.instruments.operation_duration, "record", _boom)
    ag.instrument_openai(guard=cap.guard)
    reply = server.client().chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert reply.choices[0].message.content == "Hello there."
    if target != "start_span":  # the span still ends
        assert [s.name for s in cap.spans()] == ["chat gpt-4o-mini"]


def test_base_url_without_port(cap: CapturingGuard) -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion())
    client = server.client().with_options(base_url="https://api.example.com/v1")
    ag.instrument_openai(guard=cap.guard)
    client.chat.completions.create(model="m", messages=USER)
    attrs = dict(cap.span("chat m").attributes or {})
    assert attrs[sc.SERVER_ADDRESS] == "api.example.com"
    assert sc.SERVER_PORT not in attrs
    assert BASE_URL.startswith("http://llm.test")
