"""Wrapper factories for the SDK methods, and the switch that turns them on and off.

Each factory takes an :class:`~._record.ApiSpec` and returns a ``(wrapped, instance, args, kwargs)``
function for :func:`wrapt.wrap_function_wrapper`; the async twin awaits the SDK call. Every wrapper
first reads :data:`STATE`: bound methods captured while instrumented (``with_raw_response`` objects
hold them) keep calling the wrapper after :func:`~agentguard.uninstrument_openai`, and must then pass
straight through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ... import _safe
from ...guard import Guard
from ._record import ApiSpec, OpenAICall, start_call
from ._stream import AsyncRawResponseProxy, AsyncStreamProxy, RawResponseProxy, SyncStreamProxy

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class _State:
    __slots__ = ("enabled", "guard")

    def __init__(self) -> None:
        self.enabled = False
        self.guard: Guard | None = None


STATE = _State()


def _start(api: ApiSpec, instance: Any, kwargs: dict[str, Any], *, stream_ok: bool) -> OpenAICall | None:
    try:
        call = start_call(api, instance, kwargs, STATE.guard)
        if not stream_ok:
            call.streaming = False
        return call
    except Exception as exc:
        _safe.report("openai.start", exc)
        return None


def _result(call: OpenAICall, result: Any, *, is_async: bool) -> Any:
    """Read what the SDK returned into the step (or wrap a stream); the user gets ``result``."""
    try:
        raw = call.raw
        if raw is not None:
            if raw == "true" and not call.streaming:  # with_raw_response: parse() caches
                call.step.finish(response=call.api.summarize(result.parse(), call.capture))
                return result
            # the body is read later (a stream, or with_streaming_response): finish when it is
            if raw == "stream" and is_async:
                return AsyncRawResponseProxy(result, call)
            return RawResponseProxy(result, call, is_async=is_async)
        if call.streaming:
            proxy = AsyncStreamProxy if is_async else SyncStreamProxy
            return proxy(result, call, call.api.new_stream_state())
        call.step.finish(response=call.api.summarize(result, call.capture))
    except Exception as exc:
        _safe.report("openai.result", exc)
        call.step.finish()
    return result


def sync_wrapper(api: ApiSpec, *, stream_ok: bool = True) -> Wrapper:
    """Wrapper for a sync SDK method (``create`` or ``parse``)."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not STATE.enabled:
            return wrapped(*args, **kwargs)
        call = _start(api, instance, kwargs, stream_ok=stream_ok)
        if call is None:
            return wrapped(*args, **kwargs)
        step = call.step
        if step.needs_decision and step.decide().blocks:
            raise step.denial()
        step.activate()
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            step.deactivate()
            step.finish(error=exc)
            raise
        step.deactivate()
        return _result(call, result, is_async=False)

    return wrapper


def async_wrapper(api: ApiSpec, *, stream_ok: bool = True) -> Wrapper:
    """Wrapper for an async SDK method; returns the coroutine the caller awaits."""

    async def wrapper(
        wrapped: Callable[..., Awaitable[Any]],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        if not STATE.enabled:
            return await wrapped(*args, **kwargs)
        call = _start(api, instance, kwargs, stream_ok=stream_ok)
        if call is None:
            return await wrapped(*args, **kwargs)
        step = call.step
        if step.needs_decision and (await step.adecide()).blocks:
            raise step.denial()
        step.activate()
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            step.deactivate()
            step.finish(error=exc)
            raise
        step.deactivate()
        return _result(call, result, is_async=True)

    return wrapper
