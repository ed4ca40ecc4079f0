"""MCP: guard_session on a real in-process client/server pair, and guard_tool on the server side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import mcp.shared._otel as mcp_otel
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from mcp.server.mcpserver import MCPServer
from opentelemetry.sdk.trace import ReadableSpan

import agentguard as ag
from agentguard.integrations.mcp import guard_session, guard_tool, mcp_action
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

POLICY = ag.Policy(scope=ag.Scope(root="/work", write=["src/**"], read=["**"]))

written: list[str] = []
ran: list[str] = []


def make_server() -> MCPServer:
    server = MCPServer("files")

    @server.tool()
    def write_file(path: str, content: str) -> str:
        """Write a text file."""
        written.append(path)
        return f"wrote {path}"

    @server.tool()
    def execute(line: str) -> str:
        """Run a shell command line in the workspace."""
        ran.append(line)
        return "ok"

    return server


@pytest.fixture(autouse=True)
def _reset() -> None:
    written.clear()
    ran.clear()


@pytest.fixture
def mcp_spans(cap: CapturingGuard, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MCP's own spans (client send and server tools/call) into the test's provider."""
    monkeypatch.setattr(mcp_otel, "_tracer", cap.tracer_provider.get_tracer("mcp-python-sdk"))
    yield


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def decided(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if any(e.name == sc.EVENT_POLICY_DECISION for e in s.events)]


def run(session_fn: Callable[[Any], Awaitable[Any]], server: MCPServer | None = None) -> Any:
    async def main() -> Any:
        async with Client(server or make_server()) as client:
            return await session_fn(client)

    return asyncio.run(main())


def test_an_out_of_scope_call_is_never_sent_and_the_result_is_the_reason(
    cap: CapturingGuard, mcp_spans: None
) -> None:
    async def call(client: Any) -> Any:
        session = guard_session(client, policy=POLICY, guard=cap.guard)
        return await session.call_tool("write_file", {"path": "/etc/passwd", "content": "x"})

    result = run(call)
    assert written == []
    assert result.is_error is True
    assert result.content[0].text.startswith("Denied by policy")
    assert not [s for s in cap.spans() if s.name.startswith("MCP send tools/call")]  # nothing was sent
    (span,) = decided(cap.spans())
    assert span.name == "execute_tool write_file"
    assert attrs(span)[sc.POLICY_DECISION] == "deny"


def test_an_allowed_call_goes_through_with_mcp_spans_nested_under_the_step(
    cap: CapturingGuard, mcp_spans: None
) -> None:
    async def call(client: Any) -> Any:
        session = guard_session(client, policy=POLICY, guard=cap.guard)
        return await session.call_tool("write_file", {"path": "src/a.py", "content": "x"})

    result = run(call)
    assert written == ["src/a.py"]
    assert result.is_error is False
    ours = cap.span("execute_tool write_file")
    server_span = cap.span("tools/call write_file")  # MCP's own server span, in our trace
    assert server_span.parent is not None and server_span.parent.span_id == ours.context.span_id
    assert len(decided(cap.spans())) == 1


def test_the_tool_description_says_its_one_argument_is_the_command(cap: CapturingGuard) -> None:
    policy = ag.Policy(rules=[ag.rules.destructive_commands()])

    async def call(client: Any) -> Any:
        session = guard_session(client, policy=policy, guard=cap.guard)
        denied = await session.call_tool("execute", {"line": "rm -rf ~"})
        allowed = await session.call_tool("execute", {"line": "ls"})
        return denied, allowed

    denied, allowed = run(call)
    assert ran == ["ls"]
    assert denied.is_error and "Denied by policy" in denied.content[0].text
    assert not allowed.is_error
    assert [attrs(s)[sc.TOOL_KIND] for s in cap.spans() if s.name == "execute_tool execute"] == [
        "shell",
        "shell",
    ]


@pytest.mark.parametrize(("granted", "expected"), [(True, ["/work/src/a.py"]), (False, [])])
def test_an_ask_goes_to_the_approver(cap: CapturingGuard, granted: bool, expected: list[str]) -> None:
    def ask_writes(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
        return ag.Decision.ask("writes need a human") if action.kind == "file_write" else None

    async def call(client: Any) -> Any:
        session = guard_session(
            client,
            policy=ag.Policy(rules=[ask_writes]),
            approver=ag.CallbackApprover(lambda request: granted),
            guard=cap.guard,
        )
        return await session.call_tool("write_file", {"path": "/work/src/a.py", "content": "x"})

    result = run(call)
    assert written == expected
    assert result.is_error is (not granted)


def test_a_server_side_guard_answers_a_denial_as_an_error_result_on_the_servers_own_span(
    cap: CapturingGuard, mcp_spans: None
) -> None:
    server = MCPServer("guarded")

    @server.tool()
    @guard_tool(policy=POLICY, guard=cap.guard)
    def write_file(path: str, content: str) -> str:
        """Write a text file."""
        written.append(path)
        return f"wrote {path}"

    async def call(client: Any) -> Any:
        tools = await client.list_tools()
        schema = tools.tools[0].input_schema
        denied = await client.call_tool("write_file", {"path": "/etc/passwd", "content": "x"})
        allowed = await client.call_tool("write_file", {"path": "src/ok.py", "content": "x"})
        return schema, denied, allowed

    schema, denied, allowed = run(call, server)
    assert set(schema["properties"]) == {"path", "content"}  # MCP still sees the function's signature
    assert written == ["src/ok.py"]
    assert denied.is_error and denied.content[0].text.startswith("Denied by policy")
    assert not allowed.is_error
    spans = cap.spans()
    assert not [s for s in spans if s.name.startswith("execute_tool")]  # no second span: MCP's is enriched
    server_spans = [s for s in spans if s.name == "tools/call write_file"]
    assert [attrs(s)[sc.POLICY_DECISION] for s in server_spans] == ["deny", "allow"]


def test_without_the_extra_the_import_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    for mod in [m for m in sys.modules if m.startswith("agentguard.integrations.mcp")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "mcp", None)
    with pytest.raises(ImportError, match=r"agentguard\[mcp\]"):
        importlib.import_module("agentguard.integrations.mcp")


ARG_NAMES = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(
    lambda n: (
        n not in {"command", "cmd", "script", "path", "url", "uri", "file", "cwd", "content", "text", "data"}
    )
)


@given(name=ARG_NAMES, value=st.text(min_size=1, max_size=40))
def test_any_argument_the_schema_calls_a_uri_is_the_url(name: str, value: str) -> None:
    schema = {"type": "object", "properties": {name: {"type": "string", "format": "uri"}}}
    action = mcp_action("fetch_page", {name: value}, schema=schema)
    assert action.url == value
    assert action.kind == "network"


@given(
    name=ARG_NAMES,
    description=st.sampled_from(["The file to read", "Directory path", "path of the target folder"]),
    read_only=st.booleans(),
)
def test_any_argument_described_as_a_path_is_the_path_and_the_hint_picks_read_or_write(
    name: str, description: str, read_only: bool
) -> None:
    schema = {"type": "object", "properties": {name: {"type": "string", "description": description}}}
    action = mcp_action("thing", {name: "/etc/shadow"}, schema=schema, read_only=read_only)
    assert action.path == "/etc/shadow"
    assert action.kind == ("file_read" if read_only else "file_write")
    # a write verb in the tool's name is not downgraded by the server's (untrusted) read-only hint
    touched = mcp_action("touch_thing", {name: "/etc/shadow"}, schema=schema, read_only=read_only)
    assert touched.kind == "file_write"
