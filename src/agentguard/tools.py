"""``@tool``: wrap an agent's tool so every call is decided, traced and counted.

::

    @agentguard.tool(kind="file_write")
    def write_file(path: str, content: str) -> str: ...

    run = agentguard.tool(subprocess_runner, kind="shell", name="run", args={"command": "cmd"})

Each call builds an :class:`~agentguard.action.Action` (the canonical arguments ``path``, ``content``,
``command``, ``cwd`` and ``url`` are found by parameter name, or through ``args=`` mapping a canonical
name to the function's parameter), asks the guard for a decision, and runs inside an
``execute_tool {name}`` span. A denied call never runs: it raises :class:`~agentguard.Denied`, or,
with ``on_deny="return"``, returns the denial text so the model can recover.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from . import _safe
from . import semconv as sc
from .action import CANONICAL_ARGUMENTS, CANONICAL_BY_KIND, Action, ActionKind, normalise_kind
from .content import to_text
from .decision import ALLOW, Decision, Denied
from .detect import _online as _detect
from .guard import Guard, OnDeny, default_guard
from .run import RunState, current_run

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

    __slots__ = (
        "_attrs",
        "_binder",
        "_facts",
        "_metric_labels",
        "_span_name",
        "description",
        "guard",
        "kind",
        "name",
        "on_deny",
    )

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
        self._span_name = f"{sc.OP_EXECUTE_TOOL} {name}"
        self._attrs: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.GEN_AI_TOOL_NAME: name,
            sc.GEN_AI_TOOL_TYPE: "function",
            sc.TOOL_KIND: kind,
        }
        if description:
            self._attrs[sc.GEN_AI_TOOL_DESCRIPTION] = description
        self._metric_labels = {sc.LABEL_KIND: kind, sc.GEN_AI_TOOL_NAME: name}

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

    def start(self, guard: Guard, action: Action) -> trace.Span:
        attrs = self._attrs
        if action.call_id is not None:
            attrs = {**attrs, sc.GEN_AI_TOOL_CALL_ID: action.call_id}
        span = guard.tracer.start_span(self._span_name, kind=SpanKind.INTERNAL, attributes=attrs)
        if guard.capture_content and span.is_recording():
            span.set_attribute(sc.GEN_AI_TOOL_CALL_ARGUMENTS, to_text(dict(action.arguments)))
        return span

    def record_decision(self, span: trace.Span, guard: Guard, decision: Decision) -> None:
        if span.is_recording():
            span.set_attribute(sc.POLICY_DECISION, decision.outcome)
            if decision.approval is not None:
                span.set_attributes(decision.approval_attributes())
            span.add_event(sc.EVENT_POLICY_DECISION, decision.event_attributes())
        guard.instruments.decisions.add(1, {**decision.metric_attributes(), **self._metric_labels})

    def denial(self, guard: Guard, decision: Decision) -> str:
        """What a denied call returns (``on_deny="return"``) or raises."""
        mode = self.on_deny or guard.on_deny
        if mode == "return":
            return f"Denied by policy: {decision.explain()}"
        raise Denied(decision, tool=self.name)

    def finish(
        self,
        span: trace.Span,
        guard: Guard,
        run: RunState | None,
        action: Action,
        result: Any,
        error: BaseException | None,
    ) -> None:
        try:
            if span.is_recording():
                if error is not None:
                    span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
                    span.record_exception(error)
                    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
                elif guard.capture_content:
                    span.set_attribute(sc.GEN_AI_TOOL_CALL_RESULT, to_text(result))
            if run is not None:
                _detect.on_tool_result(run, guard, action, span, result, error)
            span.end()
            if run is not None:
                run.record_action(action)
            if error is None:
                guard.instruments.tool_calls.add(1, self._metric_labels, self)
            else:
                error_type = type(error).__qualname__
                labels = {**self._metric_labels, sc.ERROR_TYPE: error_type}
                guard.instruments.tool_calls.add(1, labels, (self, error_type))
        except Exception as exc:
            _safe.report("tool.finish", exc)


def _prepare(
    tw: ToolWrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Guard, RunState | None, Action, trace.Span] | None:
    """Our work before a call; ``None`` means the call does not fit the signature."""
    if instance is None:
        bound = tw._binder.bind(args, kwargs)
    else:  # a method: wrapt passes self (or cls) apart from args
        bound = tw._binder.bind((instance, *args), kwargs)
        if bound is not None:
            bound.pop(tw._binder.parameters[0], None)
    if bound is None:
        return None
    run = current_run()
    guard = tw.guard or (run.guard if run is not None else default_guard())
    action = tw.build_action(bound, run)
    try:
        span = tw.start(guard, action)
    except Exception as exc:
        _safe.report("tool.start", exc)
        span = trace.INVALID_SPAN
    if run is not None:
        _detect.on_tool_call(run, action, span)
    return guard, run, action, span


def _decide(
    tw: ToolWrapper, guard: Guard, run: RunState | None, action: Action, span: trace.Span
) -> Decision:
    decision = guard.decide(action, run)
    if decision is ALLOW:  # no policy: nothing was decided, nothing to record
        return decision
    try:
        tw.record_decision(span, guard, decision)
    except Exception as exc:
        _safe.report("tool.record_decision", exc)
    if run is not None:
        _detect.on_decision(run, action, decision, span)
    return decision


async def _adecide(
    tw: ToolWrapper, guard: Guard, run: RunState | None, action: Action, span: trace.Span
) -> Decision:
    if guard.policy is None and (run is None or run.policy is None):
        return ALLOW  # no policy: skip the coroutine on the hot path
    decision = await guard.adecide(action, run)
    if decision is ALLOW:
        return decision
    try:
        tw.record_decision(span, guard, decision)
    except Exception as exc:
        _safe.report("tool.record_decision", exc)
    if run is not None:
        _detect.on_decision(run, action, decision, span)
    return decision


def _make_wrapper(tw: ToolWrapper, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @wrapt.decorator
        async def async_tool(
            wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Any:
            try:
                prepared = _prepare(tw, instance, args, kwargs)
            except Exception as exc:
                _safe.report("tool.prepare", exc)
                return await wrapped(*args, **kwargs)
            if prepared is None:  # let the function raise its own TypeError
                return await wrapped(*args, **kwargs)
            guard, run, action, span = prepared
            decision = await _adecide(tw, guard, run, action, span)
            if decision.denied and decision.mode == "enforce":
                tw.finish(span, guard, run, action, None, None)
                return tw.denial(guard, decision)
            token = otel_context.attach(trace.set_span_in_context(span))
            error: BaseException | None = None
            result: Any = None
            try:
                result = await wrapped(*args, **kwargs)
                return result
            except BaseException as exc:
                error = exc
                raise
            finally:
                otel_context.detach(token)
                tw.finish(span, guard, run, action, result, error)

        return async_tool(fn)

    @wrapt.decorator
    def sync_tool(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            prepared = _prepare(tw, instance, args, kwargs)
        except Exception as exc:
            _safe.report("tool.prepare", exc)
            return wrapped(*args, **kwargs)
        if prepared is None:  # let the function raise its own TypeError
            return wrapped(*args, **kwargs)
        guard, run, action, span = prepared
        decision = _decide(tw, guard, run, action, span)
        if decision.denied and decision.mode == "enforce":
            tw.finish(span, guard, run, action, None, None)
            return tw.denial(guard, decision)
        token = otel_context.attach(trace.set_span_in_context(span))
        error: BaseException | None = None
        result: Any = None
        try:
            result = wrapped(*args, **kwargs)
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            otel_context.detach(token)
            tw.finish(span, guard, run, action, result, error)

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
