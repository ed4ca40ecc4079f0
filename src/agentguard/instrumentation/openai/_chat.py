"""Chat Completions: request attributes, response summary, stream accumulation.

Reads the SDK's response objects by attribute (no ``model_dump`` on the hot path) and the request
from the keyword arguments the SDK method was called with (every parameter is keyword-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

from ...telemetry import chat_input, to_text, tool_call_part
from ...telemetry import semconv as sc
from ._record import ApiSpec, StreamState, Summary

_NUMBER = (int, float)

# What request_attributes does with each keyword it reads; one lookup per keyword the caller passed.
_NUMERIC, _MAX_COMPLETION, _MAX, _STOP, _SEED, _N, _STREAM = range(7)
_PARAMS: dict[str, tuple[int, str]] = {
    "temperature": (_NUMERIC, sc.GEN_AI_REQUEST_TEMPERATURE),
    "top_p": (_NUMERIC, sc.GEN_AI_REQUEST_TOP_P),
    "frequency_penalty": (_NUMERIC, sc.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    "presence_penalty": (_NUMERIC, sc.GEN_AI_REQUEST_PRESENCE_PENALTY),
    "max_completion_tokens": (_MAX_COMPLETION, sc.GEN_AI_REQUEST_MAX_TOKENS),
    "max_tokens": (_MAX, sc.GEN_AI_REQUEST_MAX_TOKENS),
    "stop": (_STOP, sc.GEN_AI_REQUEST_STOP_SEQUENCES),
    "seed": (_SEED, sc.GEN_AI_REQUEST_SEED),
    "n": (_N, sc.GEN_AI_REQUEST_CHOICE_COUNT),
    "stream": (_STREAM, sc.GEN_AI_REQUEST_STREAM),
}


def request_attributes(kwargs: Mapping[str, Any], attrs: dict[str, Any]) -> str:
    model = kwargs.get("model")
    if not isinstance(model, str):
        model = ""
    attrs[sc.GEN_AI_REQUEST_MODEL] = model
    params = _PARAMS.get
    for key, value in kwargs.items():
        param = params(key)
        if param is None:
            continue
        kind, attr = param
        if kind == _NUMERIC:
            if type(value) in _NUMBER:
                attrs[attr] = value
        elif kind == _MAX_COMPLETION:
            if type(value) is int:
                attrs[attr] = value  # wins over max_tokens, whichever comes first
        elif kind == _MAX:
            if type(value) is int and type(kwargs.get("max_completion_tokens")) is not int:
                attrs[attr] = value
        elif kind == _STOP:
            if isinstance(value, str):
                attrs[attr] = (value,)
            elif isinstance(value, list | tuple):
                attrs[attr] = tuple(s for s in value if isinstance(s, str))
        elif kind == _SEED:
            if type(value) is int:
                attrs[attr] = value
        elif kind == _N:
            if type(value) is int and value != 1:
                attrs[attr] = value
        elif value is True:  # stream
            attrs[attr] = True
    return model


def input_content(kwargs: Mapping[str, Any], span: trace.Span) -> None:
    messages = kwargs.get("messages")
    if not isinstance(messages, list | tuple):  # never consume a user's iterator
        return
    system, others = chat_input(messages)
    if system:
        span.set_attribute(sc.GEN_AI_SYSTEM_INSTRUCTIONS, to_text(system))
    span.set_attribute(sc.GEN_AI_INPUT_MESSAGES, to_text(others))


def _usage(summary: Summary, usage: Any) -> None:
    summary.input_tokens = getattr(usage, "prompt_tokens", None)
    summary.output_tokens = getattr(usage, "completion_tokens", None)
    details = getattr(usage, "prompt_tokens_details", None)
    if details is not None:
        summary.cache_read_tokens = getattr(details, "cached_tokens", None)
        summary.cache_write_tokens = getattr(details, "cache_write_tokens", None)
    details = getattr(usage, "completion_tokens_details", None)
    if details is not None:
        summary.reasoning_tokens = getattr(details, "reasoning_tokens", None)


def _tool_call(tc: Any) -> tuple[str, str, str | None]:
    fn = getattr(tc, "function", None)
    if fn is not None:
        return fn.name, tc.id, fn.arguments
    custom = getattr(tc, "custom", None)
    if custom is not None:
        return custom.name, tc.id, custom.input
    return "", tc.id, None


def _output_message(
    text: str | None, refusal: str | None, tools: list[tuple[str, str, str | None]], finish: str | None
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if text:
        parts.append({"type": "text", "content": text})
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    for name, call_id, arguments in tools:
        parts.append(tool_call_part(call_id, name, arguments))
    return {"role": "assistant", "parts": parts, "finish_reason": finish or ""}


def summarize(completion: Any, capture: bool) -> Summary:
    s = Summary()
    s.response_model = completion.model
    s.response_id = completion.id
    usage = completion.usage
    if usage is not None:
        _usage(s, usage)
    reasons: list[str] = []
    api_refusal = content_filter = False
    outputs: list[dict[str, Any]] | None = [] if capture else None
    first = True
    for choice in completion.choices:
        finish = choice.finish_reason
        if finish:
            reasons.append(finish)
            if finish == "content_filter":
                content_filter = True
        message = choice.message
        if message is None:
            continue
        if message.refusal:
            api_refusal = True
        calls = message.tool_calls
        tools = [_tool_call(tc) for tc in calls] if calls else []
        if tools:
            s.tool_calls.extend(tools)
        if first:
            s.text = message.content or ""
            first = False
        if outputs is not None:
            outputs.append(_output_message(message.content, message.refusal, tools, finish))
    s.finish_reasons = tuple(reasons)
    s.output_messages = outputs
    if api_refusal:
        s.refusal_source = "api"
    elif content_filter:
        s.refusal_source = "content_filter"
    return s


class _Choice:
    __slots__ = ("finish_reason", "refusal", "text", "tools")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tools: dict[int, list[Any]] = {}
        """tool call index -> [id, name, argument pieces]"""
        self.finish_reason: str | None = None


class ChatStreamState(StreamState):
    """Accumulates ``ChatCompletionChunk`` objects."""

    __slots__ = ("choices", "id", "model", "usage")

    def __init__(self) -> None:
        self.model: str | None = None
        self.id: str | None = None
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def add(self, item: Any) -> None:
        model = item.model
        if model:
            self.model = model
        if self.id is None:
            self.id = item.id
        usage = item.usage
        if usage is not None:
            self.usage = usage
        choices = self.choices
        for choice in item.choices:
            acc = choices.get(choice.index)
            if acc is None:
                acc = choices[choice.index] = _Choice()
            delta = choice.delta
            if delta is not None:
                content = delta.content
                if content:
                    acc.text.append(content)
                refusal = delta.refusal
                if refusal:
                    acc.refusal.append(refusal)
                calls = delta.tool_calls
                if calls:
                    for tc in calls:
                        entry = acc.tools.get(tc.index)
                        if entry is None:
                            entry = acc.tools[tc.index] = [None, None, []]
                        if tc.id:
                            entry[0] = tc.id
                        fn = tc.function
                        if fn is not None:
                            if fn.name:
                                entry[1] = fn.name
                            if fn.arguments:
                                entry[2].append(fn.arguments)
            if choice.finish_reason:
                acc.finish_reason = choice.finish_reason

    def summary(self, capture: bool) -> Summary:
        s = Summary()
        s.response_model = self.model
        s.response_id = self.id
        if self.usage is not None:
            _usage(s, self.usage)
        reasons: list[str] = []
        api_refusal = content_filter = False
        outputs: list[dict[str, Any]] | None = [] if capture else None
        for index in sorted(self.choices):
            acc = self.choices[index]
            finish = acc.finish_reason
            if finish:
                reasons.append(finish)
                if finish == "content_filter":
                    content_filter = True
            if acc.refusal:
                api_refusal = True
            tools: list[tuple[str, str, str | None]] = [
                (entry[1] or "", entry[0] or "", "".join(entry[2])) for _, entry in sorted(acc.tools.items())
            ]
            s.tool_calls.extend(tools)
            text = "".join(acc.text)
            if index == 0:
                s.text = text
            if outputs is not None:
                outputs.append(_output_message(text, "".join(acc.refusal), tools, finish))
        s.finish_reasons = tuple(reasons)
        s.output_messages = outputs
        if api_refusal:
            s.refusal_source = "api"
        elif content_filter:
            s.refusal_source = "content_filter"
        return s


CHAT = ApiSpec(
    tool="openai.chat",
    request_attributes=request_attributes,
    input_content=input_content,
    summarize=summarize,
    new_stream_state=ChatStreamState,
)
