"""Export pipelines: ``configure()`` and the local store (STUB: being written)."""

from __future__ import annotations

from typing import Any


def configure(**kwargs: Any) -> Any:
    """Install an OpenTelemetry SDK pipeline: OTLP when an endpoint is configured, else the local store."""
    raise NotImplementedError
