"""instrument_openai / uninstrument_openai: explicit, idempotent, reversible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import wrapt
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from openai.resources.responses.responses import AsyncResponses, Responses
from openai.types.chat import ChatCompletionMessageParam
from test_openai_fakes import FakeServer, chat_completion

import agentguard as ag
from agentguard.testing import CapturingGuard

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
PATCHED = [
    (cls, name)
    for cls in (Completions, AsyncCompletions, Responses, AsyncResponses)
    for name in ("create", "parse")
]


@pytest.fixture(autouse=True)
def _uninstrument() -> Iterator[None]:
    yield
    ag.uninstrument_openai()


@pytest.fixture
def server() -> FakeServer:
    s = FakeServer()
    s.json("/chat/completions", chat_completion())
    return s


def test_nothing_is_patched_until_instrumented() -> None:
    assert not any(isinstance(cls.__dict__[name], wrapt.FunctionWrapper) for cls, name in PATCHED)


def test_instrument_twice_traces_each_call_once(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="m", messages=USER)
    assert [s.name for s in cap.spans()] == ["chat m"]


def test_uninstrument_restores_the_sdk_and_is_idempotent(cap: CapturingGuard, server: FakeServer) -> None:
    originals = {(cls, name): cls.__dict__[name] for cls, name in PATCHED}
    ag.instrument_openai(guard=cap.guard)
    assert all(isinstance(cls.__dict__[name], wrapt.FunctionWrapper) for cls, name in PATCHED)
    ag.uninstrument_openai()
    ag.uninstrument_openai()
    assert {(cls, name): cls.__dict__[name] for cls, name in PATCHED} == originals
    reply = server.client().chat.completions.create(model="m", messages=USER)
    assert reply.choices[0].message.content == "Hello there."
    assert cap.spans() == []


def test_raw_response_object_captured_while_instrumented_stops_tracing(
    cap: CapturingGuard, server: FakeServer
) -> None:
    client = server.client()
    ag.instrument_openai(guard=cap.guard)
    raw_api = client.chat.completions.with_raw_response  # holds the wrapped bound method
    raw_api.create(model="m", messages=USER)
    ag.uninstrument_openai()
    raw = raw_api.create(model="m", messages=USER)
    assert raw.parse().choices[0].message.content == "Hello there."
    assert [s.name for s in cap.spans()] == ["chat m"]


def test_client_created_before_instrumenting_is_traced(cap: CapturingGuard, server: FakeServer) -> None:
    client = server.client()
    client.chat.completions.create(model="before", messages=USER)
    ag.instrument_openai(guard=cap.guard)
    client.chat.completions.create(model="after", messages=USER)
    assert [s.name for s in cap.spans()] == ["chat after"]


def test_reinstrument_after_uninstrument(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai(guard=cap.guard)
    ag.uninstrument_openai()
    ag.instrument_openai(guard=cap.guard)
    server.client().chat.completions.create(model="m", messages=USER)
    assert [s.name for s in cap.spans()] == ["chat m"]


def test_pinned_guard_overrides_the_runs_guard(cap: CapturingGuard, server: FakeServer) -> None:
    run_guard = CapturingGuard()
    ag.instrument_openai(guard=cap.guard)
    client = server.client()

    @ag.guarded(guard=run_guard.guard)
    def agent() -> None:
        client.chat.completions.create(model="m", messages=USER)

    agent()
    assert [s.name for s in cap.spans()] == ["chat m"]
    assert [s.name for s in run_guard.spans()] == ["invoke_agent agent"]


def test_without_a_pinned_guard_the_runs_guard_is_used(cap: CapturingGuard, server: FakeServer) -> None:
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        client.chat.completions.create(model="m", messages=USER)

    agent()
    assert sorted(s.name for s in cap.spans()) == ["chat m", "invoke_agent agent"]
