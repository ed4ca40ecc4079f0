"""``@tool``: wrap an agent's tool so every call is decided, traced and counted.

::

    @agentguard.tool(kind="file_write")
    def write_file(path: str, content: str) -> str: ...

    run = agentguard.tool(subprocess_runner, kind="shell", name="run", args={"command": "cmd"})

Each call builds an :class:`~agentguard.action.Action` (the canonical arguments ``path``, ``content``,
``command``, ``cwd`` and ``url`` are found by parameter name, or through ``args=`` mapping a canonical
name to the function's parameter), asks the guard for a decision, and runs inside an
``execute_tool {name}`` span: the wrapper is a thin adapter over the guard's
:class:`~agentguard.guard.ToolStep`. A denied call never runs: it raises :class:`~agentguard.Denied`, or,
with ``on_deny="return"``, returns the denial text so the model can recover.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from .. import _safe
from ..action import CANONICAL_ARGUMENTS, CANONICAL_BY_KIND, Action, ActionKind, normalise_kind
from ..guard import Guard, OnDeny, RunState, ToolSpec, ToolStep, current_run, default_guard, start_tool

F = TypeVar("F", bound=Callable[..., Any])

_CANDIDATES = CANONICAL_ARGUMENTS
_FACTS_BY_KIND = CANONICAL_BY_KIND


class _Binder:
    """Maps a call's ``(args, kwargs)`` to parameter names, prepared once at wrap time."""

    __slots__ = ("_known", "_names", "_npos", "_required", "_signature", "_simple")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._signature = inspect.signature(fn)
        params = list(self._signature.parameters.values())
        kinds = {p.kind for p in params}
        self._simple = not kinds & {
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
            inspect.Parameter.POSITIONAL_ONLY,
        }
        self._names = tuple(p.name for p in params)
        self._known = frozenset(self._names)
        self._npos = sum(
            p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for p in params
        )
        self._required = frozenset(p.name for p in params if p.default is inspect.Parameter.empty)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self._names

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """The arguments by name, or ``None`` when the call does not fit the signature."""
        if self._simple and len(args) <= self._npos:
            bound = dict(zip(self._names, args, strict=False))
            for key, value in kwargs.items():
                if key in bound or key not in self._known:
                    return None
                bound[key] = value
            if self._required.issubset(bound):
                return bound
            return None
        try:
            ba = self._signature.bind(*args, **kwargs)
        except TypeError:
            return None
        return dict(ba.arguments)


class ToolWrapper:
    """The per-tool state a wrapped tool's calls share (built once at wrap time)."""

    __slots__ = ("_binder", "_facts", "description", "guard", "kind", "name", "on_deny", "spec")

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        kind: ActionKind,
        name: str,
        description: str | None,
        args: Mapping[str, str] | None,
        guard: Guard | None,
        on_deny: OnDeny | None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.description = description
        self.guard = guard
        self.on_deny = on_deny
        self._binder = _Binder(fn)
        params = self._binder.parameters
        facts: list[tuple[str, str]] = []
        mapping = dict(args or {})
        for canonical, param in mapping.items():
            if canonical not in _CANDIDATES:
                raise ValueError(
                    f"unknown canonical argument {canonical!r}; use one of {sorted(_CANDIDATES)}"
                )
            if param not in params:
                raise ValueError(f"{name}: args maps {canonical!r} to {param!r}, which is not a parameter")
        for canonical in _FACTS_BY_KIND.get(kind, ()):
            if canonical in mapping:
                facts.append((canonical, mapping[canonical]))
                continue
            found = next((p for p in _CANDIDATES[canonical] if p in params), None)
            if found is not None:
                facts.append((canonical, found))
        for canonical, param in mapping.items():
            if (canonical, param) not in facts:
                facts.append((canonical, param))
        self._facts = tuple(facts)
        self.spec = ToolSpec(name=name, kind=kind, description=description)

    # -- per call ----------------------------------------------------------------------------------
    def build_action(self, bound: dict[str, Any], run: RunState | None) -> Action:
        action = Action(kind=self.kind, tool=self.name, arguments=bound)
        for canonical, param in self._facts:
            value = bound.get(param)
            if value is not None:
                setattr(action, canonical, value if isinstance(value, str) else str(value))
        if run is not None:
            action.call_id = run.take_tool_call_id(self.name)
        return action

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolStep | None:
        """The call's step; ``None`` when the call does not fit the signature."""
        binder = self._binder
        if instance is None:
            bound = binder.bind(args, kwargs)
        else:  # a method: wrapt passes self (or cls) apart from args
            bound = binder.bind((instance, *args), kwargs)
            if bound is not None:
                bound.pop(binder.parameters[0], None)
        if bound is None:
            return None
        run = current_run()
        guard = self.guard or (run.guard if run is not None else default_guard())
        return start_tool(guard, self.build_action(bound, run), run=run, spec=self.spec, on_deny=self.on_deny)


def _make_wrapper(tw: ToolWrapper, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @wrapt.decorator
        async def async_tool(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            try:
                step = tw.start(instance, args, kwargs)
            except Exception as exc:
                _safe.report("tool.start", exc)
                return await wrapped(*args, **kwargs)
            if step is None:  # let the function raise its own TypeError
                return await wrapped(*args, **kwargs)
            if step.needs_decision and (await step.adecide()).blocks:
                return step.blocked_result()
            error: BaseException | None = None
            result: Any = None
            token = otel_context.attach(trace.set_span_in_context(step.span))
            try:
                result = await wrapped(*args, **kwargs)
                return result
            except BaseException as exc:
                error = exc
                raise
            finally:
                otel_context.detach(token)
                step.finish(result=result, error=error)

        return async_tool(fn)

    @wrapt.decorator
    def sync_tool(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            step = tw.start(instance, args, kwargs)
        except Exception as exc:
            _safe.report("tool.start", exc)
            return wrapped(*args, **kwargs)
        if step is None:  # let the function raise its own TypeError
            return wrapped(*args, **kwargs)
        if step.needs_decision and step.decide().blocks:
            return step.blocked_result()
        error: BaseException | None = None
        result: Any = None
        token = otel_context.attach(trace.set_span_in_context(step.span))
        try:
            result = wrapped(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            otel_context.detach(token)
            step.finish(result=result, error=error)

    return sync_tool(fn)


@overload
def tool(
    fn: F,
    /,
    *,
    kind: str = ...,
    name: str | None = ...,
    description: str | None = ...,
    args: Mapping[str, str] | None = ...,
    guard: Guard | None = ...,
    on_deny: OnDeny | None = ...,
) -> F: ...
@overload
def tool(
    fn: None = None,
    /,
    *,
    kind: str = ...,
    name: str | None = ...,
    description: str | None = ...,
    args: Mapping[str, str] | None = ...,
    guard: Guard | None = ...,
    on_deny: OnDeny | None = ...,
) -> Callable[[F], F]: ...
def tool(
    fn: F | None = None,
    /,
    *,
    kind: str = "other",
    name: str | None = None,
    description: str | None = None,
    args: Mapping[str, str] | None = None,
    guard: Guard | None = None,
    on_deny: OnDeny | None = None,
) -> F | Callable[[F], F]:
    """Wrap a tool function (sync or async) so each call is decided, traced and counted.

    ``kind`` is one of ``file_read``, ``file_write``, ``shell``, ``network``, ``other`` (or an alias such
    as ``write_file`` or ``bash``); ``args`` maps canonical argument names (``path``, ``content``,
    ``command``, ``cwd``, ``url``) to the function's parameter names when they differ.
    """
    action_kind = normalise_kind(kind)

    def decorate(func: F) -> F:
        tw = ToolWrapper(
            func,
            kind=action_kind,
            name=name or str(getattr(func, "__name__", "tool")),
            description=description if description is not None else _first_line(func.__doc__),
            args=args,
            guard=guard,
            on_deny=on_deny,
        )
        wrapper = _make_wrapper(tw, func)
        wrapper._agentguard_tool = tw  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    if fn is not None:
        return decorate(fn)
    return decorate


def _first_line(doc: str | None) -> str | None:
    if not doc:
        return None
    line = doc.strip().splitlines()[0].strip()
    return line or None
