"""OpenLLMetry (traceloop) spans read into observations.

Current releases write the OTel GenAI attributes (read by :mod:`._read_genai`). This module reads the
rest:

* the indexed prompt and completion attributes of older releases: ``gen_ai.prompt.N.role`` /
  ``.content`` / ``.tool_call_id`` and ``gen_ai.completion.N.role`` / ``.content`` /
  ``.tool_calls.M.{id,name,arguments}`` (and the still older ``llm.prompts.N.*`` /
  ``llm.completions.N.*``), on spans with ``llm.request.type`` or ``gen_ai.system``;
* the traceloop SDK's decorated functions: ``traceloop.span.kind`` ``agent`` / ``workflow`` (a run:
  ``traceloop.entity.input`` the task, ``traceloop.entity.output`` the final answer) and ``tool`` (a
  tool execution: ``traceloop.entity.name``, the call's arguments from ``traceloop.entity.input``,
  which the SDK writes as ``{"args": [...], "kwargs": {...}}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._lazyre import lazy_compile
from ..detect import UNCAPTURED
from ._messages import Message, RequestedCall, ToolResponse, arguments, loads, text_of
from ._observations import (
    AgentObservation,
    ModelObservation,
    Observation,
    ToolObservation,
    content,
    error_of,
)
from ._record import Span

SPAN_KIND = "traceloop.span.kind"
ENTITY_NAME = "traceloop.entity.name"
ENTITY_INPUT = "traceloop.entity.input"
ENTITY_OUTPUT = "traceloop.entity.output"
ASSOCIATION_PREFIX = "traceloop.association.properties."
_PROMPTS = ("gen_ai.prompt.", "llm.prompts.")
_COMPLETIONS = ("gen_ai.completion.", "llm.completions.")
_KEY = lazy_compile(r"(\d+)\.(.+)")
_CALL = lazy_compile(r"tool_calls\.(\d+)\.(.+)")
ATTRIBUTES = frozenset(
    {SPAN_KIND, ENTITY_NAME, ENTITY_INPUT, ENTITY_OUTPUT, "llm.request.type", "gen_ai.system"}
)
PREFIXES = (*_PROMPTS, *_COMPLETIONS)


def read(span: Span) -> Observation | None:
    a = span.attributes
    kind = a.get(SPAN_KIND)
    if kind == "tool":
        return tool(span)
    if kind in ("agent", "workflow"):
        return AgentObservation(
            span=span,
            task=_entity_text(content(a.get(ENTITY_INPUT))),
            final=_entity_text(content(a.get(ENTITY_OUTPUT))),
            error=error_of(span),
        )
    request_type = a.get("llm.request.type")
    if request_type is not None or "gen_ai.system" in a:
        inputs = indexed(a, _PROMPTS)
        outputs = indexed(a, _COMPLETIONS, role="assistant")
        if inputs or outputs or request_type in ("chat", "completion"):  # a model call, content or not
            return ModelObservation(span=span, inputs=inputs, outputs=outputs)
    return None


def indexed(attrs: Mapping[str, Any], prefixes: tuple[str, ...], *, role: str = "") -> list[Message]:
    """Messages from ``prefix N.field`` attributes, in index order (gaps skipped)."""
    fields: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                m = _KEY.fullmatch(key, len(prefix))
                if m is not None:
                    fields.setdefault(int(m.group(1)), {})[m.group(2)] = value
                break
    out: list[Message] = []
    for index in sorted(fields):
        f = fields[index]
        calls: dict[int, dict[str, Any]] = {}
        for key, value in f.items():
            if (c := _CALL.fullmatch(key)) is not None:
                calls.setdefault(int(c.group(1)), {})[c.group(2)] = value
        got = f.get("role")
        msg_role = got if isinstance(got, str) and got else role
        raw_content = content(f.get("content"))
        text = raw_content if isinstance(raw_content, str) else ""
        parsed = loads(text) if text[:1] == "[" else None
        if isinstance(parsed, list):  # content parts serialised as JSON
            text = text_of(parsed)
        requested = []
        for j in sorted(calls):
            call = calls[j]
            name = call.get("name")
            if isinstance(name, str) and name:
                args, raw = arguments(content(call.get("arguments")))
                requested.append(
                    RequestedCall(id=str(call.get("id") or ""), name=name, arguments=args, raw=raw)
                )
        responses: tuple[ToolResponse, ...] = ()
        if msg_role == "tool":
            responses = (ToolResponse(id=str(f.get("tool_call_id") or ""), text=text),)
            text = ""
        out.append(Message(role=msg_role, text=text, calls=tuple(requested), responses=responses))
    return out


def _entity_text(value: Any) -> str | None:
    if value is None:
        return None
    parsed = loads(value)
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, Mapping):
        args = parsed.get("args")
        kwargs = parsed.get("kwargs")
        if isinstance(args, list) and args and isinstance(args[0], str):
            return args[0]
        if isinstance(kwargs, Mapping):
            for v in kwargs.values():
                if isinstance(v, str):
                    return v
        for key in ("output", "result", "text", "content"):
            if isinstance(parsed.get(key), str):
                return str(parsed[key])
    return value if isinstance(value, str) else None


def tool(span: Span) -> ToolObservation:
    a = span.attributes
    name = a.get(ENTITY_NAME)
    if not isinstance(name, str) or not name:
        name = span.name.removesuffix(".tool") or "tool"
    args: Mapping[str, Any] = UNCAPTURED
    raw = content(a.get(ENTITY_INPUT))
    if raw is not None:
        parsed = loads(raw)
        if isinstance(parsed, Mapping) and ("kwargs" in parsed or "args" in parsed):
            kwargs = parsed.get("kwargs")
            args = dict(kwargs) if isinstance(kwargs, Mapping) else {}
            positional = parsed.get("args")
            if isinstance(positional, list) and positional:
                args = {**{f"arg{i}": v for i, v in enumerate(positional)}, **args}
                if len(positional) == 1 and isinstance(positional[0], Mapping):
                    args = {**dict(positional[0]), **args}
                    args.pop("arg0", None)
        else:
            args, _ = arguments(raw)
    output = content(a.get(ENTITY_OUTPUT))
    result = None
    if output is not None:
        parsed_out = loads(output)
        result = parsed_out if isinstance(parsed_out, str) else str(output)
    return ToolObservation(span=span, name=name, arguments=args, result=result, error=error_of(span))
