"""Proxies over what the SDK returns before the body is read; each finishes the call's step once.

The stream proxies (over ``Stream`` / ``AsyncStream``) hand every chunk to the user unchanged, feed
it to the API's stream state, and finish the step when the stream is exhausted, raises, is closed,
leaves a ``with`` / ``async with`` block, or is garbage collected, whichever comes first.

The raw-response proxies (over ``with_raw_response`` answers to ``stream=True`` and every
``with_streaming_response`` answer) wait for ``parse()``: a stream comes back wrapped in a stream
proxy, a complete response is read into the step at once; closing the response unparsed finishes the
step with what is known (time and request attributes). Everything else (``headers``,
``iter_lines``...) passes through to the SDK object.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import wrapt

from ... import _safe
from ._record import OpenAICall, StreamState


def _finish(call: OpenAICall | None, state: StreamState, error: BaseException | None) -> None:
    if call is None or call.done:
        return
    summary = None
    if error is None:
        try:
            summary = state.summary(call.capture)
        except Exception as exc:
            _safe.report("openai.stream_summary", exc)
    call.step.finish(response=summary, error=error)


class SyncStreamProxy(wrapt.ObjectProxy[Any]):
    """Wraps ``openai.Stream``."""

    def __init__(self, wrapped: Any, call: OpenAICall, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_state = state

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        try:
            item = self.__wrapped__.__next__()
        except StopIteration:
            _finish(self._self_call, self._self_state, None)
            raise
        except BaseException as exc:
            _finish(self._self_call, self._self_state, exc)
            raise
        try:
            self._self_call.step.chunk()
            self._self_state.add(item)
        except Exception as exc:
            _safe.report("openai.stream_chunk", exc)
        return item

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            _finish(self._self_call, self._self_state, None)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            _finish(self._self_call, self._self_state, None)

    def __del__(self) -> None:
        try:
            call = getattr(self, "_self_call", None)
            if call is not None and not call.done:
                _finish(call, self._self_state, None)
        except Exception as exc:
            _safe.report("openai.stream_del", exc)


class AsyncStreamProxy(wrapt.ObjectProxy[Any]):
    """Wraps ``openai.AsyncStream``."""

    def __init__(self, wrapped: Any, call: OpenAICall, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_state = state

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            _finish(self._self_call, self._self_state, None)
            raise
        except BaseException as exc:
            _finish(self._self_call, self._self_state, exc)
            raise
        try:
            self._self_call.step.chunk()
            self._self_state.add(item)
        except Exception as exc:
            _safe.report("openai.stream_chunk", exc)
        return item

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            _finish(self._self_call, self._self_state, None)

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            _finish(self._self_call, self._self_state, None)

    async def aclose(self) -> None:
        await self.close()

    def __del__(self) -> None:
        try:
            call = getattr(self, "_self_call", None)
            if call is not None and not call.done:
                _finish(call, self._self_state, None)
        except Exception as exc:
            _safe.report("openai.stream_del", exc)


def _adopt(call: OpenAICall, parsed: Any, *, is_async: bool) -> Any:
    """What a raw response's ``parse()`` returned: a stream to proxy, or the complete response."""
    try:
        if call.done:
            return parsed
        if call.streaming:
            proxy = AsyncStreamProxy if is_async else SyncStreamProxy
            return proxy(parsed, call, call.api.new_stream_state())
        call.step.finish(response=call.api.summarize(parsed, call.capture))
    except Exception as exc:
        _safe.report("openai.raw_parse", exc)
        call.step.finish()
    return parsed


def _close(call: OpenAICall, parsed: dict[Any, Any]) -> None:
    """A raw response was closed: finish with what its parsed stream saw, else with no body."""
    for value in parsed.values():
        if isinstance(value, SyncStreamProxy | AsyncStreamProxy):
            _finish(call, value._self_state, None)
    call.step.finish()


class RawResponseProxy(wrapt.ObjectProxy[Any]):
    """Wraps a raw response with a sync ``parse()`` (``APIResponse``, ``LegacyAPIResponse``).

    ``is_async`` says whether a parsed stream is an ``AsyncStream`` (the legacy raw response of an
    async client parses synchronously).
    """

    def __init__(self, wrapped: Any, call: OpenAICall, *, is_async: bool) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_async = is_async
        self._self_parsed: dict[Any, Any] = {}

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("to")
        if key in self._self_parsed:
            return self._self_parsed[key]
        parsed = _adopt(self._self_call, self.__wrapped__.parse(*args, **kwargs), is_async=self._self_async)
        self._self_parsed[key] = parsed
        return parsed

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            _close(self._self_call, self._self_parsed)

    def __del__(self) -> None:
        try:
            call = getattr(self, "_self_call", None)
            if call is not None and not call.done and not self._self_parsed:
                call.step.finish()
        except Exception as exc:
            _safe.report("openai.raw_del", exc)


class AsyncRawResponseProxy(wrapt.ObjectProxy[Any]):
    """Wraps ``AsyncAPIResponse`` (``with_streaming_response`` of an async client)."""

    def __init__(self, wrapped: Any, call: OpenAICall) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_parsed: dict[Any, Any] = {}

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        key = kwargs.get("to")
        if key in self._self_parsed:
            return self._self_parsed[key]
        parsed = _adopt(self._self_call, await self.__wrapped__.parse(*args, **kwargs), is_async=True)
        self._self_parsed[key] = parsed
        return parsed

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            _close(self._self_call, self._self_parsed)

    def __del__(self) -> None:
        try:
            call = getattr(self, "_self_call", None)
            if call is not None and not call.done and not self._self_parsed:
                call.step.finish()
        except Exception as exc:
            _safe.report("openai.raw_del", exc)
