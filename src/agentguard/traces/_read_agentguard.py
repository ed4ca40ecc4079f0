"""agentguard's own convention read back into the detector event stream (the offline half of
:mod:`agentguard.detect`), registered as the ``agentguard`` reader.

Reads GenAI semantic-convention attributes, so traces from other instrumentations work too:
``gen_ai.operation.name`` (``invoke_agent``, ``execute_tool``, ``chat``...), ``gen_ai.tool.name``,
``gen_ai.tool.call.arguments``/``.result``, ``gen_ai.output.messages``, span status; plus ours:
``agentguard.task``, ``agentguard.scope.*`` on the run span, ``agentguard.tool.kind``,
``agentguard.policy.decision`` events, ``agentguard.refusal`` and ``agentguard.file.diff``. Tool names
map to kinds through the normaliser's tool profiles (Claude Code, Codex, MCP, ours).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .. import semconv as sc
from ..action import ACTION_KINDS, CANONICAL_ARGUMENTS, CANONICAL_BY_KIND, Action
from ..detect import (
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
from ._json import json_or_none
from ._readers import Reader, TimedEvent
from ._record import Span
from ._session import Session

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
# the attribute names as module constants (read once per span, not through the semconv module)
_OPERATION = sc.GEN_AI_OPERATION_NAME
_INVOKE_AGENT = sc.OP_INVOKE_AGENT
_EXECUTE_TOOL = sc.OP_EXECUTE_TOOL
_TASK = sc.TASK
_SCOPE_ROOT = sc.SCOPE_ROOT
_SCOPE_WRITE = sc.SCOPE_WRITE
_SCOPE_HOSTS = sc.SCOPE_HOSTS
_OUTPUT_MESSAGES = sc.GEN_AI_OUTPUT_MESSAGES
_TOOL_NAME = sc.GEN_AI_TOOL_NAME
_TOOL_CALL_ARGUMENTS = sc.GEN_AI_TOOL_CALL_ARGUMENTS
_TOOL_CALL_RESULT = sc.GEN_AI_TOOL_CALL_RESULT
_TOOL_CALL_ID = sc.GEN_AI_TOOL_CALL_ID
_TOOL_KIND = sc.TOOL_KIND
_FILE_DIFF = sc.FILE_DIFF
_REFUSAL = sc.REFUSAL
_EVENT_POLICY_DECISION = sc.EVENT_POLICY_DECISION
_EVENT_TOOL_CALL = sc.EVENT_TOOL_CALL
_POLICY_DECISION = sc.POLICY_DECISION
_POLICY_RULE_IDS = sc.POLICY_RULE_IDS
_POLICY_REASON = sc.POLICY_REASON
_ERROR = 2


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


_json = json_or_none


# What the tool wrapper finds by parameter name for each kind: spans that carry
# ``agentguard.tool.kind`` were written by it, so the same table gives the same action.
_CANDIDATES = CANONICAL_ARGUMENTS
_BY_KIND = CANONICAL_BY_KIND


def _action(span: Span) -> Action:
    a = span.attributes
    tool = str(a.get(_TOOL_NAME) or span.name.removeprefix("execute_tool ").strip() or "tool")
    raw = a.get(_TOOL_CALL_ARGUMENTS)
    parsed = _json(raw)
    args: dict[str, Any] = parsed if isinstance(parsed, dict) else ({} if raw is not None else UNCAPTURED)
    kind = a.get(_TOOL_KIND)
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
    call_id = a.get(_TOOL_CALL_ID)
    if isinstance(call_id, str):
        action.call_id = call_id
    return action


def _message_text(message: dict[str, Any]) -> str | None:
    """A GenAI output message's text (its text parts, or plain content); ``None`` when it has neither."""
    parts = message.get("parts")
    if isinstance(parts, list):
        return "".join(
            [str(p.get("content") or "") for p in parts if isinstance(p, dict) and p.get("type") == "text"]
        )
    content = message.get("content")
    return content if isinstance(content, str) else None


def _final_text(messages: Any) -> str | None:
    """The text of the last assistant message in GenAI ``output.messages`` (parts or plain content)."""
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict):
            text = _message_text(message)
            if text is not None:
                return text
    return None


def _first_text(messages: Any) -> str:
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return ""
    return _message_text(messages[0]) or ""


def span_events(span: Span) -> Iterator[tuple[int, int, Event]]:
    """``(time, order, event)`` for one span; ``order`` keeps a span's own events in sequence."""
    out: list[tuple[int, int, Event]] = []
    _emit(span, out.append)
    yield from out


def _emit(span: Span, add: Callable[[tuple[int, int, Event]], None]) -> None:
    """Append ``span``'s ``(time, order, event)`` tuples with ``add`` (the body of :func:`span_events`)."""
    a = span.attributes
    get = a.get
    op = get(_OPERATION)
    sid = span.span_id
    if op == _INVOKE_AGENT:
        add(
            (
                span.start,
                0,
                RunStart(
                    span_id=sid,
                    task=get(_TASK),
                    scope_root=get(_SCOPE_ROOT),
                    scope_write=_tuple(get(_SCOPE_WRITE)),
                    scope_hosts=_tuple(get(_SCOPE_HOSTS)),
                ),
            )
        )
        final = _final_text(_json(get(_OUTPUT_MESSAGES)))
        error = (span.status_message or "error") if span.status == _ERROR else None
        add((span.end, 9, RunEnd(span_id=sid, final=final, error=error)))
    elif op == _EXECUTE_TOOL or (_TOOL_NAME in a and op is None):
        action = _action(span)
        add((span.start, 1, ToolCall(span_id=sid, action=action)))
        for name, t, ev_attrs in span.events:
            if name == _EVENT_POLICY_DECISION:
                add(
                    (
                        t,
                        2,
                        PolicyEvent(
                            span_id=sid,
                            action=action,
                            outcome=str(ev_attrs.get(_POLICY_DECISION) or ""),
                            rule_ids=_tuple(ev_attrs.get(_POLICY_RULE_IDS)),
                            reason=str(ev_attrs.get(_POLICY_REASON) or ""),
                        ),
                    )
                )
        error = (span.status_message or "error") if span.status == _ERROR else None
        change = None
        if action.kind == "file_write" and error is None:
            diff = get(_FILE_DIFF)
            change = (
                change_from_diff(action.path or "", diff)
                if isinstance(diff, str) and diff
                else change_from_arguments(action)
            )
        output = get(_TOOL_CALL_RESULT)
        add(
            (
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
        )
    elif op in _LLM_OPS or _OUTPUT_MESSAGES in a:
        messages = _json(get(_OUTPUT_MESSAGES))
        calls = (
            tuple(
                [
                    (str(e.get(_TOOL_NAME) or ""), str(e.get(_TOOL_CALL_ARGUMENTS) or ""))
                    for name, _, e in span.events
                    if name == _EVENT_TOOL_CALL
                ]
            )
            if span.events
            else ()
        )
        add(
            (
                span.end,
                4,
                LLMTurn(
                    span_id=sid, text=_first_text(messages), tool_calls=calls, refusal=bool(get(_REFUSAL))
                ),
            )
        )


def read_agentguard(session: Session) -> list[TimedEvent]:
    """The ``(time, order, event)`` tuples of every span of ``session`` in agentguard's convention."""
    timed: list[TimedEvent] = []
    add = timed.append
    for span in session.spans:
        _emit(span, add)
    return timed


READER = Reader(name="agentguard", read=read_agentguard, attributes=WANTED)
