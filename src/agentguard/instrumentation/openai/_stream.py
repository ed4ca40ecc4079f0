"""Proxies over the SDK's ``Stream`` / ``AsyncStream`` that finish the call's span exactly once.

The proxy hands every chunk to the user unchanged, feeds it to the API's stream state, and ends the
span when the stream is exhausted, raises, is closed, leaves a ``with`` / ``async with`` block, or is
garbage collected, whichever comes first. Everything else (``response``, ``until_done``...) passes
through to the SDK object.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import wrapt

from ... import _safe
from ._record import LLMCall, StreamState, finish


def _finish(call: LLMCall | None, state: StreamState, error: BaseException | None) -> None:
    if call is None or call.done:
        return
    summary = None
    if error is None:
        try:
            summary = state.summary(call.capture)
        except Exception as exc:
            _safe.report("openai.stream_summary", exc)
    finish(call, summary, error)


class SyncStreamProxy(wrapt.ObjectProxy[Any]):
    """Wraps ``openai.Stream``."""

    def __init__(self, wrapped: Any, call: LLMCall, state: StreamState) -> None:
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

    def __init__(self, wrapped: Any, call: LLMCall, state: StreamState) -> None:
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
