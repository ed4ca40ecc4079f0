"""Whether message content, tool arguments and results are captured, and how they are serialised.

Off by default. On with ``Guard(capture_content=True)`` or the standard environment variable
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``, ``span_only`` or ``span_and_event``;
``false``, ``no_content`` and ``event_only`` leave span content off). Captured text is always passed
through :func:`agentguard.telemetry.redact` first, and cut to ``max_chars``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ._redact import redact

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_ON = frozenset({"true", "1", "yes", "on", "span_only", "span_and_event"})
MAX_CHARS = 16_384


def capture_from_env() -> bool:
    """Read the standard capture variable; unknown values mean off."""
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in _ON


def to_text(value: Any, *, max_chars: int = MAX_CHARS) -> str:
    """Serialise ``value`` (JSON where possible), redact secrets, and cut it to ``max_chars``."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            text = repr(value)
    text = redact(text)
    if len(text) > max_chars:
        text = text[:max_chars] + f"...[{len(text) - max_chars} more chars]"
    return text


def _default(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True)
    return repr(obj)
