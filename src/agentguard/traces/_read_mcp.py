"""MCP spans (the OTel MCP semantic conventions) read into observations.

A ``tools/call`` span (``mcp.method.name``), client or server side, is a tool execution: the tool from
``gen_ai.tool.name`` (else the span name ``tools/call {tool}``), arguments from
``gen_ai.tool.call.arguments`` or the ``mcp.request.argument.*`` attributes, the result from
``gen_ai.tool.call.result``. It is marked ``mcp`` so that the session assembly counts it once with the
tool span around it (the agent's own ``execute_tool``, an OpenInference ``TOOL``) and with the other
side's span of the same request. Other MCP methods (``initialize``, ``tools/list``...) say nothing a
detector reads.
"""

from __future__ import annotations

from typing import Any

from ..detect import UNCAPTURED
from ..telemetry import semconv as sc
from ._messages import arguments
from ._observations import Observation, ToolObservation, content, error_of
from ._read_genai import result_text
from ._record import Span

METHOD = "mcp.method.name"
TOOLS_CALL = "tools/call"
_ARGUMENT_PREFIX = "mcp.request.argument."
ATTRIBUTES = frozenset({METHOD, "mcp.tool.name"})
PREFIXES = (_ARGUMENT_PREFIX,)


def read(span: Span) -> Observation | None:
    a = span.attributes
    method = a.get(METHOD)
    if method is None:
        return None
    if method != TOOLS_CALL:
        return None
    name = a.get(sc.GEN_AI_TOOL_NAME) or a.get("mcp.tool.name")
    if not isinstance(name, str) or not name:
        name = span.name.removeprefix(TOOLS_CALL).strip() or "tool"
    args = arguments(content(a.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)))[0]
    if args is UNCAPTURED:
        flat: dict[str, Any] = {
            k[len(_ARGUMENT_PREFIX) :]: v for k, v in a.items() if k.startswith(_ARGUMENT_PREFIX)
        }
        if flat:
            args = flat
    call_id = a.get(sc.GEN_AI_TOOL_CALL_ID)
    return ToolObservation(
        span=span,
        name=name,
        call_id=call_id if isinstance(call_id, str) else "",
        arguments=args,
        result=result_text(a.get(sc.GEN_AI_TOOL_CALL_RESULT)),
        error=error_of(span),
        mcp=True,
    )
