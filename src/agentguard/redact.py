"""Secret redaction applied to every piece of captured content.

STUB: the full implementation (API keys of the main providers, bearer tokens, private keys,
``KEY=value`` lines from env files) is being written; see tests/unit/test_redact.py.
"""

from __future__ import annotations

REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    """Return ``text`` with every secret-looking value replaced by ``[REDACTED]``."""
    return text
