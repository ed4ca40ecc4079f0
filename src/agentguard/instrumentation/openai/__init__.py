"""OpenAI SDK instrumentation: every Chat Completions and Responses call becomes a ``chat {model}`` span.

Explicit and reversible, never at import::

    import agentguard as ag

    ag.instrument_openai()          # or instrument_openai(guard=my_guard) to pin a guard
    ...
    ag.uninstrument_openai()

Patched: ``create`` and ``parse`` of ``Completions`` / ``AsyncCompletions`` (chat) and ``Responses`` /
``AsyncResponses``, on the classes, so clients created before or after instrumenting are traced; the
``.stream()`` helpers go through ``create``. Inside a guarded run the run's guard is used (and the call
is counted in the run's totals); outside, the default guard. ``with_raw_response`` objects created while
instrumented keep the wrapper but it passes straight through once uninstrumented.
"""

from __future__ import annotations

import threading
from typing import Any

import wrapt

from ...guard import Guard
from ._chat import CHAT
from ._patch import STATE, async_wrapper, sync_wrapper
from ._responses import RESPONSES

__all__ = ["instrument_openai", "uninstrument_openai"]

_lock = threading.Lock()
_patched: list[tuple[type[Any], str, Any]] = []
"""(class, method name, the FunctionWrapper we installed)."""


def _targets() -> list[tuple[type[Any], str, Any]]:
    try:
        from openai.resources.chat.completions.completions import AsyncCompletions, Completions
        from openai.resources.responses.responses import AsyncResponses, Responses
    except ImportError as exc:
        raise ImportError(
            "agentguard.instrument_openai() needs the openai SDK: pip install 'agentguard[openai]'"
        ) from exc
    return [
        (Completions, "create", sync_wrapper(CHAT)),
        (Completions, "parse", sync_wrapper(CHAT, stream_ok=False)),
        (AsyncCompletions, "create", async_wrapper(CHAT)),
        (AsyncCompletions, "parse", async_wrapper(CHAT, stream_ok=False)),
        (Responses, "create", sync_wrapper(RESPONSES)),
        (Responses, "parse", sync_wrapper(RESPONSES, stream_ok=False)),
        (AsyncResponses, "create", async_wrapper(RESPONSES)),
        (AsyncResponses, "parse", async_wrapper(RESPONSES, stream_ok=False)),
    ]


def instrument_openai(*, guard: Guard | None = None) -> None:
    """Trace every Chat Completions and Responses call of the ``openai`` SDK (idempotent).

    ``guard`` pins the guard every call uses; by default a call uses its run's guard, or the default
    guard outside a run. Calling again only updates ``guard``.
    """
    with _lock:
        STATE.guard = guard
        if STATE.enabled:
            return
        if not _patched:
            for cls, name, wrapper in _targets():
                _patched.append((cls, name, wrapt.wrap_function_wrapper(cls, name, wrapper)))
        STATE.enabled = True


def uninstrument_openai() -> None:
    """Undo :func:`instrument_openai` (idempotent): the original methods are put back."""
    with _lock:
        STATE.enabled = False
        STATE.guard = None
        for cls, name, installed in reversed(_patched):
            # Only restore when ours is still the outermost patch; otherwise the flag keeps ours inert.
            if cls.__dict__.get(name) is installed:
                setattr(cls, name, installed.__wrapped__)
        _patched.clear()
