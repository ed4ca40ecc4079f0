"""A fake OpenAI server for the instrumentation tests (httpx2.MockTransport; no network).

Imported by the other ``test_openai_*`` modules; the two tests at the bottom pin the fake itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx2
from openai import AsyncOpenAI, OpenAI

BASE_URL = "http://llm.test:8080/v1"

Reply = Callable[[dict[str, Any]], httpx2.Response]


def chat_completion(
    *,
    content: str | None = "Hello there.",
    model: str = "gpt-4o-mini-2024-07-18",
    finish_reason: str = "stop",
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage
        if usage is not None
        else {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        "system_fingerprint": "fp_1",
    }


def tool_call(name: str, call_id: str, arguments: str = "{}") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(
    *,
    content: str | None = None,
    finish_reason: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
    model: str = "gpt-4o-mini-2024-07-18",
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    if refusal is not None:
        delta["refusal"] = refusal
    out: dict[str, Any] = {
        "id": "chatcmpl-stream1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
        if choices
        else [],
    }
    if usage is not None:
        out["usage"] = usage
    return out


def text_chunks(*pieces: str, usage: bool = True) -> list[dict[str, Any]]:
    """A streamed assistant turn: role, the pieces, a stop, then (optionally) the usage chunk."""
    chunks = [chunk(content="")]
    chunks += [chunk(content=p) for p in pieces]
    chunks.append(chunk(finish_reason="stop"))
    if usage:
        chunks.append(
            chunk(choices=False, usage={"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13})
        )
    return chunks


def sse(events: Iterable[dict[str, Any]], *, done: bool = True, named: bool = False) -> bytes:
    """``text/event-stream`` body; ``named`` adds ``event:`` lines (the Responses API sends them)."""
    out = []
    for event in events:
        head = f"event: {event['type']}\n" if named else ""
        out.append(f"{head}data: {json.dumps(event)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def response_obj(
    *,
    output: list[dict[str, Any]] | None = None,
    status: str = "completed",
    incomplete_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-4.1-2025-04-14",
) -> dict[str, Any]:
    return {
        "id": "resp_123",
        "object": "response",
        "created_at": 1_700_000_000,
        "model": model,
        "status": status,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "output": output if output is not None else [message_item("Paris.")],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage
        if usage is not None
        else {
            "input_tokens": 20,
            "output_tokens": 8,
            "total_tokens": 28,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def message_item(text: str | None = None, *, refusal: str | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "output_text", "text": text, "annotations": []})
    if refusal is not None:
        content.append({"type": "refusal", "refusal": refusal})
    return {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": content}


def function_call_item(name: str, call_id: str, arguments: str = "{}") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": "fc_1",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def response_events(response: dict[str, Any], *pieces: str) -> list[dict[str, Any]]:
    """The event sequence of a streamed Responses call that produces one text message."""
    created = {**response, "status": "in_progress", "output": [], "usage": None}
    text = "".join(pieces)
    item = message_item(text)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": created},
        {"type": "response.in_progress", "response": created},
        {"type": "response.output_item.added", "output_index": 0, "item": {**item, "content": []}},
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": item["content"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed" if response["status"] == "completed" else "response.incomplete",
         "response": response},
    ]  # fmt: skip
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events


class FakeServer:
    """Answers ``POST {path}`` with queued replies; records each request's JSON body."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[dict[str, Any]] = []

    def reply(self, path: str, reply: Reply) -> None:
        self.replies.setdefault(path, []).append(reply)

    def json(self, path: str, body: dict[str, Any], status: int = 200) -> None:
        self.reply(path, lambda _req: httpx2.Response(status, json=body))

    def stream(self, path: str, body: bytes) -> None:
        self.reply(
            path,
            lambda _req: httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"}),
        )

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        queue = self.replies.get(request.url.path.removeprefix("/v1"))
        if not queue:
            return httpx2.Response(404, json={"error": {"message": "no reply queued", "type": "not_found"}})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(body)

    def client(self) -> OpenAI:
        return OpenAI(
            api_key="sk-test",
            base_url=BASE_URL,
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle)),
        )

    def async_client(self) -> AsyncOpenAI:
        return AsyncOpenAI(
            api_key="sk-test",
            base_url=BASE_URL,
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle)),
        )


def test_fake_server_answers_chat_with_a_completion() -> None:
    server = FakeServer()
    server.json("/chat/completions", chat_completion(content="pong"))
    reply = server.client().chat.completions.create(model="m", messages=[{"role": "user", "content": "ping"}])
    assert reply.choices[0].message.content == "pong"
    assert server.requests[0]["messages"] == [{"role": "user", "content": "ping"}]


def test_fake_server_streams_chunks() -> None:
    server = FakeServer()
    server.stream("/chat/completions", sse(text_chunks("a", "b")))
    stream = server.client().chat.completions.create(model="m", messages=[], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ab"
