"""``@guarded``: open a run around an agent function.

Works on sync, async, generator and async-generator functions, bare or with keyword arguments::

    @agentguard.guarded
    def agent(goal: str) -> str: ...

    @agentguard.guarded(name="fixer", task="fix the failing parser test", policy=policy)
    async def agent(goal: str) -> str: ...

The run's root span is ``invoke_agent {name}``; it ends with the run totals. Exceptions from the
agent propagate unchanged and mark the span as an error.
"""

from __future__ import annotations

import inspect
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, TypeVar, overload

import wrapt
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _safe
from . import semconv as sc
from ._threads import ensure_thread_propagation
from .detect import _online as _detect
from .guard import Guard, PolicyLike, default_guard
from .run import RunState, current_run
from .scope import Scope

F = TypeVar("F", bound=Callable[..., Any])


class _RunSpec:
    """What ``guarded(...)`` was given; opens one run per call."""

    __slots__ = ("approver", "conversation_id", "guard", "name", "policy", "scope", "task")

    def __init__(
        self,
        *,
        name: str,
        task: str | None,
        scope: Scope | None,
        policy: PolicyLike | None,
        approver: Any,
        guard: Guard | None,
        conversation_id: str | None,
    ) -> None:
        self.name = name
        self.task = task
        self.scope = scope
        self.policy = policy
        self.approver = approver
        self.guard = guard
        self.conversation_id = conversation_id

    def open(self) -> RunState:
        guard = self.guard or default_guard()
        if guard.propagate_to_threads:
            ensure_thread_propagation()
        run_id = uuid.uuid4().hex
        conversation_id = self.conversation_id or run_id
        attributes: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.GEN_AI_AGENT_NAME: self.name,
            sc.GEN_AI_CONVERSATION_ID: conversation_id,
            sc.RUN_ID: run_id,
        }
        if self.task:
            attributes[sc.TASK] = self.task
        if self.scope is not None:
            attributes[sc.SCOPE_ROOT] = self.scope.root
            attributes[sc.SCOPE_READ] = self.scope.read
            attributes[sc.SCOPE_WRITE] = self.scope.write
            attributes[sc.SCOPE_HOSTS] = self.scope.hosts
        try:
            span = guard.tracer.start_span(
                f"{sc.OP_INVOKE_AGENT} {self.name}", kind=SpanKind.INTERNAL, attributes=attributes
            )
        except Exception as exc:
            _safe.report("guarded.start_span", exc)
            span = trace.INVALID_SPAN
        return RunState(
            run_id=run_id,
            name=self.name,
            task=self.task,
            scope=self.scope,
            guard=guard,
            conversation_id=conversation_id,
            span=span,
            policy=self.policy,
            approver=self.approver,
            parent=current_run(),
            history=deque(maxlen=guard.history_size),
        )


def _close(run: RunState, error: BaseException | None, result: Any = None) -> None:
    """End the run: run-level detectors, totals on the span, status, metrics. Never raises.

    ``result`` is the agent function's return value (its final message when it is a ``str``).
    """
    _detect.on_run_end(run, result, error)
    run.ended = True
    try:
        span = run.span
        if span.is_recording():
            span.set_attributes(
                {
                    sc.RUN_INPUT_TOKENS: run.input_tokens,
                    sc.RUN_OUTPUT_TOKENS: run.output_tokens,
                    sc.RUN_LLM_CALLS: run.llm_calls,
                    sc.RUN_TOOL_CALLS: run.tool_calls,
                    sc.RUN_REFUSALS: run.refusals,
                }
            )
            if run.cost_known:
                span.set_attribute(sc.RUN_COST_USD, run.cost_usd)
            if error is not None:
                span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
        labels = {sc.LABEL_AGENT: run.name, sc.LABEL_OUTCOME: "error" if error is not None else "ok"}
        instruments = run.guard.instruments
        instruments.runs.add(1, labels)
        instruments.run_duration.record(run.duration_s, labels)
    except Exception as exc:
        _safe.report("guarded.close", exc)


def _is_failure(exc: BaseException) -> bool:
    # GeneratorExit (a consumer stopped early) and cancellation-free exits are not failures.
    return not isinstance(exc, GeneratorExit)


def _make_wrapper(spec: _RunSpec, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(fn):

        @wrapt.decorator
        async def async_gen_wrapper(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> AsyncGenerator[Any, Any]:
            run = spec.open()
            error: BaseException | None = None
            try:
                with run.activate():
                    agen = wrapped(*args, **kwargs)
                to_send: Any = None
                to_throw: BaseException | None = None
                while True:
                    with run.activate():
                        try:
                            if to_throw is not None:
                                thrown, to_throw = to_throw, None
                                item = await agen.athrow(thrown)
                            else:
                                item = await agen.asend(to_send)
                        except StopAsyncIteration:
                            return
                    try:
                        to_send = yield item
                    except GeneratorExit:
                        with run.activate():
                            await agen.aclose()
                        raise
                    except BaseException as exc:
                        to_throw = exc
            except BaseException as exc:
                if _is_failure(exc):
                    error = exc
                raise
            finally:
                _close(run, error)

        return async_gen_wrapper(fn)

    if inspect.isgeneratorfunction(fn):

        @wrapt.decorator
        def gen_wrapper(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Generator[Any, Any, Any]:
            run = spec.open()
            error: BaseException | None = None
            final: Any = None
            try:
                with run.activate():
                    gen = wrapped(*args, **kwargs)
                to_send: Any = None
                to_throw: BaseException | None = None
                while True:
                    with run.activate():
                        try:
                            if to_throw is not None:
                                thrown, to_throw = to_throw, None
                                item = gen.throw(thrown)
                            else:
                                item = gen.send(to_send)
                        except StopIteration as stop:
                            final = stop.value
                            return final
                    try:
                        to_send = yield item
                    except GeneratorExit:
                        with run.activate():
                            gen.close()
                        raise
                    except BaseException as exc:
                        to_throw = exc
            except BaseException as exc:
                if _is_failure(exc):
                    error = exc
                raise
            finally:
                _close(run, error, final)

        return gen_wrapper(fn)

    if inspect.iscoroutinefunction(fn):

        @wrapt.decorator
        async def async_wrapper(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            run = spec.open()
            error: BaseException | None = None
            result: Any = None
            try:
                with run.activate():
                    result = await wrapped(*args, **kwargs)
                return result
            except BaseException as exc:
                error = exc
                raise
            finally:
                _close(run, error, result)

        return async_wrapper(fn)

    @wrapt.decorator
    def sync_wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        run = spec.open()
        error: BaseException | None = None
        result: Any = None
        try:
            with run.activate():
                result = wrapped(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            _close(run, error, result)

    return sync_wrapper(fn)


@overload
def guarded(fn: F, /) -> F: ...
@overload
def guarded(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    task: str | None = None,
    scope: Scope | None = None,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    conversation_id: str | None = None,
) -> Callable[[F], F]: ...
def guarded(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    task: str | None = None,
    scope: Scope | None = None,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    conversation_id: str | None = None,
) -> F | Callable[[F], F]:
    """Run the decorated agent function as a guarded run (see the module docstring)."""

    def decorate(func: F) -> F:
        spec = _RunSpec(
            name=name or str(getattr(func, "__name__", "agent")),
            task=task,
            scope=scope or getattr(policy, "scope", None),
            policy=policy,
            approver=approver,
            guard=guard,
            conversation_id=conversation_id,
        )
        return _make_wrapper(spec, func)  # type: ignore[return-value]

    if fn is not None:
        return decorate(fn)
    return decorate
