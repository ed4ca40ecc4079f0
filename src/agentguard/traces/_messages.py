"""Chat messages as every convention records them, read into one small model.

A :class:`Message` is a role, its text, the tool calls it asks for (:class:`RequestedCall`) and the
tool results it carries (:class:`ToolResponse`). :func:`parse_messages` reads the shapes seen in the
wild:

* OTel GenAI ``gen_ai.input.messages`` / ``gen_ai.output.messages``: ``{"role", "parts": [...]}`` with
  ``text``, ``tool_call`` (``id``, ``name``, ``arguments`` as an object or a JSON string) and
  ``tool_call_response`` (``id``, ``response`` or ``result``) parts, as a JSON string or as structured
  values (log events carry them as ``kvlist`` values);
* OpenAI-shaped messages (older instrumentations, OpenInference ``input.value``): ``content`` as a
  string or a list of ``{"type": "text", "text"}`` items, ``tool_calls`` as
  ``{"id", "function": {"name", "arguments"}}``, ``tool_call_id`` on tool messages;
* a bare string (a prompt or a completion's text).

Anything else is skipped: a reader never raises on what it does not understand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..detect import UNCAPTURED


@dataclass(frozen=True, slots=True)
class RequestedCall:
    """A tool call a model asked for: ``arguments`` is ``UNCAPTURED`` when they were not recorded."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    raw: str
    """The arguments as JSON text (what the model sent), ``""`` when unknown."""


@dataclass(frozen=True, slots=True)
class ToolResponse:
    """A tool's result as the next model call saw it."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    text: str = ""
    calls: tuple[RequestedCall, ...] = ()
    responses: tuple[ToolResponse, ...] = ()


def loads(value: Any) -> Any:
    """``value`` parsed when it is JSON text, else ``value`` itself (``None`` for malformed JSON that
    does not look like plain text)."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{", '"'):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def arguments(value: Any) -> tuple[Mapping[str, Any], str]:
    """Tool-call arguments given as an object or as JSON text: the mapping (``UNCAPTURED`` when absent,
    ``{"input": text}`` for text that is not a JSON object) and the JSON text."""
    if value is None:
        return UNCAPTURED, ""
    if isinstance(value, Mapping):
        return dict(value), json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str):
        parsed = loads(value)
        if isinstance(parsed, str) and parsed is value and value.lstrip()[:1] == "{":
            parsed = _leading_object(value)
        if isinstance(parsed, Mapping):
            return dict(parsed), value
        if parsed == "" or value == "":
            return {}, value
        return {"input": value}, value
    return {"input": value}, json.dumps(value, ensure_ascii=False, default=str)


def _leading_object(text: str) -> Any:
    """The JSON object at the start of ``text`` when more follows it (some stream accumulators write a
    call's arguments twice over), else ``text``."""
    try:
        value, _ = _DECODER.raw_decode(text.lstrip())
    except ValueError:
        return text
    return value


_DECODER = json.JSONDecoder()


def text_of(value: Any) -> str:
    """The text of a content value: a string, or the text items of a list of content parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("text", "content", "value"):
            inner = value.get(key)
            if isinstance(inner, str):
                return inner
        return ""
    if isinstance(value, Iterable):
        return "".join(text_of(v) for v in value if _is_text_part(v))
    return str(value)


def _is_text_part(part: Any) -> bool:
    if isinstance(part, str):
        return True
    if not isinstance(part, Mapping):
        return False
    kind = part.get("type")
    return kind is None or kind in ("text", "input_text", "output_text")


def _result_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        texts = [text_of(v) for v in value]
        if any(texts):
            return "".join(texts)
    return json.dumps(value, ensure_ascii=False, default=str)


def _call(raw: Mapping[str, Any]) -> RequestedCall | None:
    function = raw.get("function")
    source = function if isinstance(function, Mapping) else raw
    name = source.get("name")
    if not isinstance(name, str) or not name:
        return None
    args, text = arguments(source.get("arguments", source.get("input")))
    call_id = raw.get("id") or raw.get("call_id") or raw.get("tool_call_id") or ""
    return RequestedCall(id=str(call_id), name=name, arguments=args, raw=text)


def message(raw: Any, *, role: str = "") -> Message | None:
    """One message in any of the shapes above, or ``None``."""
    if isinstance(raw, str):
        return Message(role=role, text=raw)
    if not isinstance(raw, Mapping):
        return None
    got = raw.get("role")
    role = got if isinstance(got, str) and got else role
    texts: list[str] = []
    calls: list[RequestedCall] = []
    responses: list[ToolResponse] = []
    parts = raw.get("parts")
    if isinstance(parts, list):
        for part in parts:
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type")
            if kind in ("text", None) and isinstance(part.get("content"), str):
                texts.append(part["content"])
            elif kind == "tool_call":
                call = _call(part)
                if call is not None:
                    calls.append(call)
            elif kind == "tool_call_response":
                result = part.get("response", part.get("result", part.get("content")))
                responses.append(ToolResponse(id=str(part.get("id") or ""), text=_result_text(result)))
    content = raw.get("content")
    if content is not None and not isinstance(parts, list):
        if role == "tool":
            call_id = raw.get("tool_call_id") or raw.get("id") or ""
            responses.append(ToolResponse(id=str(call_id), text=_result_text(content)))
        else:
            texts.append(text_of(content))
    tool_calls = raw.get("tool_calls")
    if isinstance(tool_calls, list):
        for item in tool_calls:
            if isinstance(item, Mapping):
                call = _call(item)
                if call is not None:
                    calls.append(call)
    return Message(role=role, text="".join(texts), calls=tuple(calls), responses=tuple(responses))


def parse_messages(value: Any, *, role: str = "") -> list[Message]:
    """Every message of a recorded message list (JSON text or structured), in order."""
    value = loads(value)
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        if isinstance(value.get("messages"), list):  # a request body: {"messages": [...]}
            value = value["messages"]
        elif isinstance(value.get("choices"), list):  # a Chat Completions response
            value = [c.get("message") for c in value["choices"] if isinstance(c, Mapping)]
        else:
            value = [value]
    elif not isinstance(value, list):
        value = [value]
    out: list[Message] = []
    for item in value:
        parsed = message(item, role=role)
        if parsed is not None:
            out.append(parsed)
    return out
