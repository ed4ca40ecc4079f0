"""MCP integration (``pip install 'agentguard[mcp]'``).

::

    from mcp import Client
    from agentguard.integrations.mcp import guard_session, guard_tool

    async with Client(server) as client:
        session = guard_session(client, policy=policy)       # or a ClientSession
        result = await session.call_tool("write_file", {"path": "/etc/passwd", "content": "x"})
        result.is_error, result.content[0].text               # True, 'Denied by policy: ...'

``guard_session`` decides every ``call_tool`` before the request is sent (the action is read from the
tool's name, arguments and input schema); ``guard_tool`` guards a server's tool functions. A denial
is an ``is_error`` result whose text is the reason.
"""

from __future__ import annotations

from .._require import require

require("mcp", extra="mcp")

from ._schema import mcp_action, schema_roles  # noqa: E402
from ._server import guard_tool  # noqa: E402
from ._session import GuardedSession, guard_session  # noqa: E402

__all__ = ["GuardedSession", "guard_session", "guard_tool", "mcp_action", "schema_roles"]
