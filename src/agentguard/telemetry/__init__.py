"""What the spans carry: attribute and metric names (:mod:`agentguard.telemetry.semconv`), content
capture, secret redaction and refusal classification. Nothing here imports the OpenTelemetry SDK.
"""

from __future__ import annotations

from ._content import capture_from_env, to_text
from ._redact import REDACTED, redact
from ._refusal import NEGATIONS, REFUSAL_VERBS, RefusalSource, looks_like_refusal

__all__ = [
    "NEGATIONS",
    "REDACTED",
    "REFUSAL_VERBS",
    "RefusalSource",
    "capture_from_env",
    "looks_like_refusal",
    "redact",
    "to_text",
]
