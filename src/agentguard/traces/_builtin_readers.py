"""The readers agentguard ships, registered the first time the registry is read."""

from __future__ import annotations

import threading

_done = False
_lock = threading.Lock()


def register() -> None:
    """Register the built-in readers once (a reader registered under the same name later replaces one)."""
    global _done  # noqa: PLW0603 - the one registration flag
    if _done:
        return
    with _lock:
        if _done:
            return
        from ._assemble import READER
        from ._files import register_format
        from ._readers import register_reader
        from ._transcripts import FORMATS

        register_reader(READER)  # every convention, agentguard's own included
        for fmt in FORMATS:
            register_format(fmt)
        _done = True
