"""OTel GenAI semantic conventions (agentguard's own spans, opentelemetry-util-genai and the official
OpenAI instrumentations) read into observations.

``gen_ai.operation.name`` decides: ``invoke_agent`` / ``create_agent`` is an agent run (task from
``agentguard.task`` or the first user message of ``gen_ai.input.messages``; final answer from
``gen_ai.output.messages``), ``execute_tool`` a tool execution (``gen_ai.tool.name``,
``gen_ai.tool.call.id``, ``gen_ai.tool.call.arguments`` as an object or JSON text,
``gen_ai.tool.call.result``), and the inference operations a model call (``gen_ai.input.messages`` /
``gen_ai.output.messages`` in the role/parts schema or OpenAI's shape, plus agentguard's
``gen_ai.tool.call`` span events). A span with ``gen_ai.tool.name`` and no operation is a tool.
"""

from __future__ import annotations

from typing import Any

from ..telemetry import semconv as sc
from ._messages import Message, RequestedCall, arguments, parse_messages, text_of
from ._observations import (
    AgentObservation,
    Decision,
    ModelObservation,
    Observation,
    ToolObservation,
    content,
    error_of,
)
from ._record import Span

MODEL_OPERATIONS = frozenset(
    {"chat", "text_completion", "generate_content", "responses", "completion", "inference"}
)
AGENT_OPERATIONS = frozenset({sc.OP_INVOKE_AGENT, "create_agent", "invoke_workflow"})
ATTRIBUTES = frozenset(
    {
        sc.GEN_AI_OPERATION_NAME,
        sc.GEN_AI_INPUT_MESSAGES,
        sc.GEN_AI_OUTPUT_MESSAGES,
        sc.GEN_AI_TOOL_NAME,
        sc.GEN_AI_TOOL_CALL_ID,
        sc.GEN_AI_TOOL_CALL_ARGUMENTS,
        sc.GEN_AI_TOOL_CALL_RESULT,
        sc.TASK,
        sc.SCOPE_ROOT,
        sc.SCOPE_WRITE,
        sc.SCOPE_HOSTS,
        sc.TOOL_KIND,
        sc.FILE_DIFF,
        sc.REFUSAL,
    }
)
"""The span attributes this reader reads."""


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def first_user_text(messages: list[Message]) -> str | None:
    for m in messages:
        if m.role in ("user", "human") and m.text.strip():
            return m.text
    return None


def last_assistant_text(messages: list[Message]) -> str | None:
    for m in reversed(messages):
        if m.role in ("assistant", "ai", "model", "") and m.text.strip():
            return m.text
    return None


def result_text(value: Any) -> str | None:
    value = content(value)
    if value is None:
        return None
    return value if isinstance(value, str) else text_of(value) or str(value)


def read(span: Span) -> Observation | None:
    a = span.attributes
    op = a.get(sc.GEN_AI_OPERATION_NAME)
    if op in AGENT_OPERATIONS:
        inputs = parse_messages(content(a.get(sc.GEN_AI_INPUT_MESSAGES)))
        outputs = parse_messages(content(a.get(sc.GEN_AI_OUTPUT_MESSAGES)))
        task = a.get(sc.TASK)
        return AgentObservation(
            span=span,
            task=task if isinstance(task, str) else first_user_text(inputs),
            scope_root=a.get(sc.SCOPE_ROOT),
            scope_write=_tuple(a.get(sc.SCOPE_WRITE)),
            scope_hosts=_tuple(a.get(sc.SCOPE_HOSTS)),
            final=last_assistant_text(outputs) if outputs else None,
            error=error_of(span),
        )
    if op == sc.OP_EXECUTE_TOOL or (op is None and sc.GEN_AI_TOOL_NAME in a):
        return tool(span)
    if op in MODEL_OPERATIONS or (op is None and sc.GEN_AI_OUTPUT_MESSAGES in a):
        return model(span)
    return None


def tool(span: Span) -> ToolObservation:
    a = span.attributes
    name = a.get(sc.GEN_AI_TOOL_NAME)
    if not isinstance(name, str) or not name:
        name = span.name.removeprefix(sc.OP_EXECUTE_TOOL).strip() or "tool"
    args, _ = arguments(content(a.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)))
    decisions = [
        Decision(
            time=t,
            outcome=str(ev.get(sc.POLICY_DECISION) or ""),
            rule_ids=_tuple(ev.get(sc.POLICY_RULE_IDS)),
            reason=str(ev.get(sc.POLICY_REASON) or ""),
        )
        for ev_name, t, ev in span.events
        if ev_name == sc.EVENT_POLICY_DECISION
    ]
    diff = a.get(sc.FILE_DIFF)
    kind = a.get(sc.TOOL_KIND)
    call_id = a.get(sc.GEN_AI_TOOL_CALL_ID)
    return ToolObservation(
        span=span,
        name=name,
        call_id=call_id if isinstance(call_id, str) else "",
        arguments=args,
        result=result_text(a.get(sc.GEN_AI_TOOL_CALL_RESULT)),
        error=error_of(span),
        kind=kind if isinstance(kind, str) else None,
        diff=diff if isinstance(diff, str) and diff else None,
        decisions=decisions,
        mcp="mcp.method.name" in a,
    )


def model(span: Span) -> ModelObservation:
    a = span.attributes
    inputs = parse_messages(content(a.get(sc.GEN_AI_INPUT_MESSAGES)))
    outputs = parse_messages(content(a.get(sc.GEN_AI_OUTPUT_MESSAGES)), role="assistant")
    calls = [
        _event_call(ev) for ev_name, _, ev in span.events if ev_name == sc.EVENT_TOOL_CALL
    ]  # agentguard's own record of the requested calls (also written with content capture off)
    if calls:
        known = {c.id for m in outputs for c in m.calls if c.id}
        extra = tuple(c for c in calls if not c.id or c.id not in known)
        if extra:
            if outputs:
                last = outputs[-1]
                outputs[-1] = Message(
                    role=last.role, text=last.text, calls=last.calls + extra, responses=last.responses
                )
            else:
                outputs.append(Message(role="assistant", calls=extra))
    return ModelObservation(span=span, inputs=inputs, outputs=outputs, refusal=bool(a.get(sc.REFUSAL)))


def _event_call(ev: Any) -> RequestedCall:
    args, raw = arguments(content(ev.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)))
    return RequestedCall(
        id=str(ev.get(sc.GEN_AI_TOOL_CALL_ID) or ""),
        name=str(ev.get(sc.GEN_AI_TOOL_NAME) or ""),
        arguments=args,
        raw=raw,
    )
