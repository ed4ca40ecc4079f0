"""``AgentguardMiddleware``: every tool and model call of a LangChain ``create_agent`` agent passes the
policy first.

::

    agent = create_agent(model, tools, middleware=[AgentguardMiddleware(policy=policy)],
                         checkpointer=InMemorySaver())

A model call is a step of the guard's own (decision, budget, span, tokens, cost, run totals) unless
agentguard's OpenAI instrumentation already traces it (a ``langchain-openai`` model while
``instrument_openai()`` is on), so no call is counted twice. A denied call is answered with a
``ToolMessage`` (``status="error"``) whose text is the reason, and
the graph goes on. An ``ask`` goes to the approver when one is configured (the middleware's, the
guard's or the enclosing run's); without one, and with a checkpointer, it is a LangGraph
``interrupt`` whose resume value answers it (``True``/``"approve"``/``{"approved": True}`` approve,
anything else rejects); without either it is denied.

Outside a guarded run, the agent's invocation is a run of its own (``invoke_agent {name}``; the
LangGraph thread id, when the config gives one, is its ``gen_ai.conversation.id``): opened before the
agent starts, closed when it ends, and current around each of its model and tool calls. Inside a
guarded run (``@ag.guarded``, ``guard.run(...)``) the calls join that run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any, NotRequired

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest
from langchain.agents.middleware.types import PrivateStateAttr
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt
from opentelemetry import trace

from ...guard import Guard, LlmResponse, LlmStep, PolicyLike, current_run, openinference_langchain_span
from .._steps import DetachedRuns, ToolStep, action_for, check, decide_answered, resolve_guard, start_tool

INTERRUPT_KIND = "agentguard.approval"
"""The ``type`` of the value an ``ask`` interrupts the graph with."""
APPROVED_BY = "langgraph interrupt"

# LangGraph puts the compiled graph's checkpointer in the config under this key; an interrupt
# needs one (without it the graph cannot resume).
_CHECKPOINTER_KEY = "__pregel_checkpointer"

Result = ToolMessage | Command[Any]

RUN_KEY = "agentguard_run"
"""The agent state's key for the run the middleware opened (private: not in the graph's input or output)."""


class GuardedAgentState(AgentState[Any]):
    """The agent's state with the key of the run the middleware opened for this invocation."""

    agentguard_run: NotRequired[Annotated[str | None, PrivateStateAttr]]


_RUNS = DetachedRuns()


class AgentguardMiddleware(AgentMiddleware[Any, Any, Any]):
    """Decide every tool call before it runs, through the guard's steps.

    ``kinds`` maps tool names to action kinds (``{"run": "shell"}``) where the tool's name and
    arguments do not say it; ``name`` names the run opened for an invocation outside a guarded run.
    """

    state_schema = GuardedAgentState

    def __init__(
        self,
        *,
        policy: PolicyLike | None = None,
        approver: Any = None,
        guard: Guard | None = None,
        kinds: Mapping[str, str] | None = None,
        agent_name: str = "agent",
    ) -> None:
        super().__init__()
        self._guard = resolve_guard(guard, policy, approver)
        self._kinds = dict(kinds or {})
        self._agent_name = agent_name

    @property
    def name(self) -> str:
        return "AgentguardMiddleware"

    # -- the run ------------------------------------------------------------------------------------
    def before_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        if current_run() is not None:
            return None  # the calls join the enclosing run
        key = _RUNS.open(name=self._agent_name, guard=self._guard, conversation_id=_thread_id())
        return {RUN_KEY: key} if key is not None else None

    async def abefore_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.before_agent(state, runtime)

    def after_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        key = _run_key(state)
        if key is not None:
            _RUNS.close(key, result=_final_text(state))
            return {RUN_KEY: None}
        return None

    async def aafter_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return self.after_agent(state, runtime)

    # -- model calls --------------------------------------------------------------------------------
    def wrap_model_call(self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Any]) -> Any:
        with _RUNS.active(_run_key(request.state)):
            return self._model_call(request, handler)

    async def awrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Awaitable[Any]]
    ) -> Any:
        with _RUNS.active(_run_key(request.state)):
            return await self._amodel_call(request, handler)

    def _model_call(self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Any]) -> Any:
        step = self._start_model(request)
        if step is None:
            return handler(request)
        if step.decide().blocks:
            return AIMessage(content=step.denial_text())
        step.activate()
        try:
            result = handler(request)
        except BaseException as exc:
            step.deactivate()
            step.finish(error=exc)
            raise
        step.deactivate()
        step.finish(response=llm_response(result))
        return result

    async def _amodel_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], Awaitable[Any]]
    ) -> Any:
        step = self._start_model(request)
        if step is None:
            return await handler(request)
        if (await step.adecide()).blocks:
            return AIMessage(content=step.denial_text())
        step.activate()
        try:
            result = await handler(request)
        except BaseException as exc:
            step.deactivate()
            step.finish(error=exc)
            raise
        step.deactivate()
        step.finish(response=llm_response(result))
        return result

    def _start_model(self, request: ModelRequest[Any]) -> LlmStep | None:
        """The model call's step, or ``None`` when agentguard's OpenAI instrumentation traces this
        model's requests already (a ``langchain-openai`` model while ``instrument_openai()`` is on)."""
        model = request.model
        if _traced_by_openai_instrumentation(model):
            return None
        name = str(
            getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__
        )
        provider = type(model).__module__.split(".")[0].removeprefix("langchain_") or "langchain"
        return self._guard.start_llm(request_model=name, tool="langchain.chat_model", provider=provider)

    # -- tool calls ---------------------------------------------------------------------------------
    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Result]
    ) -> Result:
        with _RUNS.active(_run_key(request.state)):
            return self._tool_call(request, handler)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[Result]]
    ) -> Result:
        with _RUNS.active(_run_key(request.state)):
            return await self._atool_call(request, handler)

    def _tool_call(self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Result]) -> Result:
        step, answered = self._start(request)
        if not answered:
            step.decide()
        if step.decision.blocks:
            return self._denial(step, request)
        result: Result = step.call(lambda: handler(request), record=_content)
        return result

    async def _atool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[Result]]
    ) -> Result:
        step, answered = self._start(request)
        if not answered:
            await step.adecide()
        if step.decision.blocks:
            return self._denial(step, request)
        result: Result = await step.acall(lambda: handler(request), record=_content)
        return result

    def _start(self, request: ToolCallRequest) -> tuple[ToolStep, bool]:
        """The call's step, and whether it is decided already: when the policy asks and the graph can
        be interrupted, the interrupt is raised here, before any span exists, and on resume the step
        is decided by the resume value."""
        call = request.tool_call
        name = str(call.get("name", ""))
        action = action_for(name, call.get("args") or {}, kinds=self._kinds, call_id=call.get("id"))
        description = getattr(request.tool, "description", None) or None
        if self._interrupts(request):
            asked = check(action, guard=self._guard)
            if asked.outcome == "ask" and asked.mode == "enforce":
                answer = interrupt(
                    {
                        "type": INTERRUPT_KIND,
                        "tool": name,
                        "args": dict(action.arguments),
                        "tool_call_id": action.call_id,
                        "reason": asked.reason,
                        "rule_ids": list(asked.rule_ids),
                    }
                )
                with _framework_parent():
                    step = start_tool(action, guard=self._guard, description=description)
                granted, reason = _answer(answer)
                decide_answered(step, granted=granted, by=APPROVED_BY, reason=reason)
                return step, True
        with _framework_parent():
            return start_tool(action, guard=self._guard, description=description), False

    def _interrupts(self, request: ToolCallRequest) -> bool:
        """An ``ask`` becomes an interrupt when no approver answers it and a checkpointer can resume it."""
        run = current_run()
        if (run is not None and run.approver is not None) or self._guard.approver is not None:
            return False
        config = getattr(request.runtime, "config", None) or {}
        configurable = config.get("configurable", {}) if isinstance(config, Mapping) else {}
        return isinstance(configurable, Mapping) and configurable.get(_CHECKPOINTER_KEY) is not None

    @staticmethod
    def _denial(step: ToolStep, request: ToolCallRequest) -> ToolMessage:
        step.finish()
        call = request.tool_call
        return ToolMessage(
            content=step.denial_text(),
            tool_call_id=str(call.get("id") or ""),
            name=str(call.get("name", "")),
            status="error",
        )


def _run_key(state: Any) -> str | None:
    key = state.get(RUN_KEY) if isinstance(state, Mapping) else getattr(state, RUN_KEY, None)
    return key if isinstance(key, str) else None


def _thread_id() -> str | None:
    """The LangGraph thread id of the running graph, if its config names one."""
    try:
        from langgraph.config import get_config

        configurable = get_config().get("configurable") or {}
    except Exception:  # outside a graph's runnable context
        return None
    thread = configurable.get("thread_id") if isinstance(configurable, Mapping) else None
    return str(thread) if thread not in (None, "") else None


def _final_text(state: Any) -> str | None:
    """The agent's final answer: the text of the last AI message in its state."""
    messages = state.get("messages") if isinstance(state, Mapping) else None
    for message in reversed(messages or []):
        if isinstance(message, AIMessage):
            return message.content if isinstance(message.content, str) else None
    return None


def _framework_parent() -> AbstractContextManager[Any]:
    """OpenInference's LangChain tracer keeps its spans out of the OpenTelemetry context; when it is
    loaded and nothing else is current, its span of the running node is made the parent, so the
    tool step lands in the same trace."""
    if trace.get_current_span().get_span_context().is_valid:
        return nullcontext()
    try:
        span = openinference_langchain_span()
    except Exception:
        span = None
    if span is None:
        return nullcontext()
    return trace.use_span(span, end_on_exit=False)


def _traced_by_openai_instrumentation(model: Any) -> bool:
    """True for a model on the ``openai`` SDK while agentguard's wrapper is on its Chat Completions."""
    client = getattr(model, "root_client", None) or getattr(model, "client", None)
    if client is None or not type(client).__module__.startswith("openai"):
        return False
    try:
        from openai.resources.chat.completions import Completions
    except ImportError:
        return False
    wrapper = getattr(Completions.__dict__.get("create"), "_self_wrapper", None)
    return str(getattr(wrapper, "__module__", "")).startswith("agentguard.")


def llm_response(result: Any) -> LlmResponse:
    """What the guard's LLM step reads from a LangChain model call's result (its last AI message)."""
    response = LlmResponse()
    messages = getattr(result, "result", None)
    message = result if isinstance(result, AIMessage) else None
    if message is None and isinstance(messages, list):
        message = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if message is None:
        return response
    usage: Mapping[str, Any] = message.usage_metadata or {}
    response.input_tokens = usage.get("input_tokens")
    response.output_tokens = usage.get("output_tokens")
    details: Mapping[str, Any] = usage.get("input_token_details") or {}
    response.cache_read_tokens = details.get("cache_read")
    metadata = message.response_metadata or {}
    response.response_model = metadata.get("model_name") or metadata.get("model")
    finish = metadata.get("finish_reason") or metadata.get("stop_reason")
    response.finish_reasons = (str(finish),) if finish else ()
    response.response_id = message.id
    response.tool_calls = [(str(c.get("name", "")), str(c.get("id") or ""), None) for c in message.tool_calls]
    response.text = message.content if isinstance(message.content, str) else ""
    return response


def _answer(value: Any) -> tuple[bool, str]:
    """An interrupt's resume value as (granted, reason)."""
    if isinstance(value, bool):
        return value, ""
    if isinstance(value, str):
        return value.strip().lower() in ("approve", "approved", "allow", "yes", "y"), ""
    if isinstance(value, Mapping):
        granted = value.get("approved", value.get("granted", value.get("type") in ("approve", "accept")))
        return granted is True, str(value.get("reason", "") or "")
    return False, ""


def _content(result: Any) -> Any:
    return result.content if isinstance(result, ToolMessage) else result
