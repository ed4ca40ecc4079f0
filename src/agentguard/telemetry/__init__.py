"""What the spans carry: attribute and metric names (:mod:`agentguard.telemetry.semconv`), content
capture, secret redaction and refusal classification. Nothing here imports the OpenTelemetry SDK.
"""

from __future__ import annotations

from ._content import capture_from_env, to_text
from ._messages import chat_input, content_parts, responses_input, tool_arguments, tool_call_part
from ._redact import REDACTED, redact
from ._refusal import NEGATIONS, REFUSAL_VERBS, RefusalSource, looks_like_refusal

__all__ = [
    "NEGATIONS",
    "REDACTED",
    "REFUSAL_VERBS",
    "RefusalSource",
    "capture_from_env",
    "chat_input",
    "content_parts",
    "looks_like_refusal",
    "redact",
    "responses_input",
    "to_text",
    "tool_arguments",
    "tool_call_part",
]
