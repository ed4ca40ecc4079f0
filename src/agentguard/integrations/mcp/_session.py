"""``guard_session(session)``: every ``call_tool`` of an MCP client is decided before it is sent.

Works on a ``ClientSession`` and on the high-level ``Client`` (anything with ``call_tool`` and
``list_tools``). The returned object is the session itself behind a proxy: everything but
``call_tool`` and ``list_tools`` passes straight through. A denied call is never sent: it returns a
``CallToolResult`` with ``is_error`` set and the reason as its text. MCP's own client span (``MCP send
tools/call``) and the server's span nest under the step's ``execute_tool`` span, with the trace
context carried in the request's ``_meta`` as MCP does it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import wrapt
from mcp_types import CallToolResult, TextContent

from ... import _safe
from ...guard import Guard, PolicyLike
from .._steps import ToolStep, resolve_guard, start_tool
from ._schema import mcp_action


class _ToolInfo:
    __slots__ = ("description", "read_only", "schema")

    def __init__(self, tool: Any) -> None:
        self.schema: Mapping[str, Any] | None = getattr(tool, "input_schema", None)
        annotations = getattr(tool, "annotations", None)
        self.read_only: bool | None = getattr(annotations, "read_only_hint", None)
        self.description: str | None = getattr(tool, "description", None)


class GuardedSession(wrapt.ObjectProxy):  # type: ignore[type-arg]
    """An MCP client session whose tool calls pass the policy first (see :func:`guard_session`)."""

    def __init__(self, session: Any, *, guard: Guard, kinds: Mapping[str, str] | None) -> None:
        super().__init__(session)
        self._self_guard = guard
        self._self_kinds = dict(kinds or {})
        self._self_tools: dict[str, _ToolInfo] = {}
        self._self_listed = False

    async def list_tools(self, *args: Any, **kwargs: Any) -> Any:
        result = await self.__wrapped__.list_tools(*args, **kwargs)
        self._self_remember(result)
        return result

    def _self_remember(self, result: Any) -> None:
        try:
            for tool in getattr(result, "tools", None) or ():
                self._self_tools[str(tool.name)] = _ToolInfo(tool)
            self._self_listed = True
        except Exception as exc:
            _safe.report("mcp.list_tools", exc)

    async def _self_info(self, name: str) -> _ToolInfo | None:
        info = self._self_tools.get(name)
        if info is None and not self._self_listed:
            try:  # the schema says which argument is a path, a command or a URL: list the tools once
                self._self_remember(await self.__wrapped__.list_tools())
            except Exception as exc:
                _safe.report("mcp.list_tools", exc)
                self._self_listed = True
            info = self._self_tools.get(name)
        return info

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        info = await self._self_info(name)
        action = mcp_action(
            name,
            arguments,
            schema=info.schema if info else None,
            read_only=info.read_only if info else None,
            description=info.description if info else None,
            kinds=self._self_kinds,
        )
        step = start_tool(action, guard=self._self_guard, description=info.description if info else None)
        if (await step.adecide()).blocks:
            step.finish()
            return denial_result(step)
        return await step.acall(
            lambda: self.__wrapped__.call_tool(name, arguments, *args, **kwargs), record=_text
        )


def denial_result(step: ToolStep) -> CallToolResult:
    """The ``CallToolResult`` of a denied call: ``is_error``, the reason as text."""
    return CallToolResult(content=[TextContent(type="text", text=step.denial_text())], is_error=True)


def _text(result: Any) -> Any:
    content = getattr(result, "content", None)
    if isinstance(content, list):
        return "\n".join(str(getattr(c, "text", "")) for c in content if getattr(c, "text", None) is not None)
    return result


def guard_session(
    session: Any,
    *,
    policy: PolicyLike | None = None,
    approver: Any = None,
    guard: Guard | None = None,
    kinds: Mapping[str, str] | None = None,
) -> Any:
    """``session`` (a ``ClientSession`` or ``Client``) with every ``call_tool`` decided before it is sent.

    ``kinds`` maps tool names to action kinds where neither the name, the arguments nor the schema say it.
    """
    if isinstance(session, GuardedSession):
        return session
    return GuardedSession(session, guard=resolve_guard(guard, policy, approver), kinds=kinds)
