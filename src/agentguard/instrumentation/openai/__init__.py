"""OpenAI SDK instrumentation (STUB: being written)."""

from __future__ import annotations


def instrument_openai() -> None:
    """Trace every Chat Completions and Responses call of the ``openai`` SDK (idempotent)."""
    raise NotImplementedError


def uninstrument_openai() -> None:
    """Undo :func:`instrument_openai` (idempotent)."""
    raise NotImplementedError
