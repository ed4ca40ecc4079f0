"""OpenAI Agents SDK: a guarded agent against a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterator
from typing import Any, cast

import pytest
from agents import (
    Agent,
    FunctionTool,
    GuardrailFunctionOutput,
    HostedMCPTool,
    MCPToolApprovalFunctionResult,
    MCPToolApprovalRequest,
    OpenAIChatCompletionsModel,
    RunContextWrapper,
    Runner,
    ShellActionRequest,
    ShellCallData,
    ShellCommandRequest,
    ShellTool,
    function_tool,
    input_guardrail,
    set_trace_processors,
)
from agents.mcp import MCPServer
from mcp_types import CallToolResult, TextContent
from mcp_types import Tool as MCPTool
from openai import AsyncOpenAI
from openai.types.responses.response_output_item import McpApprovalRequest
from opentelemetry.sdk.trace import ReadableSpan

import agentguard as ag
from agentguard.demo import ScriptedServer, Step
from agentguard.integrations.openai_agents import guard, processor
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

# the SDK's default processor exports to the vendor's endpoint: none here, only ours
set_trace_processors([processor()])

POLICY = ag.Policy(scope=ag.Scope(root="/work", write=["src/**"], read=["**"]))


def needs_human(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
    """Deploys are asked."""
    return ag.Decision.ask("deploys need a human") if action.tool == "deploy" else None


ASK_POLICY = ag.Policy(rules=[needs_human])


@pytest.fixture
def llm(cap: CapturingGuard) -> Iterator[None]:
    ag.instrument_openai(guard=cap.guard)
    yield
    ag.uninstrument_openai()


def model(server: ScriptedServer) -> OpenAIChatCompletionsModel:
    client = AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
    return OpenAIChatCompletionsModel(model="gpt-4o-mini-2024-07-18", openai_client=client)


written: list[str] = []
deployed: list[str] = []


@function_tool
def write_file(path: str, content: str) -> str:
    """Write a file."""
    written.append(path)
    return f"wrote {path}"


@function_tool
def deploy(target: str) -> str:
    """Deploy the service."""
    deployed.append(target)
    return f"deployed {target}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    written.clear()
    deployed.clear()


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def tool_messages(server: ScriptedServer) -> list[str]:
    return [
        str(m.get("content"))
        for r in server.requests
        for m in r.get("messages", [])
        if m.get("role") == "tool"
    ]


def decision_events(spans: list[ReadableSpan]) -> list[tuple[str, dict[str, Any]]]:
    """The policy decision events of tool calls (each LLM call has its own too), by span name."""
    return [
        (s.name, dict(e.attributes or {}))
        for s in spans
        if attrs(s).get(sc.GEN_AI_OPERATION_NAME) != "chat"
        for e in s.events
        if e.name == sc.EVENT_POLICY_DECISION
    ]


def test_an_out_of_scope_write_is_denied_before_it_runs_and_the_model_reads_why(
    cap: CapturingGuard, llm: None
) -> None:
    script = [Step(tool_calls=[("write_file", {"path": "/etc/passwd", "content": "x"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="fixer", tools=[write_file], model=model(server)), policy=POLICY, guard=cap.guard
        )
        result = Runner.run_sync(agent, "fix it")
    assert written == []
    assert result.final_output == "done"
    (message,) = tool_messages(server)
    assert message.startswith("Denied by policy")
    assert "/etc/passwd" in message or "scope" in message
    assert [name for name, _ in decision_events(cap.spans())] == ["execute_tool write_file"]
    assert (cap.span("execute_tool write_file").attributes or {})[sc.POLICY_DECISION] == "deny"


def test_an_allowed_call_runs_on_one_tool_span_under_the_agent_run(cap: CapturingGuard, llm: None) -> None:
    script = [Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="fixer", tools=[write_file], model=model(server)), policy=POLICY, guard=cap.guard
        )
        result = Runner.run_sync(agent, "fix it")
    assert result.final_output == "done"
    assert written == ["src/a.py"]
    run_span = cap.span("invoke_agent fixer")
    tool_span = cap.span("execute_tool write_file")
    assert run_span.attributes is not None and run_span.attributes[sc.GEN_AI_AGENT_NAME] == "fixer"
    assert tool_span.parent is not None and tool_span.parent.span_id == run_span.context.span_id
    assert str(attrs(tool_span)[sc.GEN_AI_TOOL_CALL_ID]).startswith("call_")
    assert [n for n, _ in decision_events(cap.spans())] == ["execute_tool write_file"]


def test_run_totals_equal_the_sum_of_the_llm_spans(cap: CapturingGuard, llm: None) -> None:
    script = [
        Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})], prompt_tokens=300),
        Step(text="done", prompt_tokens=500, completion_tokens=20),
    ]
    with ScriptedServer(script) as server:
        agent = guard(Agent(name="fixer", tools=[write_file], model=model(server)), guard=cap.guard)
        asyncio.run(Runner.run(agent, "fix it"))
    chats = [s for s in cap.spans() if s.name.startswith("chat ")]
    assert len(chats) == 2
    run = attrs(cap.span("invoke_agent fixer"))
    assert run[sc.RUN_INPUT_TOKENS] == sum(int(attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS]) for s in chats)
    assert run[sc.RUN_OUTPUT_TOKENS] == sum(int(attrs(s)[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) for s in chats)
    costs = [float(attrs(s)[sc.COST_USD]) for s in chats]
    assert run[sc.RUN_COST_USD] == pytest.approx(sum(costs))
    for chat in chats:
        assert chat.parent is not None
        assert chat.context.trace_id == cap.span("invoke_agent fixer").context.trace_id


def test_run_streamed_gives_the_same_run(cap: CapturingGuard, llm: None) -> None:
    script = [Step(tool_calls=[("write_file", {"path": "/etc/x", "content": "x"})]), Step(text="done")]

    async def main(agent: Agent[Any]) -> Any:
        streamed = Runner.run_streamed(agent, "fix it")
        async for _ in streamed.stream_events():
            pass
        return streamed.final_output

    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="fixer", tools=[write_file], model=model(server)), policy=POLICY, guard=cap.guard
        )
        assert str(asyncio.run(main(agent))).strip() == "done"
    assert written == []
    run = attrs(cap.span("invoke_agent fixer"))
    assert run[sc.RUN_LLM_CALLS] == 2
    assert run[sc.RUN_TOOL_CALLS] == 1


@pytest.mark.parametrize(("granted", "expected"), [(True, ["prod"]), (False, [])])
def test_an_ask_goes_to_the_approver(
    cap: CapturingGuard, llm: None, granted: bool, expected: list[str]
) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    asked: list[str] = []

    def answer(request: ag.ApprovalRequest) -> bool:
        asked.append(request.tool)
        return granted

    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="ops", tools=[deploy], model=model(server)),
            policy=ASK_POLICY,
            approver=ag.CallbackApprover(answer),
            guard=cap.guard,
        )
        result = Runner.run_sync(agent, "ship it")
    assert asked == ["deploy"]
    assert deployed == expected
    assert result.final_output == "done"
    (message,) = tool_messages(server)
    assert message.startswith("deployed") if granted else message.startswith("Denied by policy")


def test_an_ask_without_approver_is_the_sdk_interruption_and_resumes_when_approved(
    cap: CapturingGuard, llm: None
) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="ops", tools=[deploy], model=model(server)), policy=ASK_POLICY, guard=cap.guard
        )
        first = Runner.run_sync(agent, "ship it")
        assert deployed == []
        (pending,) = first.interruptions
        state = first.to_state()
        state.approve(pending)
        resumed = Runner.run_sync(agent, state)
    assert deployed == ["prod"]
    assert resumed.final_output == "done"
    ((_, event),) = decision_events(cap.spans())
    assert "openai-agents RunState" in str(event)


def test_an_ask_rejected_through_the_run_state_never_runs(cap: CapturingGuard, llm: None) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="ops", tools=[deploy], model=model(server)), policy=ASK_POLICY, guard=cap.guard
        )
        first = Runner.run_sync(agent, "ship it")
        state = first.to_state()
        state.reject(first.interruptions[0])
        resumed = Runner.run_sync(agent, state)
    assert deployed == []
    assert resumed.final_output == "done"


def test_a_function_tool_object_nobody_decorated_is_guarded(cap: CapturingGuard, llm: None) -> None:
    ran: list[str] = []

    async def invoke(ctx: Any, arguments: str) -> str:
        ran.append(arguments)
        return "ran"

    shell = FunctionTool(
        name="run_command",
        description="Run a shell command.",
        params_json_schema={
            "type": "object",
            "properties": {"cmd": {"type": "string"}},
            "required": ["cmd"],
            "additionalProperties": False,
        },
        on_invoke_tool=invoke,
    )
    policy = ag.Policy(rules=[ag.rules.destructive_commands()])
    script = [Step(tool_calls=[("run_command", {"cmd": "rm -rf / --no-preserve-root"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(Agent(name="ops", tools=[shell], model=model(server)), policy=policy, guard=cap.guard)
        Runner.run_sync(agent, "clean up")
    assert ran == []
    (message,) = tool_messages(server)
    assert message.startswith("Denied by policy")
    tool_span = cap.span("execute_tool run_command")
    assert attrs(tool_span)[sc.POLICY_DECISION] == "deny"


def test_a_handoff_is_an_agent_action_and_its_target_gets_its_own_agent_span(
    cap: CapturingGuard, llm: None
) -> None:
    with ScriptedServer(
        [
            Step(tool_calls=[("transfer_to_reviewer", {})]),
            Step(tool_calls=[("write_file", {"path": "/etc/x", "content": "x"})]),
            Step(text="reviewed"),
        ]
    ) as server:
        reviewer = Agent(name="reviewer", tools=[write_file], model=model(server))
        triage = Agent(name="triage", handoffs=[reviewer], model=model(server))
        guarded_triage = guard(triage, policy=POLICY, guard=cap.guard)
        result = Runner.run_sync(guarded_triage, "review")
    assert result.final_output == "reviewed"
    assert written == []  # the handed-off agent's tools are guarded too
    assert triage.handoffs == [reviewer]  # the original agent is unchanged
    run_span = cap.span("invoke_agent triage")
    reviewer_span = cap.span("invoke_agent reviewer")
    assert reviewer_span.parent is not None and reviewer_span.parent.span_id == run_span.context.span_id
    assert attrs(reviewer_span)[sc.GEN_AI_AGENT_NAME] == "reviewer"
    handoff_span = cap.span("execute_tool transfer_to_reviewer")
    assert attrs(handoff_span)[sc.TOOL_KIND] == "agent"
    write_span = cap.span("execute_tool write_file")
    assert write_span.parent is not None and write_span.parent.span_id == reviewer_span.context.span_id


def test_inside_a_guarded_run_the_agent_joins_it(cap: CapturingGuard, llm: None) -> None:
    script = [Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = guard(Agent(name="fixer", tools=[write_file], model=model(server)), guard=cap.guard)

        @ag.guarded(guard=cap.guard, name="outer")
        def outer() -> Any:
            return Runner.run_sync(agent, "fix it").final_output

        assert outer() == "done"
    names = [s.name for s in cap.spans()]
    assert names.count("invoke_agent outer") == 1
    assert "invoke_agent fixer" in names  # the SDK's agent, as a span inside the outer run
    run = attrs(cap.span("invoke_agent outer"))
    assert run[sc.RUN_TOOL_CALLS] == 1
    assert run[sc.RUN_LLM_CALLS] == 2


def test_with_openinference_installed_the_tool_span_is_theirs_enriched_not_a_second_one(
    cap: CapturingGuard, llm: None
) -> None:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    # by default OpenInference replaces every processor of the SDK, ours too; beside ours it keeps both
    instrumentor.instrument(tracer_provider=cap.tracer_provider, exclusive_processor=False)
    try:
        script = [Step(tool_calls=[("write_file", {"path": "/etc/x", "content": "x"})]), Step(text="done")]
        with ScriptedServer(script) as server:
            agent = guard(
                Agent(name="fixer", tools=[write_file], model=model(server)), policy=POLICY, guard=cap.guard
            )
            Runner.run_sync(agent, "fix it")
    finally:
        instrumentor.uninstrument()
        set_trace_processors([processor()])
    spans = cap.spans()
    tool_spans = [
        s
        for s in spans
        if attrs(s).get("openinference.span.kind") == "TOOL" or s.name.startswith("execute_tool")
    ]
    assert len(tool_spans) == 1
    (span,) = tool_spans
    assert attrs(span)[sc.POLICY_DECISION] == "deny"
    assert len(decision_events(spans)) == 1
    run_span = cap.span("invoke_agent fixer")
    assert {s.context.trace_id for s in spans} == {run_span.context.trace_id}


def test_with_openinference_installed_each_model_call_is_one_span_carrying_our_usage_and_cost(
    cap: CapturingGuard, llm: None
) -> None:
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=cap.tracer_provider, exclusive_processor=False)
    try:
        script = [Step(tool_calls=[("write_file", {"path": "src/x.py", "content": "x"})]), Step(text="done")]
        with ScriptedServer(script) as server:
            agent = guard(
                Agent(name="fixer", tools=[write_file], model=model(server)), policy=POLICY, guard=cap.guard
            )
            Runner.run_sync(agent, "fix it")
    finally:
        instrumentor.uninstrument()
        set_trace_processors([processor()])
    spans = cap.spans()
    llm_spans = [
        s for s in spans if attrs(s).get("openinference.span.kind") == "LLM" or s.name.startswith("chat ")
    ]
    assert len(llm_spans) == 2  # one per model call: OpenInference's, enriched
    for span in llm_spans:
        a = attrs(span)
        assert a["openinference.span.kind"] == "LLM"
        assert a[sc.BORROWED] is True
        assert a[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0 and sc.COST_USD in a
    run = attrs(cap.span("invoke_agent fixer"))
    assert run[sc.RUN_LLM_CALLS] == 2
    assert run[sc.RUN_INPUT_TOKENS] == sum(attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS] for s in llm_spans)
    assert run[sc.RUN_COST_USD] == pytest.approx(sum(attrs(s)[sc.COST_USD] for s in llm_spans))


def test_without_the_extra_the_import_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import importlib
    import sys

    real_import = builtins.__import__

    def no_agents(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "agents" or name.startswith("agents."):
            raise ImportError("No module named 'agents'")
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m.startswith("agentguard.integrations.openai_agents")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "agents", None)
    monkeypatch.setattr(builtins, "__import__", no_agents)
    with pytest.raises(ImportError, match=r"agentguard\[openai-agents\]"):
        importlib.import_module("agentguard.integrations.openai_agents")


class FakeMCPServer(MCPServer):
    """An Agents SDK MCP server with one filesystem tool, answering in-process."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    @property
    def name(self) -> str:
        return "fs"

    async def connect(self) -> None:
        return None

    async def cleanup(self) -> None:
        return None

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[MCPTool]:
        schema = {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        }
        return [MCPTool(name="write_file", description="Write a file.", input_schema=schema)]

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        self.calls.append(dict(arguments or {}))
        return CallToolResult(content=[TextContent(type="text", text="written")])

    async def list_prompts(self) -> Any:
        raise NotImplementedError

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError


def test_an_mcp_server_tool_of_the_agent_is_guarded(cap: CapturingGuard, llm: None) -> None:
    server_tools = FakeMCPServer()
    script = [
        Step(tool_calls=[("write_file", {"path": "/etc/passwd", "content": "x"})]),
        Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})]),
        Step(text="done"),
    ]
    with ScriptedServer(script) as server:
        agent = guard(
            Agent(name="fixer", mcp_servers=[server_tools], model=model(server)),
            policy=POLICY,
            guard=cap.guard,
        )
        result = Runner.run_sync(agent, "fix it")
    assert result.final_output == "done"
    assert server_tools.calls == [{"path": "src/a.py", "content": "x"}]
    messages = tool_messages(server)
    assert messages[0].startswith("Denied by policy")
    assert messages[-1] != messages[0]
    assert [attrs(s)[sc.POLICY_DECISION] for s in cap.spans() if s.name == "execute_tool write_file"] == [
        "deny",
        "allow",
    ]


def test_a_shell_tools_executor_is_decided_before_it_runs(cap: CapturingGuard) -> None:
    ran: list[str] = []

    def executor(request: ShellCommandRequest) -> str:
        ran.extend(request.data.action.commands)
        return "ok"

    shell = ShellTool(executor=executor)
    agent = guard(
        Agent(name="ops", tools=[shell]),
        policy=ag.Policy(rules=[ag.rules.destructive_commands()]),
        guard=cap.guard,
    )
    (guarded,) = agent.tools
    assert isinstance(guarded, ShellTool) and guarded.executor is not None

    def request(*commands: str) -> ShellCommandRequest:
        data = ShellCallData(call_id="call_1", action=ShellActionRequest(commands=list(commands)))
        return ShellCommandRequest(ctx_wrapper=RunContextWrapper(context=None), data=data)

    async def call(req: ShellCommandRequest) -> Any:
        assert guarded.executor is not None
        return await cast(Awaitable[Any], guarded.executor(req))

    denied = asyncio.run(call(request("ls", "rm -rf ~")))
    allowed = asyncio.run(call(request("ls")))
    assert str(denied).startswith("Denied by policy")
    assert allowed == "ok"
    assert ran == ["ls"]
    assert [attrs(s)[sc.TOOL_KIND] for s in cap.spans()] == ["shell", "shell"]


def test_a_hosted_mcp_tool_asks_before_every_call_and_the_policy_answers_first(cap: CapturingGuard) -> None:
    own_answers: list[str] = []

    def own(request: MCPToolApprovalRequest) -> MCPToolApprovalFunctionResult:
        own_answers.append(request.data.name)
        return {"approve": True}

    hosted = HostedMCPTool(
        tool_config={
            "type": "mcp",
            "server_label": "fs",
            "server_url": "https://mcp.invalid",
            "require_approval": "never",
        },
        on_approval_request=own,
    )
    agent = guard(Agent(name="ops", tools=[hosted]), policy=POLICY, guard=cap.guard)
    (guarded,) = agent.tools
    assert isinstance(guarded, HostedMCPTool) and guarded.on_approval_request is not None
    assert guarded.tool_config["require_approval"] == "always"  # so the SDK asks about every call

    def ask(name: str, arguments: dict[str, Any]) -> Any:
        data = McpApprovalRequest(
            id="mcpr_1",
            arguments=json.dumps(arguments),
            name=name,
            server_label="fs",
            type="mcp_approval_request",
        )
        request = MCPToolApprovalRequest(ctx_wrapper=RunContextWrapper(context=None), data=data)

        async def answer() -> Any:
            assert guarded.on_approval_request is not None
            return await cast(Awaitable[Any], guarded.on_approval_request(request))

        return asyncio.run(answer())

    denied = ask("write_file", {"path": "/etc/passwd", "content": "x"})
    allowed = ask("write_file", {"path": "src/a.py", "content": "x"})
    assert denied["approve"] is False and denied["reason"].startswith("Denied by policy")
    assert allowed == {"approve": True}
    assert own_answers == ["write_file"]  # the tool's own approval runs only for what the policy allows
    assert [attrs(s)[sc.POLICY_DECISION] for s in cap.spans()] == ["deny", "allow"]


def test_the_sdks_guardrail_results_are_events_on_the_agent_run(cap: CapturingGuard, llm: None) -> None:
    @input_guardrail
    def no_secrets(ctx: Any, agent: Any, text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    with ScriptedServer([Step(text="done")]) as server:
        agent = guard(
            Agent(name="fixer", model=model(server), input_guardrails=[no_secrets]),
            policy=POLICY,
            guard=cap.guard,
        )
        assert Runner.run_sync(agent, "fix it").final_output == "done"
    events = [
        dict(e.attributes or {})
        for e in cap.span("invoke_agent fixer").events
        if e.name == "agentguard.guardrail"
    ]
    assert events == [{"agentguard.guardrail.name": "no_secrets", "agentguard.guardrail.triggered": False}]
