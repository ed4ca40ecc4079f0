"""Another instrumentation's span of the same call, recorded on instead of a second span of ours.

When OpenInference, OpenLLMetry or an official GenAI instrumentation already has a span open for the
model call or tool call a step is about to make (its span is the current one), the step writes its
attributes, decision event and signals on that span and leaves ending it to its owner: one span per
call, so backends count tokens, cost and calls once.

A span is borrowed once: a second call under the same foreign span (a framework span that covers
retries or several calls) gets a span of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final, cast

import wrapt
from opentelemetry import trace

from ..telemetry import semconv as sc

OWN_SCOPE: Final = "agentguard"
"""The instrumentation scope (tracer name) of our own spans."""
_OPENINFERENCE_KIND: Final = "openinference.span.kind"
_OPENINFERENCE_TOOL_NAME: Final = "tool.name"
_TRACELOOP_KIND: Final = "traceloop.span.kind"
_LLM_OPERATIONS: Final = frozenset(
    {sc.OP_CHAT, "text_completion", "generate_content", "completion", "responses"}
)
_LLM_REQUEST_TYPE: Final = "llm.request.type"
"""OpenLLMetry's older spelling of the operation (``chat``, ``completion``)."""


class Borrowed(wrapt.ObjectProxy[trace.Span]):
    """Another instrumentation's span, recorded on but ended by its owner."""

    def end(self, end_time: int | None = None) -> None:
        return None


def openinference_langchain_span() -> trace.Span | None:
    """OpenInference's LangChain tracer keeps its spans out of the OpenTelemetry context and exposes
    the span of the running LangChain runnable (a graph node, not the chat model's own run) as
    ``get_current_span()``; ``None`` when it is not loaded."""
    module = sys.modules.get("openinference.instrumentation.langchain")
    current = getattr(module, "get_current_span", None)
    span = current() if callable(current) else None
    return span if isinstance(span, trace.Span) else None


def _foreign(span: trace.Span) -> Mapping[str, Any] | None:
    if not span.is_recording():
        return None
    scope = getattr(span, "instrumentation_scope", None)
    if scope is not None and getattr(scope, "name", None) == OWN_SCOPE:
        return None
    attributes = getattr(span, "attributes", None)
    if not isinstance(attributes, Mapping) or sc.BORROWED in attributes:
        return None
    return attributes


def _is_llm(a: Mapping[str, Any]) -> bool:
    return (
        a.get(_OPENINFERENCE_KIND) == "LLM"
        or a.get(_TRACELOOP_KIND) == "llm"
        or a.get(sc.GEN_AI_OPERATION_NAME) in _LLM_OPERATIONS
        or a.get(_LLM_REQUEST_TYPE) in _LLM_OPERATIONS
    )


def foreign_llm_span() -> trace.Span | None:
    """The current span when it is another instrumentation's span of a model call, not yet borrowed."""
    span = trace.get_current_span()
    a = _foreign(span)
    return span if a is not None and _is_llm(a) else None


def foreign_tool_span(tool: str) -> trace.Span | None:
    """The current span when it is another instrumentation's span of a call of ``tool``, not yet
    borrowed (and without a decision of its own)."""
    span = trace.get_current_span()
    a = _foreign(span)
    if a is None:
        return None
    if a.get(_OPENINFERENCE_KIND) == "TOOL":
        return span if a.get(_OPENINFERENCE_TOOL_NAME) in (None, tool) else None
    if a.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL and sc.POLICY_DECISION not in a:
        return span if a.get(sc.GEN_AI_TOOL_NAME) in (None, tool) else None
    return None


def borrow(span: trace.Span, attributes: Mapping[str, Any]) -> trace.Span:
    """``span`` wrapped so that ending it is left to its owner, with ``attributes`` and the marker set."""
    span.set_attributes({**attributes, sc.BORROWED: True})
    return cast(trace.Span, Borrowed(span))
