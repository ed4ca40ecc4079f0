"""One LLM call as the OpenAI adapter sees it: request attributes in, a guard step out.

Shared by Chat Completions and Responses, sync and async, plain and streamed. The API-specific
modules (``_chat``, ``_responses``) turn requests into attributes and responses into a
:class:`~agentguard.guard.LlmResponse` (``Summary`` here); the guard's
:class:`~agentguard.guard.LlmStep` does the rest (decision, span, usage, cost, refusal, metrics,
run totals, budget settlement).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace

from ... import _safe
from ...guard import Guard, LlmResponse, LlmStep, current_run, default_guard
from ...telemetry import semconv as sc

_RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"

Summary = LlmResponse
"""What the API modules read from a response (complete or streamed)."""


class ApiSpec:
    """How one OpenAI API (chat or responses) is read; built once per API at import."""

    __slots__ = ("input_content", "new_stream_state", "request_attributes", "summarize", "tool")

    def __init__(
        self,
        *,
        tool: str,
        request_attributes: Callable[[Mapping[str, Any], dict[str, Any]], str],
        input_content: Callable[[Mapping[str, Any], trace.Span], None],
        summarize: Callable[[Any, bool], Summary],
        new_stream_state: Callable[[], StreamState],
    ) -> None:
        self.tool = tool
        self.request_attributes = request_attributes
        """Fill request attributes into the dict; return the request model ("" when absent)."""
        self.input_content = input_content
        self.summarize = summarize
        self.new_stream_state = new_stream_state


class StreamState:
    """Accumulates a stream's chunks or events (subclassed per API)."""

    __slots__ = ()

    def add(self, item: Any) -> None:
        raise NotImplementedError

    def summary(self, capture: bool) -> Summary:
        raise NotImplementedError


_NO_SERVER: dict[str, Any] = {
    sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
    sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OPENAI,
}
_SERVERS: dict[int, tuple[Any, dict[str, Any]]] = {}
"""``id(base_url)`` -> (the URL object, the span attributes every call through it starts with).

Keyed by the identity of the client's ``base_url`` object (held in the entry, so the id stays
unique): a client whose ``base_url`` is reassigned gets a fresh entry.
"""
_SERVERS_MAX = 64


def _constant_attributes(instance: Any) -> dict[str, Any]:
    """The attributes constant per client (operation, provider, server); shared: copy before use."""
    client = getattr(instance, "_client", None)
    if client is None:
        return _NO_SERVER
    url = client.base_url
    entry = _SERVERS.get(id(url))
    if entry is not None and entry[0] is url:
        return entry[1]
    attrs = dict(_NO_SERVER)
    host = url.host
    if host:
        attrs[sc.SERVER_ADDRESS] = host
        port = url.port
        if port is not None and port != 443:
            attrs[sc.SERVER_PORT] = port
    if len(_SERVERS) >= _SERVERS_MAX:
        _SERVERS.clear()
    _SERVERS[id(url)] = (url, attrs)
    return attrs


class OpenAICall:
    """One call in flight: the guard's step plus what the adapter needs to read the response."""

    __slots__ = ("api", "capture", "raw", "step", "streaming")

    def __init__(self, api: ApiSpec, step: LlmStep, raw: str | None, streaming: bool) -> None:
        self.api = api
        self.step = step
        self.raw = raw
        """The ``X-Stainless-Raw-Response`` header: ``"true"`` (with_raw_response), ``"stream"``
        (with_streaming_response), else ``None``."""
        self.streaming = streaming
        self.capture = step.capture

    @property
    def done(self) -> bool:
        return self.step.done


def start_call(api: ApiSpec, instance: Any, kwargs: Mapping[str, Any], fixed: Guard | None) -> OpenAICall:
    """Start the guard's step for a call about to be sent."""
    run = current_run()
    guard = fixed or (run.guard if run is not None else default_guard())
    attrs = _constant_attributes(instance).copy()
    model = api.request_attributes(kwargs, attrs)
    raw: str | None = None
    headers = kwargs.get("extra_headers")
    if headers:
        raw = headers.get(_RAW_RESPONSE_HEADER)
    step = guard.start_llm(request_model=model, attributes=attrs, tool=api.tool, run=run)
    call = OpenAICall(api, step, raw, kwargs.get("stream") is True)
    if call.capture:
        span = step.span
        if span.is_recording():
            try:
                api.input_content(kwargs, span)
            except Exception as exc:
                _safe.report("openai.input_content", exc)
    return call
