"""Another instrumentation's span of the same call, recorded on instead of a second span of ours.

When OpenInference, OpenLLMetry or an official GenAI instrumentation already has a span open for the
model call or tool call a step is about to make (its span is the current one), the step writes its
attributes, decision event and signals on that span and leaves ending it to its owner: one span per
call, so backends count tokens, cost and calls once.

A span is borrowed once: a second call under the same foreign span (a framework span that covers
retries or several calls) gets a span of its own.
"""

from __future__ import annotations

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


def _foreign_attributes() -> tuple[trace.Span, Mapping[str, Any]] | None:
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    scope = getattr(span, "instrumentation_scope", None)
    if scope is not None and getattr(scope, "name", None) == OWN_SCOPE:
        return None
    attributes = getattr(span, "attributes", None)
    if not isinstance(attributes, Mapping) or sc.BORROWED in attributes:
        return None
    return span, attributes


def foreign_llm_span() -> trace.Span | None:
    """The current span when it is another instrumentation's span of a model call, not yet borrowed."""
    found = _foreign_attributes()
    if found is None:
        return None
    span, a = found
    if a.get(_OPENINFERENCE_KIND) == "LLM" or a.get(_TRACELOOP_KIND) == "llm":
        return span
    if a.get(sc.GEN_AI_OPERATION_NAME) in _LLM_OPERATIONS or a.get(_LLM_REQUEST_TYPE) in _LLM_OPERATIONS:
        return span
    return None


def foreign_tool_span(tool: str) -> trace.Span | None:
    """The current span when it is another instrumentation's span of a call of ``tool``, not yet
    borrowed (and without a decision of its own)."""
    found = _foreign_attributes()
    if found is None:
        return None
    span, a = found
    if a.get(_OPENINFERENCE_KIND) == "TOOL":
        return span if a.get(_OPENINFERENCE_TOOL_NAME) in (None, tool) else None
    if a.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_EXECUTE_TOOL and sc.POLICY_DECISION not in a:
        return span if a.get(sc.GEN_AI_TOOL_NAME) in (None, tool) else None
    return None


def borrow(span: trace.Span, attributes: Mapping[str, Any]) -> trace.Span:
    """``span`` wrapped so that ending it is left to its owner, with ``attributes`` and the marker set."""
    span.set_attributes({**attributes, sc.BORROWED: True})
    return cast(trace.Span, Borrowed(span))
