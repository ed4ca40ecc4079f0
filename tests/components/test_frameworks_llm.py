"""Each framework that talks to an OpenAI-compatible endpoint, end to end on the real local SmolLM2 server.

The OpenAI Agents SDK (``OpenAIChatCompletionsModel``) and LangChain (``ChatOpenAI`` inside
``create_agent``) drive the model; agentguard's integration guards the tools and the OpenAI
instrumentation records the model calls. The first model call is forced to call the tool (the server
then constrains its output to the tool's schema); the policy denies the tool, so each test shows, on
a real model: the tool never ran, the next request to the model carries the denial's reason as the
tool result, one decision event per tool call, and run totals equal to the sum of the LLM spans.
The model's words are never asserted (a 135M model's answers are poor).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from harness import LLMServer
from opentelemetry.sdk.trace import ReadableSpan

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

pytestmark = pytest.mark.components

REASON = "agents do not write files in this test"
POLICY = ag.Policy(rules=[ag.rules.match(decision="deny", tool="write_file", reason=REASON)])
TASK = "Write the word hello to the file notes.txt."

ran: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


@pytest.fixture
def llm(cap: CapturingGuard) -> Iterator[None]:
    ag.instrument_openai(guard=cap.guard)
    yield
    ag.uninstrument_openai()


class Requests:
    """The JSON bodies of the chat requests a client sent, seen by its transport (nothing mocked).

    ``httpx2`` is the HTTP client the ``openai`` SDK is built on. The transport makes one change the
    llama-cpp-python server needs: an assistant turn with tool calls and ``content: null`` (what both
    frameworks send, as the OpenAI API allows) gets ``content: ""``, since the server's request model
    rejects ``null`` with HTTP 500.
    """

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def prepare(self, request: httpx.Request) -> httpx.Request:
        if not request.url.path.endswith("/chat/completions"):
            return request
        body = json.loads(request.content)
        self.bodies.append(body)
        for message in body.get("messages", []):
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return httpx.Request(request.method, request.url, headers=headers, json=body)

    def tool_results(self) -> list[str]:
        return [
            str(m.get("content"))
            for body in self.bodies
            for m in body.get("messages", [])
            if m.get("role") == "tool"
        ]


class _Transport(httpx.HTTPTransport):
    def __init__(self, requests: Requests) -> None:
        super().__init__()
        self.requests = requests

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return super().handle_request(self.requests.prepare(request))


class _AsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, requests: Requests) -> None:
        super().__init__()
        self.requests = requests

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await super().handle_async_request(self.requests.prepare(request))


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def chat_spans(cap: CapturingGuard) -> list[ReadableSpan]:
    return [s for s in cap.spans() if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == sc.OP_CHAT]


def tool_decisions(cap: CapturingGuard) -> list[str]:
    return [
        str((e.attributes or {}).get(sc.POLICY_DECISION))
        for s in cap.spans()
        if attrs(s).get(sc.GEN_AI_OPERATION_NAME) != sc.OP_CHAT
        for e in s.events
        if e.name == sc.EVENT_POLICY_DECISION
    ]


def assert_run_totals_are_the_sum_of_the_llm_spans(cap: CapturingGuard) -> None:
    chats = chat_spans(cap)
    assert chats, "no LLM span recorded"
    assert all(attrs(c)[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0 for c in chats)
    (run,) = [s for s in cap.spans() if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == sc.OP_INVOKE_AGENT]
    assert attrs(run)[sc.RUN_INPUT_TOKENS] == sum(attrs(c)[sc.GEN_AI_USAGE_INPUT_TOKENS] for c in chats)
    assert attrs(run)[sc.RUN_OUTPUT_TOKENS] == sum(attrs(c)[sc.GEN_AI_USAGE_OUTPUT_TOKENS] for c in chats)
    assert attrs(run)[sc.RUN_LLM_CALLS] == len(chats)
    for chat in chats:  # one span per model call: no second LLM span for the same request
        assert chat.parent is not None


def assert_denied_and_the_model_was_told(cap: CapturingGuard, requests: Requests) -> None:
    assert ran == []
    assert tool_decisions(cap)[:1] == ["deny"]
    assert len(requests.bodies) >= 2, "the framework did not go on after the denial"
    assert any(REASON in r for r in requests.tool_results())


def test_openai_agents_sdk_on_smollm2(cap: CapturingGuard, llm: None, llm_server: LLMServer) -> None:
    from agents import (
        Agent,
        MaxTurnsExceeded,
        ModelSettings,
        OpenAIChatCompletionsModel,
        Runner,
        function_tool,
        set_trace_processors,
    )
    from openai import AsyncOpenAI

    from agentguard.integrations.openai_agents import guard, processor

    set_trace_processors([processor()])

    @function_tool
    def write_file(path: str, content: str) -> str:
        """Write content to the file at path."""
        ran.append(path)
        return f"wrote {path}"

    requests = Requests()
    http = httpx.AsyncClient(transport=_AsyncTransport(requests), timeout=120)
    client = AsyncOpenAI(base_url=llm_server.base_url, api_key="local", max_retries=0, http_client=http)
    agent = Agent(
        name="writer",
        instructions="You write files with the write_file tool.",
        model=OpenAIChatCompletionsModel(model=llm_server.model, openai_client=client),
        model_settings=ModelSettings(tool_choice="write_file", max_tokens=64),
        tools=[write_file],
    )
    guarded = guard(agent, policy=POLICY, guard=cap.guard)
    # the model may ask for the tool again after the denial: two turns are enough here
    with contextlib.suppress(MaxTurnsExceeded):
        Runner.run_sync(guarded, TASK, max_turns=2)
    assert_denied_and_the_model_was_told(cap, requests)
    assert_run_totals_are_the_sum_of_the_llm_spans(cap)
    (run,) = [s for s in cap.spans() if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == sc.OP_INVOKE_AGENT]
    assert attrs(run)[sc.GEN_AI_AGENT_NAME] == "writer"


def test_langchain_create_agent_on_smollm2(cap: CapturingGuard, llm: None, llm_server: LLMServer) -> None:
    from langchain.agents import create_agent
    from langchain.agents.middleware import ModelRequest, ModelResponse, wrap_model_call
    from langchain_core.messages import ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    from agentguard.integrations.langchain import AgentguardMiddleware

    @tool
    def write_file(path: str, content: str) -> str:
        """Write content to the file at path."""
        ran.append(path)
        return f"wrote {path}"

    @wrap_model_call
    def force_the_tool_first(request: ModelRequest, handler: Any) -> ModelResponse:
        """The first model call must call the tool; later ones choose freely."""
        if not any(isinstance(m, ToolMessage) for m in request.messages):
            request = request.override(tool_choice={"type": "function", "function": {"name": "write_file"}})
        result: ModelResponse = handler(request)
        return result

    requests = Requests()
    model = ChatOpenAI(
        model=llm_server.model,
        base_url=llm_server.base_url,
        api_key="local",  # type: ignore[arg-type]
        max_retries=0,
        max_tokens=64,  # type: ignore[call-arg]
        http_client=httpx.Client(transport=_Transport(requests), timeout=120),
    )
    agent = create_agent(
        model,
        [write_file],
        system_prompt="You write files with the write_file tool.",
        middleware=[force_the_tool_first, AgentguardMiddleware(policy=POLICY, guard=cap.guard)],
    )
    with cap.guard.run(name="writer", task=TASK):
        result = agent.invoke({"messages": [{"role": "user", "content": TASK}]}, {"recursion_limit": 6})
    assert_denied_and_the_model_was_told(cap, requests)
    assert_run_totals_are_the_sum_of_the_llm_spans(cap)
    (denial,) = [m for m in result["messages"] if isinstance(m, ToolMessage)][:1]
    assert REASON in str(denial.content)
