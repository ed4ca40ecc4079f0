"""``guard_tool``: a server-side guard for the tools of an ``MCPServer`` (or any MCP tool function).

::

    server = MCPServer("files")

    @server.tool()
    @guard_tool(policy=policy)
    async def write_file(path: str, content: str) -> str: ...

The wrapper keeps the function's name, signature and annotations (MCP builds the tool's schema from
them). A denied call never runs: the client gets a ``CallToolResult`` with ``is_error`` set and the
reason as its text. The step records on the server's own ``tools/call`` span (MCP's
``OpenTelemetryMiddleware``, on by default) instead of opening a second one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from ...guard import Guard, PolicyLike
from .._steps import resolve_guard, start_tool
from ._schema import mcp_action
from ._session import denial_result

F = TypeVar("F", bound=Callable[..., Any])


@overload
def guard_tool(
    fn: F,
    /,
    *,
    policy: PolicyLike | None = ...,
    approver: Any = ...,
    guard: Guard | None = ...,
    kind: str | None = ...,
    name: str | None = ...,
) -> F: ...
@overload
def guard_tool(
    fn: None = None,
    /,
    *,
    policy: PolicyLike | None = ...,
    approver: Any = ...,
    guard: Guard | None = ...,
    kind: str | None = ...,
    name: str | None = ...,
) -> Callable[[F], F]: ...
def guard_tool(
    fn: F | None = None,
    /,
    *,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    kind: str | None = None,
    name: str | None = None,
) -> F | Callable[[F], F]:
    """Guard an MCP server tool function (sync or async); the result is always a coroutine function."""
    resolved = resolve_guard(guard, policy, approver)

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        tool_name = name or str(getattr(func, "__name__", "tool"))
        kinds: Mapping[str, str] | None = {tool_name: kind} if kind else None
        description = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else None

        @functools.wraps(func)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind_partial(*args, **kwargs).arguments
            except TypeError:
                bound = dict(kwargs)
            arguments = {
                k: v
                for k, v in bound.items()
                if isinstance(v, (str, int, float, bool, list, dict, type(None)))
            }
            step = start_tool(
                mcp_action(tool_name, arguments, kinds=kinds), guard=resolved, description=description
            )
            if (await step.adecide()).blocks:
                step.finish()
                return denial_result(step)
            return await step.acall(lambda: func(*args, **kwargs))

        return guarded  # type: ignore[return-value]

    if fn is not None:
        return decorate(fn)
    return decorate
