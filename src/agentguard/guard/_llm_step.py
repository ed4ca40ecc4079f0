"""The LLM step: one model call's span, decision, budget settlement, usage, cost and refusal.

Started by :meth:`agentguard.Guard.start_llm`; the shape is the tool step's (see
:mod:`agentguard.guard`)::

    step = guard.start_llm(request_model="gpt-4o-mini", attributes=attrs, tool="openai.chat.completions")
    if step.needs_decision:
        if step.decide().blocks:            # the budget rule reserved nothing; the step is finished
            raise step.denial()
    step.activate()                         # the span is current while the SDK sends the request
    try:
        response = send()
    except BaseException as exc:
        step.deactivate()
        step.finish(error=exc)
        raise
    step.deactivate()
    step.finish(response=LlmResponse(...))  # or later, once, when a stream ends

:class:`LlmResponse` is what an adapter reads from the provider's answer (complete or streamed);
the step turns it into span attributes and events, metrics, run totals, detector events and the
settlement of the call's budget reservation.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from .. import _safe
from ..action import Action
from ..detect import online as _detect
from ..spend import TokenUsage, reconcile, release
from ..telemetry import looks_like_refusal, to_text
from ..telemetry import semconv as sc
from ._borrowed import borrow, foreign_llm_span
from ._step import _Step, record_error

if TYPE_CHECKING:
    from ._guard import Guard
    from ._run import RunState

__all__ = ["LlmResponse", "LlmStep", "MetricLabels", "metric_labels", "start_llm"]


class LlmResponse:
    """What the step needs from one model response (complete or streamed)."""

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


class MetricLabels:
    """The metric attribute dicts of one (operation, provider, request model, response model, server).

    Built once, never mutated: the SDK copies attributes on every measurement, so sharing these dicts
    is safe; ``key`` is the precomputed :class:`~agentguard.guard.TallyCounter` key of ``base``.
    """

    __slots__ = ("base", "input", "key", "output")

    def __init__(
        self,
        request_model: str,
        response_model: str | None,
        operation: str = sc.OP_CHAT,
        provider: str = sc.PROVIDER_OPENAI,
        server: Server | None = None,
    ) -> None:
        base: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: operation,
            sc.GEN_AI_PROVIDER_NAME: provider,
            sc.GEN_AI_REQUEST_MODEL: request_model,
        }
        if response_model:
            base[sc.GEN_AI_RESPONSE_MODEL] = response_model
        if server is not None:
            base[sc.SERVER_ADDRESS] = server[0]
            if server[1] is not None:
                base[sc.SERVER_PORT] = server[1]
        self.base = base
        self.key = tuple(base.items())
        self.input = {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
        self.output = {**base, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}


Server = tuple[str, int | None]
"""``server.address`` and ``server.port`` (``None`` when the port is the scheme's default)."""
_LABELS: dict[tuple[str, str | None, str, str, Server | None], MetricLabels] = {}
_LABELS_MAX = 256
"""Model names are low-cardinality; past this many combinations the cache starts over."""


def metric_labels(
    request_model: str,
    response_model: str | None,
    operation: str = sc.OP_CHAT,
    provider: str = sc.PROVIDER_OPENAI,
    server: Server | None = None,
) -> MetricLabels:
    key = (request_model, response_model or None, operation, provider, server)
    labels = _LABELS.get(key)
    if labels is None:
        if len(_LABELS) >= _LABELS_MAX:
            _LABELS.clear()
        labels = _LABELS[key] = MetricLabels(request_model, response_model, operation, provider, server)
    return labels


class LlmStep(_Step):
    """One model call in flight."""

    __slots__ = (
        "action",
        "capture",
        "first_chunk",
        "labels",
        "operation",
        "provider",
        "request_model",
        "server",
        "started",
    )

    def __init__(
        self,
        guard: Guard,
        run: RunState | None,
        tool: str,
        span: trace.Span,
        *,
        request_model: str,
        operation: str,
        provider: str,
        server: Server | None = None,
    ) -> None:
        _Step.__init__(self, guard, run, tool, span)
        self.request_model = request_model
        self.operation = operation
        self.provider = provider
        self.server = server
        self.capture = guard.capture_content
        self.action: Action | None = None
        """The ``llm`` action the policy decided (budget reservations are keyed by it); built by
        :meth:`decide`, so a call without a policy allocates none."""
        self.labels = metric_labels(request_model, None, operation, provider, server)
        """Metric labels before the response is known (shared: never mutate)."""
        self.started = time.perf_counter()
        self.first_chunk: float | None = None
        """Seconds from the start to the first chunk of a streamed response (see :meth:`chunk`)."""

    def chunk(self) -> None:
        """A streamed response's chunk arrived; the first one sets :attr:`first_chunk`."""
        if self.first_chunk is None:
            self.first_chunk = time.perf_counter() - self.started

    # -- the decision -------------------------------------------------------------------------------
    def _decided_action(self) -> Action:
        action = self.action
        if action is None:
            action = self.action = Action(
                kind="llm", tool=self.tool, model=self.request_model or None, arguments={}
            )
        return action

    def _labels(self) -> Mapping[str, Any]:
        return {sc.LABEL_KIND: "llm", sc.GEN_AI_TOOL_NAME: self.tool}

    def _blocked(self) -> None:
        self.done = True
        try:
            if self.action is not None:
                release(self.run, self.action)
            self.span.end()
        except Exception as exc:
            _safe.report("step.llm_blocked", exc)

    # -- the end ------------------------------------------------------------------------------------
    def finish(self, *, response: LlmResponse | None = None, error: BaseException | None = None) -> None:
        """End the span; record usage, cost, refusal, metrics, run totals; settle the budget. Once.

        ``response=None`` without an error means the body was not read (time and request attributes
        only; the reservation is settled at its estimate). Never raises.
        """
        if self.done:
            return
        self.done = True
        duration = time.perf_counter() - self.started
        try:
            cost: float | None = None
            if error is not None:
                self._finish_error(error, duration)
            else:
                cost = self._finish_ok(response, duration)
            self._settle_budget(response, error, cost)
        except Exception as exc:
            _safe.report("step.llm_finish", exc)
            try:
                self.span.end()
            except Exception as exc2:  # pragma: no cover - the SDK's span.end does not raise
                _safe.report("step.llm_finish", exc2)

    def _settle_budget(
        self, response: LlmResponse | None, error: BaseException | None, cost: float | None
    ) -> None:
        action = self.action
        if action is None or self.run is None:
            return
        if error is not None:
            release(self.run, action)
            return
        tokens: int | None = None
        if response is not None and (response.input_tokens is not None or response.output_tokens is not None):
            tokens = (response.input_tokens or 0) + (response.output_tokens or 0)
        reconcile(self.run, action, cost_usd=cost, tokens=tokens)

    def _finish_error(self, error: BaseException, duration: float) -> None:
        span = self.span
        try:
            record_error(span, error)
        finally:
            span.end()
        labels = {**self.labels.base, sc.ERROR_TYPE: type(error).__qualname__}
        instruments = self.guard.instruments
        instruments.operation_duration.record(duration, labels)
        instruments.llm_calls.add(1, labels)
        if self.run is not None:
            self.run.record_llm_call()

    def _finish_ok(self, response: LlmResponse | None, duration: float) -> float | None:
        span = self.span
        guard = self.guard
        instruments = guard.instruments
        labels = self.labels
        run = self.run
        if response is None:
            span.end()
            instruments.operation_duration.record(duration, labels.base)
            instruments.llm_calls.add(1, labels.base, labels.key)
            if run is not None:
                run.record_llm_call()
            return None

        model = response.response_model
        if model:
            labels = metric_labels(self.request_model, model, self.operation, self.provider, self.server)
        tool_calls = response.tool_calls
        source = response.refusal_source
        if source is None and not tool_calls and response.text:
            try:
                if looks_like_refusal(response.text):
                    source = "text"
            except Exception as exc:
                _safe.report("step.llm_refusal", exc)
        input_tokens = response.input_tokens
        output_tokens = response.output_tokens
        cost: float | None = None
        if input_tokens is not None or output_tokens is not None:
            try:
                cost = guard.prices.cost(
                    model=model or self.request_model,
                    provider=self.provider,
                    usage=TokenUsage(
                        input_tokens=input_tokens or 0,
                        output_tokens=output_tokens or 0,
                        cache_read_tokens=response.cache_read_tokens or 0,
                        cache_write_tokens=response.cache_write_tokens or 0,
                        reasoning_tokens=response.reasoning_tokens or 0,
                    ),
                )
            except Exception as exc:
                _safe.report("step.llm_cost", exc)

        if run is not None:
            _detect.on_llm_turn(run, span, response.text, tool_calls, source is not None)
        try:
            if span.is_recording():
                self._set_response_attributes(response, source, cost)
        finally:
            span.end()

        base = labels.base
        instruments.operation_duration.record(duration, base)
        if self.first_chunk is not None:
            instruments.time_to_first_chunk.record(self.first_chunk, base)
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

    def _set_response_attributes(self, response: LlmResponse, source: str | None, cost: float | None) -> None:
        attrs: dict[str, Any] = {sc.REFUSAL: source is not None}
        if source is not None:
            attrs[sc.REFUSAL_SOURCE] = source
        if response.response_model:
            attrs[sc.GEN_AI_RESPONSE_MODEL] = response.response_model
        if response.response_id:
            attrs[sc.GEN_AI_RESPONSE_ID] = response.response_id
        if response.finish_reasons:
            attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = response.finish_reasons
        if response.input_tokens is not None:
            attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = response.input_tokens
        if response.output_tokens is not None:
            attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = response.output_tokens
        if response.cache_read_tokens is not None:
            attrs[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = response.cache_read_tokens
        if response.cache_write_tokens:
            attrs[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = response.cache_write_tokens
        if response.reasoning_tokens is not None:
            attrs[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = response.reasoning_tokens
        if cost is not None:
            attrs[sc.COST_USD] = cost
        if self.first_chunk is not None:
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = self.first_chunk
        capture = self.capture
        if capture and response.output_messages is not None:
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = to_text(response.output_messages)
        span = self.span
        span.set_attributes(attrs)
        for name, call_id, arguments in response.tool_calls:
            event: dict[str, Any] = {sc.GEN_AI_TOOL_NAME: name, sc.GEN_AI_TOOL_CALL_ID: call_id}
            if capture and arguments is not None:
                event[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = to_text(arguments)
            span.add_event(sc.EVENT_TOOL_CALL, event)


def _name_provider(run: RunState, provider: str) -> None:
    """The run's first LLM provider names the run span's ``gen_ai.provider.name``."""
    run.provider = provider
    try:
        run.span.set_attribute(sc.GEN_AI_PROVIDER_NAME, provider)
    except Exception as exc:
        _safe.report("step.run_provider", exc)


def start_llm(
    guard: Guard,
    *,
    request_model: str,
    attributes: dict[str, Any] | None,
    tool: str,
    run: RunState | None,
    operation: str,
    provider: str,
) -> LlmStep:
    """Start an LLM step (see :meth:`agentguard.Guard.start_llm`); ``attributes`` is the step's own."""
    attrs: dict[str, Any]
    server: Server | None = None
    if attributes is None:
        attrs = {
            sc.GEN_AI_OPERATION_NAME: operation,
            sc.GEN_AI_PROVIDER_NAME: provider,
            sc.GEN_AI_REQUEST_MODEL: request_model,
        }
    else:  # the adapter's request attributes, which name operation, provider and model itself
        attrs = attributes
        address = attrs.get(sc.SERVER_ADDRESS)
        if address:
            port = attrs.get(sc.SERVER_PORT)
            server = (address, port if type(port) is int else None)
    if run is not None:
        if run.conversation_id is not None:
            attrs[sc.GEN_AI_CONVERSATION_ID] = run.conversation_id
        attrs[sc.RUN_ID] = run.run_id
        if run.provider is None and provider:
            _name_provider(run, provider)
    name = f"{operation} {request_model}" if request_model else operation
    try:
        theirs = foreign_llm_span()
        if theirs is not None:
            span = borrow(theirs, attrs)
        else:
            span = guard.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs)
    except Exception as exc:
        _safe.report("step.llm_start", exc)
        span = trace.INVALID_SPAN
    return LlmStep(
        guard,
        run,
        tool,
        span,
        request_model=request_model,
        operation=operation,
        provider=provider,
        server=server,
    )
