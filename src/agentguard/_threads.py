"""Carry the caller's context into threads, so a run's tool calls in worker threads belong to it.

asyncio tasks copy the context by themselves; ``threading.Thread`` and ``ThreadPoolExecutor`` do not.
The first guarded run (unless ``Guard(propagate_to_threads=False)``) wraps ``Thread.start`` and
``ThreadPoolExecutor.submit`` so that the started thread or submitted callable runs in a copy of the
starter's context: the run and the current span come along. Nothing is patched at import;
:func:`uninstrument_threading` undoes it.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import wrapt

_lock = threading.Lock()
_installed = False


def _thread_start(wrapped: Any, instance: threading.Thread, args: Any, kwargs: Any) -> Any:
    ctx = contextvars.copy_context()
    run = instance.run
    instance.run = lambda: ctx.run(run)  # type: ignore[method-assign]
    return wrapped(*args, **kwargs)


def _executor_submit(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    def submit(fn: Any, /, *a: Any, **kw: Any) -> Any:
        return wrapped(contextvars.copy_context().run, fn, *a, **kw)

    return submit(*args, **kwargs)


def ensure_thread_propagation() -> None:
    """Install the two wrappers once (idempotent, thread-safe)."""
    global _installed  # noqa: PLW0603
    if _installed:
        return
    with _lock:
        if _installed:
            return
        wrapt.wrap_function_wrapper(threading.Thread, "start", _thread_start)
        wrapt.wrap_function_wrapper(ThreadPoolExecutor, "submit", _executor_submit)
        _installed = True


def uninstrument_threading() -> None:
    """Remove the wrappers installed by :func:`ensure_thread_propagation`."""
    global _installed  # noqa: PLW0603
    with _lock:
        if not _installed:
            return
        for owner, attr in ((threading.Thread, "start"), (ThreadPoolExecutor, "submit")):
            current = getattr(owner, attr)
            original = getattr(current, "__wrapped__", None)
            if isinstance(current, wrapt.FunctionWrapper) and original is not None:
                setattr(owner, attr, original)
        _installed = False
