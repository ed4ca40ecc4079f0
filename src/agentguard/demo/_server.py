"""A deterministic OpenAI-compatible Chat Completions server on 127.0.0.1, for demos and examples.

It plays a script: the n-th request of a conversation (counted by the assistant turns already in the
request's messages) gets the n-th :class:`Step`, as a normal or a streamed (SSE) response, with
realistic ``usage`` numbers. Standard library only, one thread.

>>> from agentguard.demo import ScriptedServer, Step
>>> with ScriptedServer([Step(text="hello")]) as server:
...     server.base_url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One scripted model turn: text, or tool calls as ``(name, arguments)`` pairs."""

    text: str | None = None
    tool_calls: Sequence[tuple[str, dict[str, Any]]] = field(default_factory=tuple)
    prompt_tokens: int = 420
    completion_tokens: int = 48


class ScriptedServer:
    """Serve ``steps`` at ``base_url`` (``http://127.0.0.1:PORT/v1``) until closed."""

    def __init__(self, steps: Sequence[Step], *, model: str = "gpt-4o-mini-2024-07-18") -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = list(steps)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-llm", daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- responses ---------------------------------------------------------------------------------
    def _step_for(self, body: dict[str, Any]) -> Step:
        turns = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        return self.steps[min(turns, len(self.steps) - 1)]

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        step = self._step_for(body)
        n = len(self.requests)
        finish = "tool_calls" if step.tool_calls else "stop"
        message: dict[str, Any] = {"role": "assistant", "content": step.text, "refusal": None}
        if step.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{n}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for i, (name, args) in enumerate(step.tool_calls)
            ]
        return {
            "id": f"chatcmpl-demo{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": step.prompt_tokens,
                "completion_tokens": step.completion_tokens,
                "total_tokens": step.prompt_tokens + step.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": step.prompt_tokens // 2},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def chunks(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        full = self.completion(body)
        base = {k: full[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
        message = full["choices"][0]["message"]
        out: list[dict[str, Any]] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
        for word in (message["content"] or "").split(" "):
            if word:
                out.append({**base, "choices": [{"index": 0, "delta": {"content": word + " "}}]})
        for i, call in enumerate(message.get("tool_calls", [])):
            delta = {"tool_calls": [{"index": i, **call}]}
            out.append({**base, "choices": [{"index": 0, "delta": delta}]})
        finish = full["choices"][0]["finish_reason"]
        out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        out.append({**base, "choices": [], "usage": full["usage"]})
        return out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "invalid JSON", "type": "invalid_request_error"}})
                    return
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                if body.get("stream"):
                    chunks = server.chunks(body)
                    server.requests.append(body)
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for chunk in chunks:
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                payload = server.completion(body)
                server.requests.append(body)
                self._send(200, payload)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
