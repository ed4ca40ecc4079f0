"""Messages in the GenAI conventions' role/parts schema, built from what the OpenAI SDK is given.

``gen_ai.input.messages`` and ``gen_ai.output.messages`` hold a list of ``{"role", "parts"}``
messages; ``gen_ai.system_instructions`` a list of parts. A part is ``{"type": "text", "content"}``,
``{"type": "tool_call", "id", "name", "arguments"}`` (the arguments as an object when they are JSON),
``{"type": "tool_call_response", "id", "response"}``, ``{"type": "reasoning", "content"}``,
``{"type": "uri" | "blob" | "file", "modality", ...}``, or any other ``type`` with its own fields.

>>> system, messages = chat_input([
...     {"role": "system", "content": "be brief"},
...     {"role": "user", "content": "hi"},
...     {"role": "assistant", "tool_calls": [
...         {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": '{"path": "."}'}}]},
...     {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
... ])
>>> system
[{'type': 'text', 'content': 'be brief'}]
>>> messages[0]
{'role': 'user', 'parts': [{'type': 'text', 'content': 'hi'}]}
>>> messages[1]["parts"]
[{'type': 'tool_call', 'id': 'c1', 'name': 'ls', 'arguments': {'path': '.'}}]
>>> messages[2]
{'role': 'tool', 'parts': [{'type': 'tool_call_response', 'id': 'c1', 'response': 'a.py'}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

_SYSTEM_ROLES = frozenset({"system", "developer"})
_TEXT_TYPES = frozenset({"text", "input_text", "output_text", "summary_text"})
_IMAGE_TYPES = frozenset({"image_url", "input_image"})


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` of a mapping or ``obj.key`` of an SDK object; ``None`` when absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def tool_arguments(value: Any) -> Any:
    """Tool-call arguments as an object: JSON text that holds an object or a list is parsed; any
    other text (a custom tool's free-form input, arguments cut off mid-stream) stays text."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A ``tool_call`` part."""
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": tool_arguments(arguments)}


def _response_part(call_id: Any, response: Any) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": call_id, "response": _plain_content(response)}


def _plain_content(value: Any) -> Any:
    """A tool's output as given: text stays text, a list of text parts becomes their text."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list | tuple):
        texts = [_get(p, "text") for p in value]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return value


def _dump(part: Any) -> dict[str, Any]:
    if isinstance(part, Mapping):
        return dict(part)
    dump = getattr(part, "model_dump", None)
    if callable(dump):
        found = dump(mode="json", exclude_unset=True)
        if isinstance(found, dict):
            return found
    return {"content": repr(part)}


def content_parts(content: Any) -> list[dict[str, Any]]:
    """The parts of a message's ``content``: a string, or a list of the SDK's content parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    if not isinstance(content, list | tuple):
        return [{"type": "text", "content": str(content)}]
    parts: list[dict[str, Any]] = []
    for raw in content:
        if isinstance(raw, str):
            parts.append({"type": "text", "content": raw})
            continue
        kind = _get(raw, "type")
        if kind in _TEXT_TYPES:
            parts.append({"type": "text", "content": _get(raw, "text")})
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": _get(raw, "refusal")})
        elif kind in _IMAGE_TYPES:
            image = _get(raw, "image_url")
            url = _get(image, "url") if image is not None and not isinstance(image, str) else image
            if isinstance(url, str) and url.startswith("data:"):
                mime, _, data = url[5:].partition(";base64,")
                parts.append({"type": "blob", "modality": "image", "mime_type": mime, "content": data})
            elif url is not None:
                parts.append({"type": "uri", "modality": "image", "uri": url})
            else:
                parts.append({"type": "file", "modality": "image", "file_id": _get(raw, "file_id")})
        elif kind == "input_audio":
            audio = _get(raw, "input_audio")
            fmt = _get(audio, "format")
            parts.append(
                {
                    "type": "blob",
                    "modality": "audio",
                    "mime_type": f"audio/{fmt}" if fmt else None,
                    "content": _get(audio, "data"),
                }
            )
        else:
            part = _dump(raw)
            part["type"] = kind if isinstance(kind, str) and kind else "unknown"
            parts.append(part)
    return parts


def _message(role: Any, parts: list[dict[str, Any]], name: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role if isinstance(role, str) and role else "user", "parts": parts}
    if isinstance(name, str) and name:
        message["name"] = name
    return message


def chat_input(messages: Iterable[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Chat Completions ``messages``: the system instructions' parts and the other messages."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for m in messages:
        role = _get(m, "role")
        content = _get(m, "content")
        if role in _SYSTEM_ROLES:
            system.extend(content_parts(content))
        elif role == "tool":
            out.append(_message(role, [_response_part(_get(m, "tool_call_id"), content)]))
        elif role == "function":  # the deprecated function-calling protocol
            out.append(_message("tool", [_response_part(_get(m, "name"), content)]))
        else:
            parts = content_parts(content)
            refusal = _get(m, "refusal")
            if isinstance(refusal, str) and refusal:
                parts.append({"type": "refusal", "content": refusal})
            for tc in _get(m, "tool_calls") or ():
                fn = _get(tc, "function")
                custom = _get(tc, "custom") if fn is None else None
                if fn is not None:
                    parts.append(tool_call_part(_get(tc, "id"), _get(fn, "name"), _get(fn, "arguments")))
                elif custom is not None:
                    parts.append(tool_call_part(_get(tc, "id"), _get(custom, "name"), _get(custom, "input")))
            legacy = _get(m, "function_call")
            if legacy is not None:
                parts.append(tool_call_part(None, _get(legacy, "name"), _get(legacy, "arguments")))
            out.append(_message(role, parts, _get(m, "name")))
    return system, out


def responses_input(value: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Responses API ``input`` (text, or a list of items): system/developer parts and messages."""
    if isinstance(value, str):
        return [], [_message("user", [{"type": "text", "content": value}])]
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for item in value:
        kind = _get(item, "type")
        role = _get(item, "role")
        if role is not None and kind in (None, "message"):
            if role in _SYSTEM_ROLES:
                system.extend(content_parts(_get(item, "content")))
            else:
                out.append(_message(role, content_parts(_get(item, "content"))))
        elif kind == "function_call":
            out.append(
                _message(
                    "assistant",
                    [tool_call_part(_get(item, "call_id"), _get(item, "name"), _get(item, "arguments"))],
                )
            )
        elif kind == "custom_tool_call":
            out.append(
                _message(
                    "assistant",
                    [tool_call_part(_get(item, "call_id"), _get(item, "name"), _get(item, "input"))],
                )
            )
        elif isinstance(kind, str) and kind.endswith("_call_output"):
            out.append(_message("tool", [_response_part(_get(item, "call_id"), _get(item, "output"))]))
        elif kind == "reasoning":
            texts = [_get(s, "text") for s in _get(item, "summary") or ()]
            content = "".join(t for t in texts if isinstance(t, str))
            out.append(_message("assistant", [{"type": "reasoning", "content": content}]))
        else:
            part = _dump(item)
            part["type"] = kind if isinstance(kind, str) and kind else "unknown"
            out.append(_message("assistant" if str(kind).endswith("_call") else "user", [part]))
    return system, out
