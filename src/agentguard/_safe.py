"""Faults inside agentguard's own telemetry never reach the user's agent.

``report`` logs the first fault from each place once as a warning, later ones at DEBUG, and returns.
Callers wrap their telemetry work in ``try``/``except Exception`` and call it; user exceptions and
policy decisions never pass through here.
"""

from __future__ import annotations

import threading

_warned: set[str] = set()
_lock = threading.Lock()


def report(where: str, exc: BaseException) -> None:
    """Log a fault inside agentguard: a warning the first time for ``where``, DEBUG after that."""
    try:
        with _lock:
            first = where not in _warned
            _warned.add(where)
        import logging  # imported on the first fault: a process without one never loads it

        logger = logging.getLogger("agentguard")
        if first:
            logger.warning(
                "agentguard: internal error in %s; the agent continues unaffected "
                "(further errors here are logged at DEBUG): %s: %s",
                where,
                type(exc).__name__,
                exc,
            )
        logger.debug("agentguard: internal error in %s", where, exc_info=exc)
    except Exception:  # pragma: no cover - logging itself failed; nothing left to do
        pass


def reset_warnings() -> None:
    """Forget which places already warned (for tests)."""
    with _lock:
        _warned.clear()
