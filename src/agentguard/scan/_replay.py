"""Recorded spans back into the detector event stream (the offline half of :mod:`agentguard.detect`).

Reads GenAI semantic-convention attributes, so traces from other instrumentations work too:
``gen_ai.operation.name`` (``invoke_agent``, ``execute_tool``, ``chat``...), ``gen_ai.tool.name``,
``gen_ai.tool.call.arguments``/``.result``, ``gen_ai.output.messages``, span status; plus ours:
``agentguard.task``, ``agentguard.scope.*`` on the run span, ``agentguard.tool.kind``,
``agentguard.policy.decision`` events, ``agentguard.refusal`` and ``agentguard.file.diff``. Tool names
map to kinds through the normaliser's tool profiles (Claude Code, Codex, MCP, ours).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .. import semconv as sc
from ..action import ACTION_KINDS, CANONICAL_ARGUMENTS, CANONICAL_BY_KIND, Action
from ..detect._events import (
    UNCAPTURED,
    Event,
    LLMTurn,
    PolicyEvent,
    RunEnd,
    RunStart,
    ToolCall,
    ToolResult,
    change_from_arguments,
    change_from_diff,
)
from ._spans import SpanData

WANTED: frozenset[str] = frozenset(
    {
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_CONVERSATION_ID,
        sc.RUN_ID,
        sc.TASK,
        sc.SCOPE_ROOT,
        sc.SCOPE_WRITE,
        sc.SCOPE_HOSTS,
        sc.GEN_AI_OUTPUT_MESSAGES,
        sc.GEN_AI_TOOL_NAME,
        sc.GEN_AI_TOOL_CALL_ARGUMENTS,
        sc.GEN_AI_TOOL_CALL_RESULT,
        sc.GEN_AI_TOOL_CALL_ID,
        sc.TOOL_KIND,
        sc.FILE_DIFF,
        sc.REFUSAL,
    }
)
"""The span attributes the replay reads (others are not decoded)."""
_LLM_OPS = frozenset({"chat", "text_completion", "generate_content", "responses"})
_ERROR = 2


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


# What the tool wrapper finds by parameter name for each kind: spans that carry
# ``agentguard.tool.kind`` were written by it, so the same table gives the same action.
_CANDIDATES = CANONICAL_ARGUMENTS
_BY_KIND = CANONICAL_BY_KIND


def _action(span: SpanData) -> Action:
    a = span.attrs
    tool = str(a.get(sc.GEN_AI_TOOL_NAME) or span.name.removeprefix("execute_tool ").strip() or "tool")
    raw = a.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)
    parsed = _json(raw)
    args: dict[str, Any] = parsed if isinstance(parsed, dict) else ({} if raw is not None else UNCAPTURED)
    kind = a.get(sc.TOOL_KIND)
    if isinstance(kind, str) and kind in ACTION_KINDS:
        action = Action(kind=kind, tool=tool, arguments=args)  # type: ignore[arg-type]
        for canonical in _BY_KIND.get(kind, ()):
            for name in _CANDIDATES[canonical]:
                value = args.get(name)
                if value is not None:
                    setattr(action, canonical, value if isinstance(value, str) else str(value))
                    break
    else:  # another instrumentation's span: the tool profiles (Claude Code, Codex, MCP) decide
        from ..normalise import action_from_tool_call

        action = action_from_tool_call(tool, args)
    call_id = a.get(sc.GEN_AI_TOOL_CALL_ID)
    if isinstance(call_id, str):
        action.call_id = call_id
    return action


def _final_text(messages: Any) -> str | None:
    """The text of the last assistant message in GenAI ``output.messages`` (parts or plain content)."""
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if not isinstance(message, dict):
            continue
        parts = message.get("parts")
        if isinstance(parts, list):
            texts = [
                str(p.get("content") or "") for p in parts if isinstance(p, dict) and p.get("type") == "text"
            ]
            return "".join(texts)
        content = message.get("content")
        if isinstance(content, str):
            return content
    return None


def _first_text(messages: Any) -> str:
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return ""
    return _final_text(messages[:1]) or ""


def span_events(span: SpanData) -> Iterator[tuple[int, int, Event]]:
    """``(time, order, event)`` for one span; ``order`` keeps a span's own events in sequence."""
    a = span.attrs
    op = a.get(sc.GEN_AI_OPERATION_NAME)
    sid = span.span_id
    if op == sc.OP_INVOKE_AGENT:
        yield (
            span.start,
            0,
            RunStart(
                span_id=sid,
                task=a.get(sc.TASK),
                scope_root=a.get(sc.SCOPE_ROOT),
                scope_write=_tuple(a.get(sc.SCOPE_WRITE)),
                scope_hosts=_tuple(a.get(sc.SCOPE_HOSTS)),
            ),
        )
        final = _final_text(_json(a.get(sc.GEN_AI_OUTPUT_MESSAGES)))
        error = (span.status_message or "error") if span.status == _ERROR else None
        yield span.end, 9, RunEnd(span_id=sid, final=final, error=error)
    elif op == sc.OP_EXECUTE_TOOL or (sc.GEN_AI_TOOL_NAME in a and op is None):
        action = _action(span)
        yield span.start, 1, ToolCall(span_id=sid, action=action)
        for name, t, ev_attrs in span.events:
            if name == sc.EVENT_POLICY_DECISION:
                yield (
                    t,
                    2,
                    PolicyEvent(
                        span_id=sid,
                        action=action,
                        outcome=str(ev_attrs.get(sc.POLICY_DECISION) or ""),
                        rule_ids=_tuple(ev_attrs.get(sc.POLICY_RULE_IDS)),
                        reason=str(ev_attrs.get(sc.POLICY_REASON) or ""),
                    ),
                )
        error = (span.status_message or "error") if span.status == _ERROR else None
        change = None
        if action.kind == "file_write" and error is None:
            diff = a.get(sc.FILE_DIFF)
            change = (
                change_from_diff(action.path or "", diff)
                if isinstance(diff, str) and diff
                else change_from_arguments(action)
            )
        output = a.get(sc.GEN_AI_TOOL_CALL_RESULT)
        yield (
            span.end,
            3,
            ToolResult.from_text(
                span_id=sid,
                action=action,
                output=output if isinstance(output, str) else None,
                error=error,
                change=change,
            ),
        )
    elif op in _LLM_OPS or sc.GEN_AI_OUTPUT_MESSAGES in a:
        messages = _json(a.get(sc.GEN_AI_OUTPUT_MESSAGES))
        calls = tuple(
            (str(e.get(sc.GEN_AI_TOOL_NAME) or ""), str(e.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS) or ""))
            for name, _, e in span.events
            if name == sc.EVENT_TOOL_CALL
        )
        yield (
            span.end,
            4,
            LLMTurn(
                span_id=sid, text=_first_text(messages), tool_calls=calls, refusal=bool(a.get(sc.REFUSAL))
            ),
        )


def session_events(spans: Iterable[SpanData]) -> list[Event]:
    """Every event of a session's spans, in time order."""
    timed: list[tuple[int, int, int, Event]] = []
    n = 0
    for span in spans:
        for t, order, ev in span_events(span):
            timed.append((t, order, n, ev))
            n += 1
    timed.sort(key=lambda x: (x[0], x[1], x[2]))
    return [ev for _, _, _, ev in timed]
