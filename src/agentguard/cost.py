"""LLM cost from token usage.

STUB interface; the implementation over ``genai-prices`` with user overrides and a per-model cache
is being written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenUsage:
    """Token counts of one LLM call, as the OpenAI APIs report them.

    ``input_tokens`` includes ``cache_read_tokens``; ``output_tokens`` includes ``reasoning_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


class PriceBook:
    """Resolves a model's price once and computes call costs; unknown models cost ``None``."""

    def cost(self, *, model: str, provider: str | None, usage: TokenUsage) -> float | None:
        return None
