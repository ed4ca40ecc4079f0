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

from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from ..action import Scope
    from ..approval import AnyApprover
    from ..guard import Guard, PolicyLike, RunState

# This module is imported with the package (``agentguard.guarded`` is the decorator, and a submodule of
# the same name must not replace it), so everything heavy is imported when a function is decorated.

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
        approver: AnyApprover | None,
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
        from ..guard import default_guard, open_run

        return open_run(
            self.guard or default_guard(),
            name=self.name,
            task=self.task,
            scope=self.scope,
            policy=self.policy,
            approver=self.approver,
            conversation_id=self.conversation_id,
        )


def _is_failure(exc: BaseException) -> bool:
    # GeneratorExit (a consumer stopped early) and cancellation-free exits are not failures.
    return not isinstance(exc, GeneratorExit)


def _make_wrapper(spec: _RunSpec, fn: Callable[..., Any]) -> Callable[..., Any]:
    import inspect

    import wrapt

    from ..guard import close_run

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
                close_run(run, error)

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
                close_run(run, error, final)

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
                close_run(run, error, result)

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
            close_run(run, error, result)

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
    approver: AnyApprover | None = None,
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
    approver: AnyApprover | None = None,
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
