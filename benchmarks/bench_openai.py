"""Added overhead per ``client.chat.completions.create`` call: agentguard vs the official instrumentation.

One process, three cases run in turn within each repeat (medians over the repeats):

- ``bare``: the openai SDK with nothing instrumented;
- ``agentguard``: ``instrument_openai(guard=Guard(...))`` (cost and refusal detection on);
- ``official``: whichever official OpenTelemetry OpenAI instrumentation this environment has
  (``opentelemetry-instrumentation-genai-openai`` or the deprecated ``-openai-v2``; they conflict with
  each other, so ``benchmarks/run.py`` runs this module once in a virtualenv for each).

Each instrumented case is instrumented before its sample and uninstrumented after it, so the other
cases always run against the unpatched SDK. The whole measurement runs inside one guarded run.
Calls go to an ``httpx2.MockTransport`` answering a realistic small completion (one tool call, usage
with cached and reasoning token details); no network. Both instrumented cases share one SDK
TracerProvider (a processor that drops ended spans) and one SDK MeterProvider with an
InMemoryMetricReader; content capture is off for both. Overhead = median per-call time minus bare.

    python -m benchmarks.bench_openai [--calls N] [--repeats N]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from openai import OpenAI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import agentguard as ag

from ._common import DiscardingProcessor, interleaved_samples

TARGET_RATIO = 0.6
CALLS = 5_000
REPEATS = 3
BLOCK = 250
"""Calls per stretch: each sample's calls are split so the cases take turns every ``BLOCK`` calls."""
MODEL = "gpt-4o-mini"

COMPLETION = {
    "id": "chatcmpl-bench0001",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_9f2c1",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "src/app.py"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {
        "prompt_tokens": 412,
        "completion_tokens": 23,
        "total_tokens": 435,
        "prompt_tokens_details": {"cached_tokens": 256, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_bench",
}
_BODY = json.dumps(COMPLETION).encode()
_HEADERS = {"content-type": "application/json", "x-request-id": "req_bench"}

REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": "You are a careful coding agent. Use the tools."},
        {"role": "user", "content": "Why does the test in src/app.py fail?"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file of the repository.",
                "parameters": {
                    "type": "object",
                    "properties": {"path": {"type": "string"}},
                    "required": ["path"],
                },
            },
        }
    ],
    "temperature": 0.2,
    "max_completion_tokens": 256,
}


def _reply(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, content=_BODY, headers=_HEADERS)


def make_client() -> OpenAI:
    return OpenAI(
        api_key="sk-bench",
        base_url="http://llm.bench:8080/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(_reply)),
    )


@dataclass
class Official:
    """The official instrumentation installed here, if any."""

    label: str
    instrumentor: Any


# (distribution, module): the new home first; both expose ``OpenAIInstrumentor``.
_OFFICIAL = (
    ("opentelemetry-instrumentation-genai-openai", "opentelemetry.instrumentation.genai.openai"),
    ("opentelemetry-instrumentation-openai-v2", "opentelemetry.instrumentation.openai_v2"),
)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def find_official() -> Official | str:
    """The installed official instrumentation, or why there is none usable."""
    problems: list[str] = []
    for dist, module in _OFFICIAL:
        if _version(dist) == "?":
            continue
        label = f"{dist} {_version(dist)} (opentelemetry-util-genai {_version('opentelemetry-util-genai')})"
        try:
            instrumentor = importlib.import_module(module).OpenAIInstrumentor()
        except Exception as exc:
            problems.append(f"{label} does not import: {type(exc).__name__}: {exc}")
            continue
        return Official(label=label, instrumentor=instrumentor)
    return "; ".join(problems) or "no official OpenAI instrumentation installed in this environment"


def _providers() -> tuple[TracerProvider, DiscardingProcessor, MeterProvider]:
    tp = TracerProvider()
    processor = DiscardingProcessor()
    tp.add_span_processor(processor)
    return tp, processor, MeterProvider(metric_readers=[InMemoryMetricReader()])


def _check_span(name: str, instrument: Callable[[TracerProvider, MeterProvider], Callable[[], None]]) -> str:
    """Instrument with an in-memory exporter, make one call, return a line describing the span.

    Raises ``RuntimeError`` when no span was produced.
    """
    exporter = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    mp = MeterProvider(metric_readers=[InMemoryMetricReader()])
    undo = instrument(tp, mp)
    try:
        make_client().chat.completions.create(**REQUEST)
    finally:
        undo()
    spans = [s for s in exporter.get_finished_spans() if s.name.startswith("chat")]
    if not spans:
        got = [s.name for s in exporter.get_finished_spans()]
        raise RuntimeError(f"{name} produced no chat span against openai (spans: {got})")
    span = spans[0]
    attrs = span.attributes or {}
    return (
        f"{name}: span {span.name!r}, {len(attrs)} attributes, {len(span.events)} events, "
        f"input tokens {attrs.get('gen_ai.usage.input_tokens')}"
    )


@contextmanager
def _instrumented(instrument: Callable[[], Callable[[], None]]) -> Iterator[None]:
    undo = instrument()
    try:
        yield
    finally:
        undo()


def measure(
    calls: int = CALLS, repeats: int = REPEATS, block: int = BLOCK
) -> tuple[dict[str, list[float]], list[str], str | None]:
    """Per-call CPU µs of each case in each repeat, the span checks, why the official case is missing."""
    tp, processor, mp = _providers()
    guard = ag.Guard(tracer_provider=tp, meter_provider=mp, capture_content=False)
    client = make_client()

    def call() -> None:
        # looked up per call, as users write it: a bound method taken before instrumenting stays bare
        client.chat.completions.create(**REQUEST)

    def agentguard_on(tp: TracerProvider, mp: MeterProvider) -> Callable[[], None]:
        ag.instrument_openai(guard=ag.Guard(tracer_provider=tp, meter_provider=mp, capture_content=False))
        return ag.uninstrument_openai

    def agentguard_timed() -> Callable[[], None]:
        ag.instrument_openai(guard=guard)
        return ag.uninstrument_openai

    cases: dict[str, Callable[[], object]] = {"bare": call, "agentguard": call}
    around: dict[str, Callable[[], AbstractContextManager[object]]] = {
        "agentguard": lambda: _instrumented(agentguard_timed)
    }
    checks = [_check_span("agentguard", agentguard_on)]

    official = find_official()
    missing: str | None = None
    if isinstance(official, str):
        missing = official
    else:
        instrumentor = official.instrumentor

        def official_on(tp: TracerProvider, mp: MeterProvider) -> Callable[[], None]:
            instrumentor.instrument(tracer_provider=tp, meter_provider=mp)
            return instrumentor.uninstrument

        def official_timed() -> Callable[[], None]:
            return official_on(tp, mp)

        try:
            checks.append(_check_span(f"official {official.label}", official_on))
        except Exception as exc:
            missing = f"{official.label} cannot instrument openai {_version('openai')}: {exc}"
        else:
            cases["official"] = call
            around["official"] = lambda: _instrumented(official_timed)

    results: dict[str, list[float]] = {}

    @ag.guarded(guard=guard, name="bench_openai")
    def agent() -> None:
        results.update(
            interleaved_samples(
                cases, calls=calls, repeats=repeats, around=around, block=block, clock=time.process_time
            )
        )

    before = processor.ended
    agent()
    # every instrumented call (warm-ups included) ended one span; bare calls none
    per_case = max(calls // 10, 10) + calls * repeats
    expected = per_case * (len(cases) - 1)
    if processor.ended - before < expected:
        raise RuntimeError(
            f"expected at least {expected} spans, the processor saw {processor.ended - before}"
        )
    return results, checks, missing


def overhead(samples: dict[str, list[float]], case: str) -> float:
    """Median over the repeats of the case's per-call time minus bare's in the same repeat."""
    return statistics.median(c - b for c, b in zip(samples[case], samples["bare"], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS, help=f"calls per sample (default {CALLS})")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"repeats (default {REPEATS})")
    parser.add_argument("--block", type=int, default=BLOCK, help=f"calls per turn (default {BLOCK})")
    opts = parser.parse_args(argv)
    # content capture off and default semantic conventions for every instrumentation (read at instrument)
    for var in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_SEMCONV_STABILITY_OPT_IN"):
        os.environ.pop(var, None)

    print(
        f"  openai {_version('openai')}, httpx2 {_version('httpx2')}, opentelemetry-sdk "
        f"{_version('opentelemetry-sdk')}; {opts.calls} calls per sample in turns of {opts.block}, "
        f"{opts.repeats} repeats; process CPU time, medians"
    )
    samples, checks, missing = measure(opts.calls, opts.repeats, opts.block)
    for line in checks:
        print(f"  check {line}")
    bare = statistics.median(samples["bare"])
    ours = overhead(samples, "agentguard")
    line = f"chat.completions.create: bare {bare:.1f} µs/call, agentguard +{ours:.1f} µs"
    if "official" in samples:
        theirs = overhead(samples, "official")
        print(f"{line}, official +{theirs:.1f} µs")
        ratio = ours / theirs if theirs > 0 else float("inf")
        verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
        print(
            f"openai call overhead ratio (agentguard / official): {ratio:.2f}x  "
            f"(target <= {TARGET_RATIO}x) {verdict}"
        )
    else:
        print(line)
        print(f"openai call overhead ratio (agentguard / official): not measured: {missing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
