"""``RedactingSpanExporter``: secrets are removed from every span before an exporter sees it.

Whatever recorded a span (agentguard's own code, the SDK's ``record_exception``, another
instrumentation), this step passes every string that leaves the process through
:func:`agentguard.telemetry.redact`: span and event attribute values (so ``exception.message`` and
``exception.stacktrace``), the status description, the span name, link attributes and the resource's
attributes. Numbers and booleans pass unchanged. ``configure()`` puts it in front of the local store
and the OTLP exporter::

    from agentguard.export import LocalStoreSpanExporter
    from agentguard.export._redacting import RedactingSpanExporter

    exporter = RedactingSpanExporter(LocalStoreSpanExporter("spans.db"))

Redaction runs on the exporter's thread, never on the agent's. Short values repeat (tool names, models,
status codes) and are redacted once: a bounded cache keeps their results.

With content capture off (``capture_content()`` returns ``False``), agentguard's own spans (scope
``agentguard``) also lose every value that can quote an argument: tool arguments and results,
messages, diffs, signal evidence excerpts, the policy's facts summary, exception messages (the
stack trace keeps its frames, not the message) and the text after the exception type in the status.
Decision reasons and signal messages stay, redacted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AttributeValue

from ..telemetry import redact
from ..telemetry import semconv as sc

_CACHED_LEN: Final = 256
_OWN_SCOPE: Final = "agentguard"
NOT_CAPTURED: Final = "[content not captured]"
# Attributes of agentguard's spans and events that quote an action's arguments or results.
CONTENT_ATTRIBUTES: Final = frozenset(
    {
        sc.GEN_AI_TOOL_CALL_ARGUMENTS,
        sc.GEN_AI_TOOL_CALL_RESULT,
        sc.GEN_AI_INPUT_MESSAGES,
        sc.GEN_AI_OUTPUT_MESSAGES,
        sc.GEN_AI_SYSTEM_INSTRUCTIONS,
        sc.FILE_DIFF,
        sc.SIGNAL_EVIDENCE,
        sc.POLICY_FACTS,
    }
)
_cached_redact = functools.lru_cache(maxsize=8192)(redact)


def redact_value(value: str) -> str:
    """:func:`~agentguard.telemetry.redact`, with results for short strings cached."""
    return _cached_redact(value) if len(value) <= _CACHED_LEN else redact(value)


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_value(value)
    if isinstance(value, tuple | list) and any(isinstance(v, str) for v in value):
        return tuple(redact_value(v) if isinstance(v, str) else v for v in value)
    return value


def redact_attributes(attributes: Mapping[str, AttributeValue] | None) -> dict[str, AttributeValue]:
    """A copy of ``attributes`` with every string value (and string in a sequence) redacted."""
    if not attributes:
        return {}
    return {key: _value(value) for key, value in attributes.items()}


def _without_content(attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    return {k: v for k, v in attributes.items() if k not in CONTENT_ATTRIBUTES}


def _exception_without_message(attributes: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    message = attributes.get("exception.message")
    out = dict(attributes)
    if isinstance(message, str) and message:
        out["exception.message"] = NOT_CAPTURED
        trace = out.get("exception.stacktrace")
        if isinstance(trace, str):
            out["exception.stacktrace"] = trace.replace(message, NOT_CAPTURED)
    return out


class RedactingSpanExporter(SpanExporter):
    """Redact each span (see the module docstring) and hand the copies to ``exporter``.

    ``capture_content`` is asked once per batch whether content capture is on; without it, it is.
    """

    def __init__(self, exporter: SpanExporter, *, capture_content: Callable[[], bool] | None = None) -> None:
        self.exporter = exporter
        self._capture_content = capture_content
        self._resources: dict[int, tuple[Resource, Resource]] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        content = True
        if self._capture_content is not None:
            try:
                content = bool(self._capture_content())
            except Exception:
                content = False  # unknown: write the less
        return self.exporter.export([self._redact(span, content=content) for span in spans])

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def _resource(self, resource: Resource) -> Resource:
        # Every span of a provider shares one Resource object: redact it once.
        cached = self._resources.get(id(resource))
        if cached is None or cached[0] is not resource:
            if len(self._resources) > 64:
                self._resources.clear()
            clean = Resource(redact_attributes(resource.attributes), resource.schema_url)
            cached = self._resources[id(resource)] = (resource, clean)
        return cached[1]

    def _redact(self, span: ReadableSpan, *, content: bool = True) -> ReadableSpan:
        scope = span.instrumentation_scope
        strip = not content and scope is not None and scope.name == _OWN_SCOPE
        status = span.status
        if status.description:
            description = status.description
            if strip:
                description = description.split(":", 1)[0]  # "RuntimeError: <message>" keeps the type
            status = Status(status.status_code, redact_value(description))
        attributes = redact_attributes(span.attributes)
        events = []
        for event in span.events:
            event_attributes = redact_attributes(event.attributes)
            if strip:
                event_attributes = _without_content(event_attributes)
                if event.name == "exception":
                    event_attributes = _exception_without_message(event_attributes)
            events.append(Event(event.name, event_attributes, event.timestamp))
        if strip:
            attributes = _without_content(attributes)
        links = tuple(Link(link.context, redact_attributes(link.attributes)) for link in span.links)
        return ReadableSpan(
            name=redact_value(span.name),
            context=span.context,
            parent=span.parent,
            resource=self._resource(span.resource),
            attributes=attributes,
            events=tuple(events),
            links=links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
