"""OpenInference spans (Arize Phoenix's conventions) read into observations.

``openinference.span.kind`` decides: ``AGENT`` is an agent run (``input.value`` the task,
``output.value`` the final answer), ``LLM`` a model call and ``TOOL`` a tool execution. Messages are
flattened attributes, ``llm.input_messages.N.message.role`` / ``.content`` /
``.contents.M.message_content.text`` / ``.tool_call_id`` and
``llm.output_messages.N.message.tool_calls.M.tool_call.{id,function.name,function.arguments}``; any
index may be missing. Without them, ``input.value`` / ``output.value`` (the request and response bodies
as JSON) are read instead. A TOOL span's arguments are ``tool.parameters`` or ``input.value`` (a JSON
object; a JSON Schema in ``tool.parameters`` describes the tool and is not taken as its arguments), its
result ``output.value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._lazyre import lazy_compile
from ..detect import UNCAPTURED
from ._messages import Message, RequestedCall, ToolResponse, arguments, loads, parse_messages, text_of
from ._observations import (
    AgentObservation,
    ModelObservation,
    Observation,
    ToolObservation,
    content,
    error_of,
)
from ._record import Span

SPAN_KIND = "openinference.span.kind"
SESSION_ID = "session.id"
INPUT_VALUE = "input.value"
OUTPUT_VALUE = "output.value"
TOOL_NAME = "tool.name"
TOOL_PARAMETERS = "tool.parameters"
TOOL_CALL_ID = "tool_call.id"
_INPUT_PREFIX = "llm.input_messages."
_OUTPUT_PREFIX = "llm.output_messages."
_KEY = lazy_compile(r"(\d+)\.message\.(.+)")
_CALL = lazy_compile(r"tool_calls\.(\d+)\.tool_call\.(.+)")
_PART = lazy_compile(r"contents\.(\d+)\.message_content\.(.+)")
ATTRIBUTES = frozenset({SPAN_KIND, INPUT_VALUE, OUTPUT_VALUE, TOOL_NAME, TOOL_PARAMETERS, TOOL_CALL_ID})
PREFIXES = (_INPUT_PREFIX, _OUTPUT_PREFIX)


def read(span: Span) -> Observation | None:
    a = span.attributes
    kind = a.get(SPAN_KIND)
    if not isinstance(kind, str):
        return None
    kind = kind.upper()
    if kind == "LLM":
        return model(span)
    if kind == "TOOL":
        return tool(span)
    if kind == "AGENT":
        task = _text(content(a.get(INPUT_VALUE)))
        final = _text(content(a.get(OUTPUT_VALUE)))
        return AgentObservation(span=span, task=task, final=final, error=error_of(span))
    return None


def _text(value: Any) -> str | None:
    """A plain text from ``input.value``/``output.value``: the string, or the text a JSON value holds."""
    if value is None:
        return None
    parsed = loads(value)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, Mapping):
        messages = parse_messages(parsed)
        for m in reversed(messages):
            if m.text.strip():
                return m.text
        for key in ("output", "final_output", "input", "text", "content", "result"):
            inner = parsed.get(key)
            if isinstance(inner, str):
                return inner
    if isinstance(parsed, list):
        text = text_of([m for m in parsed if isinstance(m, (str, Mapping))])
        if text:
            return text
    return value if isinstance(value, str) else None


def flattened(attrs: Mapping[str, Any], prefix: str, *, role: str = "") -> list[Message]:
    """Messages from flattened ``prefix N.message.*`` attributes, in index order (gaps skipped)."""
    fields: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if not key.startswith(prefix):
            continue
        m = _KEY.fullmatch(key, len(prefix))
        if m is not None:
            fields.setdefault(int(m.group(1)), {})[m.group(2)] = value
    out: list[Message] = []
    for index in sorted(fields):
        f = fields[index]
        calls: dict[int, dict[str, Any]] = {}
        parts: dict[int, dict[str, Any]] = {}
        for key, value in f.items():
            if (c := _CALL.fullmatch(key)) is not None:
                calls.setdefault(int(c.group(1)), {})[c.group(2)] = value
            elif (p := _PART.fullmatch(key)) is not None:
                parts.setdefault(int(p.group(1)), {})[p.group(2)] = value
        got = f.get("role")
        msg_role = got if isinstance(got, str) and got else role
        text = content(f.get("content"))
        texts = [text] if isinstance(text, str) else []
        texts += [
            str(parts[j].get("text"))
            for j in sorted(parts)
            if parts[j].get("type", "text") == "text" and isinstance(content(parts[j].get("text")), str)
        ]
        requested = []
        for j in sorted(calls):
            call = calls[j]
            name = call.get("function.name")
            if not isinstance(name, str) or not name:
                continue
            args, raw = arguments(content(call.get("function.arguments")))
            requested.append(RequestedCall(id=str(call.get("id") or ""), name=name, arguments=args, raw=raw))
        responses: tuple[ToolResponse, ...] = ()
        if msg_role == "tool":
            responses = (ToolResponse(id=str(f.get("tool_call_id") or ""), text="".join(texts)),)
            texts = []
        out.append(Message(role=msg_role, text="".join(texts), calls=tuple(requested), responses=responses))
    return out


def model(span: Span) -> ModelObservation:
    a = span.attributes
    inputs = flattened(a, _INPUT_PREFIX)
    outputs = flattened(a, _OUTPUT_PREFIX, role="assistant")
    if not inputs:
        inputs = parse_messages(content(a.get(INPUT_VALUE)))
    if not outputs:
        outputs = parse_messages(content(a.get(OUTPUT_VALUE)), role="assistant")
    return ModelObservation(span=span, inputs=inputs, outputs=outputs)


def _is_schema(value: Mapping[str, Any]) -> bool:
    return value.get("type") == "object" and isinstance(value.get("properties"), Mapping)


def tool(span: Span) -> ToolObservation:
    a = span.attributes
    name = a.get(TOOL_NAME)
    if not isinstance(name, str) or not name:
        name = span.name or "tool"
    args: Mapping[str, Any] | None = None
    for key in (TOOL_PARAMETERS, INPUT_VALUE):
        value = content(a.get(key))
        if value is None:
            continue
        parsed, _ = arguments(value)
        if isinstance(loads(value), Mapping) and _is_schema(parsed):
            continue
        args = parsed
        break
    call_id = a.get(TOOL_CALL_ID)
    output = content(a.get(OUTPUT_VALUE))
    return ToolObservation(
        span=span,
        name=name,
        call_id=call_id if isinstance(call_id, str) else "",
        arguments=args if args is not None else UNCAPTURED,
        result=output if isinstance(output, str) else (None if output is None else str(output)),
        error=error_of(span),
    )
