"""A ``TracingProcessor`` that maps the Agents SDK's own trace onto agentguard's run.

The SDK reports agent, handoff, guardrail, function and LLM spans to its processors. This one:

- opens a run at the first agent span of a trace whose agent was guarded (``invoke_agent {agent}``;
  inside an ``@ag.guarded`` run it joins that run instead) and closes it when the trace ends;
- gives every later agent of the trace (a handoff's target) its own ``invoke_agent {agent}`` span, made
  current so the LLM and tool spans of that agent nest under it with ``gen_ai.agent.name``;
- records guardrail results and handoffs as events on the agent's span.

It makes no LLM or tool spans: those come from the ``openai`` instrumentation and the tool steps, so
nothing is recorded twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from agents.tracing import (
    AgentSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    Span,
    Trace,
    TracingProcessor,
    add_trace_processor,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ... import _safe
from ...guard import Guard, RunState, current_run
from ...telemetry import semconv as sc
from .._steps import FrameworkRun, attach_span, detach_span, open_run

EVENT_HANDOFF = "agentguard.handoff"
EVENT_GUARDRAIL = "agentguard.guardrail"


def _agent_attributes(run: RunState, name: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
        sc.GEN_AI_AGENT_NAME: name,
        sc.RUN_ID: run.run_id,
    }
    if run.conversation_id is not None:
        attributes[sc.GEN_AI_CONVERSATION_ID] = run.conversation_id
    if run.provider is not None:
        attributes[sc.GEN_AI_PROVIDER_NAME] = run.provider
    return attributes


@dataclass(slots=True)
class _TraceState:
    run: RunState | None
    opened: FrameworkRun | None
    agent_spans: dict[str, tuple[trace.Span, object]] = field(default_factory=dict)
    current_agent: trace.Span | None = None


class AgentRunProcessor(TracingProcessor):
    """Opens, names and closes agentguard runs from the SDK's traces of guarded agents."""

    def __init__(self) -> None:
        self._agents: dict[str, Guard] = {}
        self._traces: dict[str, _TraceState] = {}
        self._lock = threading.Lock()

    def register(self, name: str, guard: Guard) -> None:
        """Runs of the agent called ``name`` are guarded by ``guard``."""
        with self._lock:
            self._agents[name] = guard

    # -- TracingProcessor ---------------------------------------------------------------------------
    def on_trace_start(self, trace: Trace) -> None:
        return None

    def on_trace_end(self, trace: Trace) -> None:
        with self._lock:
            state = self._traces.pop(trace.trace_id, None)
        if state is None:
            return
        for _, (span, token) in list(state.agent_spans.items()):
            detach_span(token)
            span.end()
        if state.opened is not None:
            state.opened.close()

    def on_span_start(self, span: Span[Any]) -> None:
        try:
            data = span.span_data
            if isinstance(data, AgentSpanData):
                self._agent_start(span, data)
        except Exception as exc:
            _safe.report("openai_agents.span_start", exc)

    def on_span_end(self, span: Span[Any]) -> None:
        try:
            state = self._traces.get(span.trace_id)
            if state is None:
                return
            data = span.span_data
            if isinstance(data, AgentSpanData):
                entry = state.agent_spans.pop(span.span_id, None)
                if entry is not None:
                    otel_span, token = entry
                    _end(otel_span, span)
                    detach_span(token)
                state.current_agent = None
            elif isinstance(data, HandoffSpanData):
                target = _event_span(state)
                if target is not None and target.is_recording():
                    target.add_event(
                        EVENT_HANDOFF,
                        {
                            "agentguard.handoff.from": data.from_agent or "",
                            "agentguard.handoff.to": data.to_agent or "",
                        },
                    )
            elif isinstance(data, GuardrailSpanData):
                target = _event_span(state)
                if target is not None and target.is_recording():
                    target.add_event(
                        EVENT_GUARDRAIL,
                        {
                            "agentguard.guardrail.name": data.name,
                            "agentguard.guardrail.triggered": bool(data.triggered),
                        },
                    )
        except Exception as exc:
            _safe.report("openai_agents.span_end", exc)

    def shutdown(self) -> None:
        return None

    def force_flush(self) -> None:
        return None

    # -- agents -------------------------------------------------------------------------------------
    def _agent_start(self, span: Span[Any], data: AgentSpanData) -> None:
        state = self._traces.get(span.trace_id)
        if state is None:
            guard = self._agents.get(data.name)
            if guard is None:
                return  # not a guarded agent's trace
            run = current_run()
            if run is None:
                opened = open_run(name=data.name, guard=guard)
                state = _TraceState(run=opened.run, opened=opened)
                with self._lock:
                    self._traces[span.trace_id] = state
                return  # the run's own span is this first agent's span
            state = _TraceState(run=run, opened=None)
            with self._lock:
                self._traces[span.trace_id] = state
        run = state.run
        if run is None:
            return
        tracer = run.guard.tracer
        otel_span = tracer.start_span(
            f"{sc.OP_INVOKE_AGENT} {data.name}",
            kind=SpanKind.INTERNAL,
            attributes=_agent_attributes(run, data.name),
        )
        state.agent_spans[span.span_id] = (otel_span, attach_span(otel_span))
        state.current_agent = otel_span


def _event_span(state: _TraceState) -> trace.Span | None:
    if state.current_agent is not None:
        return state.current_agent
    return state.run.span if state.run is not None else None


def _end(otel_span: trace.Span, span: Span[Any]) -> None:
    error = span.error
    if error is not None and otel_span.is_recording():
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        otel_span.set_status(Status(StatusCode.ERROR, message))
    otel_span.end()


_processor: AgentRunProcessor | None = None
_processor_lock = threading.Lock()


def processor() -> AgentRunProcessor:
    """The one processor, added to the SDK's trace provider the first time it is needed."""
    global _processor  # noqa: PLW0603 - registered with the SDK once, behind a lock
    with _processor_lock:
        if _processor is None:
            _processor = AgentRunProcessor()
            add_trace_processor(_processor)
        return _processor
