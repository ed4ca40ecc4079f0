"""Refusal detection: API signals first, then a conservative phrase check.

STUB interface; the phrase check and its tests are being written.
"""

from __future__ import annotations

from typing import Literal

RefusalSource = Literal["api", "content_filter", "text"]


def looks_like_refusal(text: str) -> bool:
    """True when ``text`` (a whole assistant turn without tool calls) reads as a refusal."""
    return False
