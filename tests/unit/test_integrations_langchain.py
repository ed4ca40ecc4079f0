"""LangChain / LangGraph: create_agent with AgentguardMiddleware, and guard_tools, on a scripted server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from opentelemetry.sdk.trace import ReadableSpan

import agentguard as ag
from agentguard.demo import ScriptedServer, Step
from agentguard.integrations.langchain import INTERRUPT_KIND, AgentguardMiddleware, guard_tools
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

POLICY = ag.Policy(scope=ag.Scope(root="/work", write=["src/**"], read=["**"]))


def needs_human(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
    """Deploys are asked."""
    return ag.Decision.ask("deploys need a human") if action.tool == "deploy" else None


ASK_POLICY = ag.Policy(rules=[needs_human])

written: list[str] = []
deployed: list[str] = []


@tool
def write_file(path: str, content: str) -> str:
    """Write a file."""
    written.append(path)
    return f"wrote {path}"


@tool
def deploy(target: str) -> str:
    """Deploy the service."""
    deployed.append(target)
    return f"deployed {target}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    written.clear()
    deployed.clear()


@pytest.fixture
def llm(cap: CapturingGuard) -> Iterator[None]:
    ag.instrument_openai(guard=cap.guard)
    yield
    ag.uninstrument_openai()


def chat(server: ScriptedServer) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini-2024-07-18", base_url=server.base_url, api_key="test", max_retries=0)  # type: ignore[arg-type]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def tool_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """Spans of tool calls: ours (execute_tool) and OpenInference's (TOOL)."""
    return [
        s
        for s in spans
        if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == "execute_tool"
        or attrs(s).get("openinference.span.kind") == "TOOL"
    ]


def decision_spans(spans: list[ReadableSpan]) -> list[str]:
    return [
        s.name
        for s in spans
        if attrs(s).get(sc.GEN_AI_OPERATION_NAME) != "chat"
        for e in s.events
        if e.name == sc.EVENT_POLICY_DECISION
    ]


def tool_messages(result: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in result["messages"] if isinstance(m, ToolMessage)]


def test_an_out_of_scope_write_is_a_tool_message_with_the_reason_and_the_graph_goes_on(
    cap: CapturingGuard, llm: None
) -> None:
    script = [Step(tool_calls=[("write_file", {"path": "/etc/passwd", "content": "x"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = create_agent(
            chat(server), [write_file], middleware=[AgentguardMiddleware(policy=POLICY, guard=cap.guard)]
        )
        result = agent.invoke({"messages": [{"role": "user", "content": "fix it"}]})
    assert written == []
    (message,) = tool_messages(result)
    assert str(message.content).startswith("Denied by policy")
    assert message.status == "error"
    assert result["messages"][-1].content == "done"
    sent = [m for r in server.requests for m in r["messages"] if m.get("role") == "tool"]
    assert [str(m["content"]).startswith("Denied by policy") for m in sent] == [True]
    (span,) = tool_spans(cap.spans())
    assert attrs(span)[sc.POLICY_DECISION] == "deny"
    assert attrs(span)[sc.GEN_AI_TOOL_CALL_ID] == message.tool_call_id
    assert decision_spans(cap.spans()) == ["execute_tool write_file"]


def test_an_allowed_call_runs_inside_its_tool_span_and_the_run_totals_add_up(
    cap: CapturingGuard, llm: None
) -> None:
    script = [
        Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})], prompt_tokens=300),
        Step(text="done", prompt_tokens=700, completion_tokens=30),
    ]
    with ScriptedServer(script) as server:
        agent = create_agent(
            chat(server), [write_file], middleware=[AgentguardMiddleware(policy=POLICY, guard=cap.guard)]
        )

        @ag.guarded(guard=cap.guard, name="fixer")
        async def run() -> Any:
            return await agent.ainvoke({"messages": [{"role": "user", "content": "fix it"}]})

        asyncio.run(run())
    assert written == ["src/a.py"]
    chats = [s for s in cap.spans() if s.name.startswith("chat ")]
    assert len(chats) == 2
    totals = attrs(cap.span("invoke_agent fixer"))
    assert (
        totals[sc.RUN_INPUT_TOKENS] == sum(int(attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS]) for s in chats) == 1000
    )
    assert totals[sc.RUN_OUTPUT_TOKENS] == sum(int(attrs(s)[sc.GEN_AI_USAGE_OUTPUT_TOKENS]) for s in chats)
    assert totals[sc.RUN_COST_USD] == pytest.approx(sum(float(attrs(s)[sc.COST_USD]) for s in chats))
    assert totals[sc.RUN_TOOL_CALLS] == 1
    (span,) = tool_spans(cap.spans())
    assert span.parent is not None
    assert span.context.trace_id == cap.span("invoke_agent fixer").context.trace_id


@pytest.mark.parametrize(("granted", "expected"), [(True, ["prod"]), (False, [])])
def test_an_ask_goes_to_the_approver(
    cap: CapturingGuard, llm: None, granted: bool, expected: list[str]
) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        middleware = AgentguardMiddleware(
            policy=ASK_POLICY, approver=ag.CallbackApprover(lambda request: granted), guard=cap.guard
        )
        agent = create_agent(chat(server), [deploy], middleware=[middleware], checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "t1"}}
        result = agent.invoke({"messages": [{"role": "user", "content": "ship"}]}, config)
    assert "__interrupt__" not in result  # the approver answered: no interrupt
    assert deployed == expected
    assert result["messages"][-1].content == "done"


@pytest.mark.parametrize(
    ("resume", "expected"), [(True, ["prod"]), (False, []), ({"approved": True}, ["prod"])]
)
def test_an_ask_without_approver_interrupts_the_graph_and_the_resume_value_answers_it(
    cap: CapturingGuard, llm: None, resume: Any, expected: list[str]
) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        middleware = AgentguardMiddleware(policy=ASK_POLICY, guard=cap.guard)
        agent = create_agent(chat(server), [deploy], middleware=[middleware], checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "t1"}}
        first = agent.invoke({"messages": [{"role": "user", "content": "ship"}]}, config)
        (pending,) = first["__interrupt__"]
        assert pending.value["type"] == INTERRUPT_KIND
        assert pending.value["tool"] == "deploy"
        assert pending.value["reason"] == "deploys need a human"
        assert deployed == []
        assert tool_spans(cap.spans()) == []  # nothing ran, nothing decided yet
        result = agent.invoke(Command(resume=resume), config)
    assert deployed == expected
    assert result["messages"][-1].content == "done"
    (span,) = tool_spans(cap.spans())
    assert attrs(span)[sc.POLICY_DECISION] == ("allow" if expected else "deny")
    (event,) = [e for e in span.events if e.name == sc.EVENT_POLICY_DECISION]
    assert "langgraph interrupt" in str(dict(event.attributes or {}))


def test_an_ask_with_neither_approver_nor_checkpointer_is_denied(cap: CapturingGuard, llm: None) -> None:
    script = [Step(tool_calls=[("deploy", {"target": "prod"})]), Step(text="done")]
    with ScriptedServer(script) as server:
        agent = create_agent(
            chat(server), [deploy], middleware=[AgentguardMiddleware(policy=ASK_POLICY, guard=cap.guard)]
        )
        result = agent.invoke({"messages": [{"role": "user", "content": "ship"}]})
    assert deployed == []
    (message,) = tool_messages(result)
    assert "no approver" in str(message.content)


def test_guard_tools_guards_a_tool_nobody_decorated_with_ag_tool(cap: CapturingGuard, llm: None) -> None:
    ran: list[str] = []

    def run_command(cmd: str) -> str:
        ran.append(cmd)
        return "ok"

    toolkit: list[BaseTool] = [StructuredTool.from_function(run_command, description="Run a shell command.")]
    guarded = guard_tools(toolkit, policy=ag.Policy(rules=[ag.rules.destructive_commands()]), guard=cap.guard)
    assert [t.name for t in guarded] == ["run_command"]
    assert guarded[0].args == toolkit[0].args
    script = [
        Step(tool_calls=[("run_command", {"cmd": "rm -rf ~"})]),
        Step(tool_calls=[("run_command", {"cmd": "ls"})]),
        Step(text="done"),
    ]
    with ScriptedServer(script) as server:
        agent = create_agent(chat(server), guarded)
        result = agent.invoke({"messages": [{"role": "user", "content": "clean"}]})
    assert ran == ["ls"]
    first, second = tool_messages(result)
    assert str(first.content).startswith("Denied by policy")
    assert second.content == "ok"
    assert [attrs(s)[sc.POLICY_DECISION] for s in tool_spans(cap.spans())] == ["deny", "allow"]


def test_guard_tools_called_directly_returns_the_denial_text(cap: CapturingGuard) -> None:
    (guarded,) = guard_tools([write_file], policy=POLICY, guard=cap.guard)
    assert str(guarded.invoke({"path": "/etc/passwd", "content": "x"})).startswith("Denied by policy")
    assert guarded.invoke({"path": "src/a.py", "content": "x"}) == "wrote src/a.py"
    assert written == ["src/a.py"]


def test_with_openinference_installed_the_tool_span_is_theirs_enriched_not_a_second_one(
    cap: CapturingGuard, llm: None
) -> None:
    from openinference.instrumentation.langchain import LangChainInstrumentor

    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=cap.tracer_provider)
    try:
        script = [
            Step(tool_calls=[("write_file", {"path": "/etc/passwd", "content": "x"})]),
            Step(text="done"),
        ]
        with ScriptedServer(script) as server:
            agent = create_agent(
                chat(server), [write_file], middleware=[AgentguardMiddleware(policy=POLICY, guard=cap.guard)]
            )
            agent.invoke({"messages": [{"role": "user", "content": "fix it"}]})
    finally:
        instrumentor.uninstrument()
    spans = cap.spans()
    assert len(decision_spans(spans)) == 1
    assert written == []
    assert len(tool_spans(spans)) <= 1 or all(
        attrs(s).get(sc.POLICY_DECISION) is None for s in tool_spans(spans)[1:]
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_outside_a_guarded_run_the_invocation_is_one_run_and_one_trace(
    cap: CapturingGuard, llm: None, mode: str
) -> None:
    script = [
        Step(tool_calls=[("write_file", {"path": "src/a.py", "content": "x"})], prompt_tokens=300),
        Step(text="done", prompt_tokens=700, completion_tokens=30),
    ]
    middleware = AgentguardMiddleware(policy=POLICY, guard=cap.guard, agent_name="fixer")
    with ScriptedServer(script) as server:
        agent = create_agent(chat(server), [write_file], middleware=[middleware])
        request: Any = {"messages": [{"role": "user", "content": "fix it"}]}
        out = agent.invoke(request) if mode == "sync" else asyncio.run(agent.ainvoke(request))
    assert "agentguard_run" not in out  # private to the graph
    spans = cap.spans()
    run = cap.span("invoke_agent fixer")
    assert {s.context.trace_id for s in spans} == {run.context.trace_id}
    chats = [s for s in spans if s.name.startswith("chat ")]
    assert len(chats) == 2 and all(s.parent is not None for s in chats)
    totals = attrs(run)
    assert (
        totals[sc.RUN_INPUT_TOKENS] == 1000 == sum(int(attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS]) for s in chats)
    )
    assert totals[sc.RUN_TOOL_CALLS] == 1 and totals[sc.RUN_LLM_CALLS] == 2
    assert sc.GEN_AI_CONVERSATION_ID not in totals
    assert ag.current_run() is None


def test_the_langgraph_thread_is_the_runs_conversation_and_each_invocation_a_run(
    cap: CapturingGuard, llm: None
) -> None:
    script = [Step(text="one"), Step(text="two")]
    middleware = AgentguardMiddleware(guard=cap.guard, agent_name="chatty")
    with ScriptedServer(script) as server:
        agent = create_agent(chat(server), [], middleware=[middleware], checkpointer=InMemorySaver())
        config: Any = {"configurable": {"thread_id": "thread-42"}}
        agent.invoke({"messages": [{"role": "user", "content": "hi"}]}, config)
        agent.invoke({"messages": [{"role": "user", "content": "again"}]}, config)
    runs = [s for s in cap.spans() if s.name == "invoke_agent chatty"]
    assert len(runs) == 2
    assert {attrs(r)[sc.GEN_AI_CONVERSATION_ID] for r in runs} == {"thread-42"}
    assert len({attrs(r)[sc.RUN_ID] for r in runs}) == 2


def test_inside_a_guarded_run_the_middleware_opens_no_run_of_its_own(cap: CapturingGuard, llm: None) -> None:
    middleware = AgentguardMiddleware(guard=cap.guard, agent_name="inner")
    with ScriptedServer([Step(text="done")]) as server:
        agent = create_agent(chat(server), [], middleware=[middleware])

        @ag.guarded(guard=cap.guard, name="outer")
        def run() -> Any:
            return agent.invoke({"messages": [{"role": "user", "content": "hi"}]})

        run()
    names = [s.name for s in cap.spans()]
    assert "invoke_agent inner" not in names and names.count("invoke_agent outer") == 1
    assert attrs(cap.span("invoke_agent outer"))[sc.RUN_LLM_CALLS] == 1


def test_a_graph_that_raises_leaves_no_run_current(cap: CapturingGuard) -> None:
    class Broken(ScriptedChatModel):
        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("model down")

    agent = create_agent(
        Broken(messages=iter([])), [], middleware=[AgentguardMiddleware(guard=cap.guard, agent_name="b")]
    )
    with pytest.raises(RuntimeError, match="model down"):
        agent.invoke({"messages": [{"role": "user", "content": "hi"}]})
    assert ag.current_run() is None


def test_without_the_extra_the_import_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    for mod in [m for m in sys.modules if m.startswith("agentguard.integrations.langchain")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "langchain.agents", None)
    with pytest.raises(ImportError, match=r"agentguard\[langchain\]"):
        importlib.import_module("agentguard.integrations.langchain")


class ScriptedChatModel(GenericFakeChatModel):
    """A non-OpenAI chat model that answers from a list (tools are bound by name only)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self


def scripted_model(*replies: AIMessage) -> ScriptedChatModel:
    return ScriptedChatModel(messages=iter(replies))


def usage(input_tokens: int, output_tokens: int) -> Any:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def test_a_model_no_instrumentation_traces_is_a_guarded_llm_step_counted_in_the_run(
    cap: CapturingGuard,
) -> None:
    model = scripted_model(
        AIMessage(
            content="",
            tool_calls=[{"name": "write_file", "args": {"path": "src/a.py", "content": "x"}, "id": "c1"}],
            usage_metadata=usage(120, 15),
        ),
        AIMessage(content="done", usage_metadata=usage(200, 5)),
    )
    agent = create_agent(
        model, [write_file], middleware=[AgentguardMiddleware(policy=POLICY, guard=cap.guard)]
    )

    @ag.guarded(guard=cap.guard, name="fixer")
    def run() -> Any:
        return agent.invoke({"messages": [{"role": "user", "content": "fix it"}]})

    result = run()
    assert result["messages"][-1].content == "done"
    assert written == ["src/a.py"]
    llm_spans = [s for s in cap.spans() if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == "chat"]
    assert len(llm_spans) == 2
    totals = attrs(cap.span("invoke_agent fixer"))
    assert totals[sc.RUN_LLM_CALLS] == 2
    assert (
        totals[sc.RUN_INPUT_TOKENS]
        == sum(int(attrs(s)[sc.GEN_AI_USAGE_INPUT_TOKENS]) for s in llm_spans)
        == 320
    )
    assert totals[sc.RUN_OUTPUT_TOKENS] == 20
    tool_span = cap.span("execute_tool write_file")
    assert tool_span.context.trace_id == cap.span("invoke_agent fixer").context.trace_id


def test_a_model_the_policy_denies_is_never_called(cap: CapturingGuard) -> None:
    model = scripted_model(AIMessage(content="should not be seen", usage_metadata=usage(1, 1)))
    policy = ag.Policy(rules=[ag.rules.models(allow=["gpt-4o-mini*"])])
    agent = create_agent(
        model, [write_file], middleware=[AgentguardMiddleware(policy=policy, guard=cap.guard)]
    )
    result = agent.invoke({"messages": [{"role": "user", "content": "hi"}]})
    assert str(result["messages"][-1].content).startswith("Denied by policy")
    (span,) = [s for s in cap.spans() if attrs(s).get(sc.GEN_AI_OPERATION_NAME) == "chat"]
    assert attrs(span)[sc.POLICY_DECISION] == "deny"
