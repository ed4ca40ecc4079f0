"""One LLM call's telemetry: open the ``chat {model}`` span, decide, and finish it exactly once.

Shared by Chat Completions and Responses, sync and async, plain and streamed. The API-specific
modules (``_chat``, ``_responses``) turn requests into attributes and responses into a
:class:`Summary`; this module turns a summary into span attributes, events, metrics and run totals.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from ... import _safe
from ... import semconv as sc
from ...action import Action
from ...content import to_text
from ...cost import TokenUsage
from ...decision import Decision, Denied
from ...detect import _online as _detect
from ...guard import Guard, default_guard
from ...policy._budget import reconcile, release
from ...refusal import looks_like_refusal
from ...run import RunState, current_run

_RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"


class Summary:
    """What the instrumentation needs from one response (complete or streamed)."""

    __slots__ = (
        "cache_read_tokens",
        "cache_write_tokens",
        "finish_reasons",
        "input_tokens",
        "output_messages",
        "output_tokens",
        "reasoning_tokens",
        "refusal_source",
        "response_id",
        "response_model",
        "text",
        "tool_calls",
    )

    def __init__(self) -> None:
        self.response_model: str | None = None
        self.response_id: str | None = None
        self.finish_reasons: tuple[str, ...] = ()
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read_tokens: int | None = None
        self.cache_write_tokens: int | None = None
        self.reasoning_tokens: int | None = None
        self.tool_calls: list[tuple[str, str, str | None]] = []
        """(name, call id, arguments) of each tool call the model requested."""
        self.refusal_source: str | None = None
        """``api`` or ``content_filter`` when the API said so; the text check runs at finish."""
        self.text: str = ""
        """The first choice's assistant text (for the conservative text refusal check)."""
        self.output_messages: list[dict[str, Any]] | None = None
        """Only built when content capture is on."""


class ApiSpec:
    """How one OpenAI API (chat or responses) is read; built once per API at import."""

    __slots__ = ("input_content", "new_stream_state", "request_attributes", "summarize", "tool")

    def __init__(
        self,
        *,
        tool: str,
        request_attributes: Callable[[Mapping[str, Any], dict[str, Any]], str],
        input_content: Callable[[Mapping[str, Any], trace.Span], None],
        summarize: Callable[[Any, bool], Summary],
        new_stream_state: Callable[[], StreamState],
    ) -> None:
        self.tool = tool
        self.request_attributes = request_attributes
        """Fill request attributes into the dict; return the request model ("" when absent)."""
        self.input_content = input_content
        self.summarize = summarize
        self.new_stream_state = new_stream_state


class StreamState:
    """Accumulates a stream's chunks or events (subclassed per API)."""

    __slots__ = ()

    def add(self, item: Any) -> None:
        raise NotImplementedError

    def summary(self, capture: bool) -> Summary:
        raise NotImplementedError


class MetricLabels:
    """The metric attribute dicts of one (request model, response model); built once, never mutated.

    The SDK copies attributes on every measurement, so sharing these dicts is safe; ``key`` is the
    precomputed :class:`~agentguard.metrics.TallyCounter` key of ``base``.
    """

    __slots__ = ("base", "input", "key", "output")

    def __init__(self, request_model: str, response_model: str | None) -> None:
        base: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OPENAI,
            sc.GEN_AI_REQUEST_MODEL: request_model,
        }
        if response_model:
            base[sc.GEN_AI_RESPONSE_MODEL] = response_model
        self.base = base
        self.key = tuple(base.items())
        self.input = {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
        self.output = {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}


_LABELS: dict[tuple[str, str | None], MetricLabels] = {}
_LABELS_MAX = 256
"""Model names are low-cardinality; past this many pairs the cache starts over."""


def metric_labels(request_model: str, response_model: str | None) -> MetricLabels:
    key = (request_model, response_model or None)
    labels = _LABELS.get(key)
    if labels is None:
        if len(_LABELS) >= _LABELS_MAX:
            _LABELS.clear()
        labels = _LABELS[key] = MetricLabels(request_model, response_model)
    return labels


class LLMCall:
    """The state of one in-flight call."""

    __slots__ = (
        "action",
        "api",
        "capture",
        "done",
        "guard",
        "labels",
        "raw",
        "request_model",
        "run",
        "span",
        "started",
        "streaming",
        "token",
    )

    def __init__(
        self,
        api: ApiSpec,
        guard: Guard,
        run: RunState | None,
        span: trace.Span,
        request_model: str,
        raw: str | None,
        streaming: bool,
    ) -> None:
        self.api = api
        self.guard = guard
        self.run = run
        self.span = span
        self.request_model = request_model
        self.raw = raw
        self.streaming = streaming
        self.capture = guard.capture_content
        self.done = False
        self.token: Token[Context] | None = None
        self.action: Action | None = None
        """The ``llm`` action the policy decided (budget reservations are keyed by it)."""
        self.labels = metric_labels(request_model, None)
        """Metric labels before the response is known (shared: never mutate)."""
        self.started = time.perf_counter()

    @property
    def needs_decision(self) -> bool:
        run = self.run
        return self.guard.policy is not None or (run is not None and run.policy is not None)

    def activate(self) -> None:
        """Make the span current while the SDK sends the request (so transport spans nest under it)."""
        try:
            self.token = otel_context.attach(trace.set_span_in_context(self.span))
        except Exception as exc:
            _safe.report("openai.activate", exc)

    def deactivate(self) -> None:
        token = self.token
        if token is not None:
            self.token = None
            otel_context.detach(token)


_NO_SERVER: dict[str, Any] = {
    sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
    sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OPENAI,
}
_SERVERS: dict[int, tuple[Any, dict[str, Any]]] = {}
"""``id(base_url)`` -> (the URL object, the span attributes every call through it starts with).

Keyed by the identity of the client's ``base_url`` object (held in the entry, so the id stays
unique): a client whose ``base_url`` is reassigned gets a fresh entry.
"""
_SERVERS_MAX = 64


def _constant_attributes(instance: Any) -> dict[str, Any]:
    """The attributes constant per client (operation, provider, server); shared: copy before use."""
    client = getattr(instance, "_client", None)
    if client is None:
        return _NO_SERVER
    url = client.base_url
    entry = _SERVERS.get(id(url))
    if entry is not None and entry[0] is url:
        return entry[1]
    attrs = dict(_NO_SERVER)
    host = url.host
    if host:
        attrs[sc.SERVER_ADDRESS] = host
        port = url.port
        if port is not None and port != 443:
            attrs[sc.SERVER_PORT] = port
    if len(_SERVERS) >= _SERVERS_MAX:
        _SERVERS.clear()
    _SERVERS[id(url)] = (url, attrs)
    return attrs


def start_call(api: ApiSpec, instance: Any, kwargs: Mapping[str, Any], fixed: Guard | None) -> LLMCall:
    """Open the span for a call about to be sent."""
    run = current_run()
    guard = fixed or (run.guard if run is not None else default_guard())
    attrs = _constant_attributes(instance).copy()
    model = api.request_attributes(kwargs, attrs)
    if run is not None:
        attrs[sc.GEN_AI_CONVERSATION_ID] = run.conversation_id
        attrs[sc.RUN_ID] = run.run_id
    raw: str | None = None
    headers = kwargs.get("extra_headers")
    if headers:
        raw = headers.get(_RAW_RESPONSE_HEADER)
    span = guard.tracer.start_span(
        f"{sc.OP_CHAT} {model}" if model else sc.OP_CHAT, kind=SpanKind.CLIENT, attributes=attrs
    )
    call = LLMCall(api, guard, run, span, model, raw, kwargs.get("stream") is True)
    if call.capture and span.is_recording():
        try:
            api.input_content(kwargs, span)
        except Exception as exc:
            _safe.report("openai.input_content", exc)
    return call


def _llm_action(call: LLMCall) -> Action:
    action = Action(kind="llm", tool=call.api.tool, model=call.request_model or None, arguments={})
    call.action = action
    return action


def decide(call: LLMCall) -> None:
    """Ask the policy about the call; raise :class:`Denied` (without sending) when it is enforced."""
    action = _llm_action(call)
    _apply_decision(call, action, call.guard.decide(action, call.run))


async def adecide(call: LLMCall) -> None:
    """:func:`decide` for async calls: an ``ask`` waits for the approver without blocking the loop."""
    action = _llm_action(call)
    _apply_decision(call, action, await call.guard.adecide(action, call.run))


def _apply_decision(call: LLMCall, action: Action, decision: Decision) -> None:
    try:
        _record_decision(call, decision)
    except Exception as exc:
        _safe.report("openai.record_decision", exc)
    if decision.denied and decision.mode == "enforce":
        call.done = True
        try:
            release(call.run, action)
            call.span.end()
        except Exception as exc:
            _safe.report("openai.deny", exc)
        raise Denied(decision, tool=call.api.tool)


def _record_decision(call: LLMCall, decision: Decision) -> None:
    span = call.span
    if span.is_recording():
        span.set_attribute(sc.POLICY_DECISION, decision.outcome)
        if decision.approval is not None:
            span.set_attributes(decision.approval_attributes())
        span.add_event(sc.EVENT_POLICY_DECISION, decision.event_attributes())
    call.guard.instruments.decisions.add(
        1, {**decision.metric_attributes(), sc.LABEL_KIND: "llm", sc.GEN_AI_TOOL_NAME: call.api.tool}
    )


def _reconcile(
    call: LLMCall, summary: Summary | None, error: BaseException | None, cost: float | None
) -> None:
    """Settle the call's budget reservation with what it really used."""
    action = call.action
    if action is None or call.run is None:
        return
    if error is not None:
        release(call.run, action)
        return
    tokens: int | None = None
    if summary is not None and (summary.input_tokens is not None or summary.output_tokens is not None):
        tokens = (summary.input_tokens or 0) + (summary.output_tokens or 0)
    reconcile(call.run, action, cost_usd=cost, tokens=tokens)


def finish(call: LLMCall, summary: Summary | None, error: BaseException | None) -> None:
    """End the call's span and record its metrics and run totals, once. Never raises."""
    if call.done:
        return
    call.done = True
    duration = time.perf_counter() - call.started
    try:
        cost: float | None = None
        if error is not None:
            _finish_error(call, error, duration)
        else:
            cost = _finish_ok(call, summary, duration)
        _reconcile(call, summary, error, cost)
    except Exception as exc:
        _safe.report("openai.finish", exc)
        try:
            call.span.end()
        except Exception as exc2:  # pragma: no cover - the SDK's span.end does not raise
            _safe.report("openai.finish", exc2)


def _finish_error(call: LLMCall, error: BaseException, duration: float) -> None:
    span = call.span
    error_type = type(error).__qualname__
    try:
        if span.is_recording():
            span.set_attribute(sc.ERROR_TYPE, error_type)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    finally:
        span.end()
    labels = {**call.labels.base, sc.ERROR_TYPE: error_type}
    instruments = call.guard.instruments
    instruments.operation_duration.record(duration, labels)
    instruments.llm_calls.add(1, labels)
    if call.run is not None:
        call.run.record_llm_call()


def _finish_ok(call: LLMCall, summary: Summary | None, duration: float) -> float | None:
    """Finish a call that returned; its cost in USD when known."""
    span = call.span
    guard = call.guard
    instruments = guard.instruments
    labels = call.labels
    if summary is None:  # no body read (streaming raw response): time and request attributes only
        span.end()
        instruments.operation_duration.record(duration, labels.base)
        instruments.llm_calls.add(1, labels.base, labels.key)
        if call.run is not None:
            call.run.record_llm_call()
        return None

    model = summary.response_model
    if model:
        labels = metric_labels(call.request_model, model)
    tool_calls = summary.tool_calls
    source = summary.refusal_source
    if source is None and not tool_calls and summary.text:
        try:
            if looks_like_refusal(summary.text):
                source = "text"
        except Exception as exc:
            _safe.report("openai.refusal", exc)
    input_tokens = summary.input_tokens
    output_tokens = summary.output_tokens
    cost: float | None = None
    if input_tokens is not None or output_tokens is not None:
        try:
            cost = guard.prices.cost(
                model=model or call.request_model,
                provider=sc.PROVIDER_OPENAI,
                usage=TokenUsage(
                    input_tokens=input_tokens or 0,
                    output_tokens=output_tokens or 0,
                    cache_read_tokens=summary.cache_read_tokens or 0,
                    cache_write_tokens=summary.cache_write_tokens or 0,
                    reasoning_tokens=summary.reasoning_tokens or 0,
                ),
            )
        except Exception as exc:
            _safe.report("openai.cost", exc)

    run = call.run
    if run is not None:
        _detect.on_llm_turn(run, span, summary.text, tool_calls, source is not None)
    try:
        if span.is_recording():
            _set_response_attributes(call, span, summary, source, cost)
    finally:
        span.end()

    base = labels.base
    instruments.operation_duration.record(duration, base)
    instruments.llm_calls.add(1, base, labels.key)
    if input_tokens is not None:
        instruments.token_usage.record(input_tokens, labels.input)
    if output_tokens is not None:
        instruments.token_usage.record(output_tokens, labels.output)
    if cost is not None:
        instruments.cost.add(cost, base, labels.key)
    if source is not None:
        instruments.refusals.add(1, {**base, sc.REFUSAL_SOURCE: source})
    if run is not None:
        run.record_llm_call(
            input_tokens=input_tokens or 0,
            output_tokens=output_tokens or 0,
            cost_usd=cost,
            refusal=source is not None,
            tool_calls=[(name, call_id) for name, call_id, _ in tool_calls if name and call_id],
        )
    return cost


def _set_response_attributes(
    call: LLMCall, span: trace.Span, summary: Summary, source: str | None, cost: float | None
) -> None:
    attrs: dict[str, Any] = {sc.REFUSAL: source is not None}
    if source is not None:
        attrs[sc.REFUSAL_SOURCE] = source
    if summary.response_model:
        attrs[sc.GEN_AI_RESPONSE_MODEL] = summary.response_model
    if summary.response_id:
        attrs[sc.GEN_AI_RESPONSE_ID] = summary.response_id
    if summary.finish_reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = summary.finish_reasons
    if summary.input_tokens is not None:
        attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = summary.input_tokens
    if summary.output_tokens is not None:
        attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = summary.output_tokens
    if summary.cache_read_tokens is not None:
        attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = summary.cache_read_tokens
    if summary.cache_write_tokens:
        attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = summary.cache_write_tokens
    if summary.reasoning_tokens is not None:
        attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = summary.reasoning_tokens
    if cost is not None:
        attrs[sc.COST_USD] = cost
    capture = call.capture
    if capture and summary.output_messages is not None:
        attrs[sc.GEN_AI_OUTPUT_MESSAGES] = to_text(summary.output_messages)
    span.set_attributes(attrs)
    for name, call_id, arguments in summary.tool_calls:
        event: dict[str, Any] = {sc.GEN_AI_TOOL_NAME: name, sc.GEN_AI_TOOL_CALL_ID: call_id}
        if capture and arguments is not None:
            event[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = to_text(arguments)
        span.add_event(sc.EVENT_TOOL_CALL, event)
