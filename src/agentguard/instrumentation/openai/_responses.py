"""Responses API: request attributes, response summary, stream accumulation.

Output items of type ``function_call`` are the tool calls; ``refusal`` content parts are API
refusals; a response ``incomplete`` because of ``content_filter`` is a content-filter refusal.
Streams are summarised from the final ``response.completed`` / ``response.incomplete`` /
``response.failed`` event, which carries the whole response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

from ...telemetry import responses_input, to_text, tool_call_part
from ...telemetry import semconv as sc
from ._record import ApiSpec, StreamState, Summary

_NUMBER = (int, float)
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_EARLY_EVENTS = frozenset({"response.created", "response.in_progress"})
# incomplete_details.reason -> finish reason in the words Chat Completions uses
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


def request_attributes(kwargs: Mapping[str, Any], attrs: dict[str, Any]) -> str:
    get = kwargs.get
    model = get("model")
    if not isinstance(model, str):
        model = ""
    attrs[sc.GEN_AI_REQUEST_MODEL] = model
    max_tokens = get("max_output_tokens")
    if type(max_tokens) is int:
        attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    value = get("temperature")
    if value is not None and type(value) in _NUMBER:
        attrs[sc.GEN_AI_REQUEST_TEMPERATURE] = value
    value = get("top_p")
    if value is not None and type(value) in _NUMBER:
        attrs[sc.GEN_AI_REQUEST_TOP_P] = value
    if get("stream") is True:
        attrs[sc.GEN_AI_REQUEST_STREAM] = True
    return model


def input_content(kwargs: Mapping[str, Any], span: trace.Span) -> None:
    instructions = kwargs.get("instructions")
    value = kwargs.get("input")
    if isinstance(value, str | list | tuple):  # never consume a user's iterator
        system, messages = responses_input(value)
    else:
        system, messages = [], None
    if isinstance(instructions, str) and instructions:
        system.insert(0, {"type": "text", "content": instructions})
    if system:
        span.set_attribute(sc.GEN_AI_SYSTEM_INSTRUCTIONS, to_text(system))
    if messages is not None:
        span.set_attribute(sc.GEN_AI_INPUT_MESSAGES, to_text(messages))


def summarize(response: Any, capture: bool) -> Summary:
    s = Summary()
    s.response_model = response.model
    s.response_id = response.id
    usage = response.usage
    if usage is not None:
        s.input_tokens = getattr(usage, "input_tokens", None)
        s.output_tokens = getattr(usage, "output_tokens", None)
        details = getattr(usage, "input_tokens_details", None)
        if details is not None:
            s.cache_read_tokens = getattr(details, "cached_tokens", None)
            s.cache_write_tokens = getattr(details, "cache_write_tokens", None)
        details = getattr(usage, "output_tokens_details", None)
        if details is not None:
            s.reasoning_tokens = getattr(details, "reasoning_tokens", None)
    texts: list[str] = []
    refusals: list[str] = []
    for item in response.output or ():
        kind = item.type
        if kind == "message":
            for part in item.content or ():
                part_type = part.type
                if part_type == "output_text":
                    texts.append(part.text)
                elif part_type == "refusal":
                    refusals.append(part.refusal)
        elif kind == "function_call":
            s.tool_calls.append((item.name, item.call_id, item.arguments))
    status = response.status
    incomplete = response.incomplete_details
    reason = incomplete.reason if incomplete is not None else None
    if status == "completed":
        finish = "tool_calls" if s.tool_calls else "stop"
    elif status == "incomplete":
        finish = _INCOMPLETE_REASONS.get(reason or "", reason or "incomplete")
    elif status == "failed":
        finish = "error"
    else:
        finish = status or ""
    if finish:
        s.finish_reasons = (finish,)
    if refusals:
        s.refusal_source = "api"
    elif status == "incomplete" and reason == "content_filter":
        s.refusal_source = "content_filter"
    s.text = "".join(texts)
    if capture:
        parts: list[dict[str, Any]] = []
        if s.text:
            parts.append({"type": "text", "content": s.text})
        parts.extend({"type": "refusal", "content": r} for r in refusals)
        parts.extend(tool_call_part(call_id, name, arguments) for name, call_id, arguments in s.tool_calls)
        s.output_messages = [{"role": "assistant", "parts": parts, "finish_reason": finish}]
    return s


class ResponsesStreamState(StreamState):
    """Keeps the final response of a Responses event stream (model and id from the first event)."""

    __slots__ = ("final", "id", "model")

    def __init__(self) -> None:
        self.final: Any = None
        self.model: str | None = None
        self.id: str | None = None

    def add(self, item: Any) -> None:
        kind = item.type
        if kind in _FINAL_EVENTS:
            self.final = item.response
        elif kind in _EARLY_EVENTS:
            response = item.response
            self.model = response.model
            self.id = response.id

    def summary(self, capture: bool) -> Summary:
        if self.final is not None:
            return summarize(self.final, capture)
        s = Summary()  # the stream ended before the response did
        s.response_model = self.model
        s.response_id = self.id
        return s


RESPONSES = ApiSpec(
    tool="openai.responses",
    request_attributes=request_attributes,
    input_content=input_content,
    summarize=summarize,
    new_stream_state=ResponsesStreamState,
)
