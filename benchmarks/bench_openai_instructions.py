"""Instructions per ``chat.completions.create``: agentguard vs the official instrumentations, by part.

``bench_openai`` times the calls; on a busy 2-core machine its ratio moves by ±0.2 from run to run.
This benchmark counts CPU instructions instead (``valgrind --tool=callgrind``), which do not depend on
what else the machine is doing, and splits each instrumentation's overhead into the OpenTelemetry
SDK's metric recording and the rest (span work and the instrumentation's own code), by running each
case once more with a no-op MeterProvider. Same client, request, mock transport and providers as
``bench_openai``; every case runs inside one guarded run.

The ``floor`` case makes only the OpenTelemetry SDK calls that agentguard's telemetry for the call
consists of (the same span, attributes, event and metric records), with every value precomputed:
what any instrumentation emitting that telemetry through the SDK costs at least. ``floor / official``
is the lowest ratio reachable without emitting less.

Each case runs in its own process under callgrind twice, with ``SMALL`` and ``LARGE`` calls; the
difference divided by ``LARGE - SMALL`` is the per-call count, free of start-up and import costs.
The ``agentguard-long`` case counts calls ``LONG_SMALL``..``LONG_LARGE`` of one guarded run (1,000
calls past the 200th): a count that grew with the run's length, or with anything kept per run, would
show as a difference from the ``agentguard`` line. An instruction count does not depend on how busy
the machine is: with 20 ms of wall time added to every call (a sleeping transport), 100 calls under
callgrind differed by 0.01 % (4,883,637,521 vs 4,883,095,998 instructions, whole process).
Children run with ``PYTHONHASHSEED=0``: string hashing changes dict layouts and garbage-collection
timing, and with random seeds the same case moved by up to ±40,000 instructions per call.

    python -m benchmarks.bench_openai_instructions            # every official env (builds them once)
    python -m benchmarks.bench_openai_instructions --env openai-v2

``make bench-instructions`` runs it (about 10 minutes; not part of ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

SMALL, LARGE = 40, 240
LONG_SMALL, LONG_LARGE = 200, 1200
CASES = (
    "bare",
    "agentguard",
    "agentguard-long",
    "agentguard-no-metrics",
    "official",
    "official-no-metrics",
    "floor",
    "floor-no-metrics",
)
_RESPONSE_KEYS = frozenset(
    {
        "agentguard.cost.usd",
        "agentguard.refusal",
        "agentguard.refusal.source",
        "gen_ai.response.finish_reasons",
        "gen_ai.response.id",
        "gen_ai.response.model",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    }
)
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")
ROOT = Path(__file__).resolve().parent.parent


def _install_floor(tp: Any, mp: Any, guard: Any) -> None:
    """Patch ``create`` to make only the OpenTelemetry calls agentguard's telemetry consists of.

    One real agentguard call (in-memory exporter) gives the span's name, kind, attributes and events
    and the metric labels; the floor wrapper then replays them with every value precomputed: start the
    span with its request attributes, make it current while the SDK sends, set the response
    attributes, add the tool-call events, end it, record the three semconv histograms. No parsing,
    cost, refusal check, detectors, run totals or policy: the least any instrumentation emitting the
    same telemetry through the OpenTelemetry SDK can cost.
    """
    import time

    import wrapt
    from openai.resources.chat.completions.completions import Completions
    from opentelemetry import context, trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import agentguard as ag

    from .bench_openai import REQUEST, make_client

    exporter = InMemorySpanExporter()
    probe = TracerProvider()
    probe.add_span_processor(SimpleSpanProcessor(exporter))
    ag.instrument_openai(guard=ag.Guard(tracer_provider=probe, meter_provider=mp, capture_content=False))
    ag.guarded(guard=guard, name="probe")(lambda: make_client().chat.completions.create(**REQUEST))()
    ag.uninstrument_openai()
    span = next(s for s in exporter.get_finished_spans() if s.name.startswith("chat"))
    attrs = dict(span.attributes or {})
    start = {k: v for k, v in attrs.items() if k not in _RESPONSE_KEYS}
    response = {k: v for k, v in attrs.items() if k in _RESPONSE_KEYS}
    events = [(e.name, dict(e.attributes or {})) for e in span.events]
    base = {
        k: attrs[k]
        for k in (
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.response.model",
        )
    }
    tokens_in = {**base, "gen_ai.token.type": "input"}
    tokens_out = {**base, "gen_ai.token.type": "output"}
    n_in, n_out = (
        cast(int, attrs["gen_ai.usage.input_tokens"]),
        cast(int, attrs["gen_ai.usage.output_tokens"]),
    )
    instruments = ag.Guard(tracer_provider=tp, meter_provider=mp).instruments
    tracer = tp.get_tracer("floor")
    name, kind = span.name, span.kind

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        started = time.perf_counter()
        s = tracer.start_span(name, kind=kind, attributes=start)
        token = context.attach(trace.set_span_in_context(s))
        try:
            result = wrapped(*args, **kwargs)
        finally:
            context.detach(token)
        s.set_attributes(response)
        for event_name, event_attrs in events:
            s.add_event(event_name, event_attrs)
        s.end()
        instruments.operation_duration.record(time.perf_counter() - started, base)
        instruments.token_usage.record(n_in, tokens_in)
        instruments.token_usage.record(n_out, tokens_out)
        return result

    wrapt.wrap_function_wrapper(Completions, "create", wrapper)


def child(case: str, calls: int) -> None:
    """Make ``calls`` calls with ``case`` instrumented (run under callgrind by :func:`count`)."""
    from opentelemetry import metrics

    import agentguard as ag

    from .bench_openai import REQUEST, _providers, find_official, make_client

    tp, _, mp = _providers()
    meter_provider = metrics.NoOpMeterProvider() if case.endswith("-no-metrics") else mp
    guard = ag.Guard(tracer_provider=tp, meter_provider=mp, capture_content=False)
    if case.startswith("agentguard"):  # agentguard, agentguard-long, agentguard-no-metrics
        ag.instrument_openai(
            guard=ag.Guard(tracer_provider=tp, meter_provider=meter_provider, capture_content=False)
        )
    elif case.startswith("floor"):
        _install_floor(tp, meter_provider, guard)
    elif case.startswith("official"):
        official = find_official()
        if isinstance(official, str):
            raise SystemExit(official)
        official.instrumentor.instrument(tracer_provider=tp, meter_provider=meter_provider)
    client = make_client()

    @ag.guarded(guard=guard, name="bench_openai_instructions")
    def agent() -> None:
        for _ in range(calls):
            client.chat.completions.create(**REQUEST)

    agent()


def count(python: str, case: str, calls: int) -> int:
    """Instructions of one whole child process."""
    # a fixed hash seed: with random ones the same case moves by up to ±40,000 instructions per call
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONHASHSEED": "0",
    }
    for var in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_SEMCONV_STABILITY_OPT_IN"):
        env.pop(var, None)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-m",
         "benchmarks.bench_openai_instructions", "--child", case, str(calls)],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-10:])
        raise RuntimeError(f"{case} ({calls} calls) failed under callgrind:\n{tail}")
    return int(found.group(1))


def per_call(python: str, workers: int) -> dict[str, float]:
    """Instructions per call of every case, in ``python``'s environment."""
    sizes = {case: (LONG_SMALL, LONG_LARGE) if case.endswith("-long") else (SMALL, LARGE) for case in CASES}
    jobs = [(case, n) for case in CASES for n in sizes[case]]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: count(python, *job), jobs), strict=True))
    return {
        case: (totals[case, large] - totals[case, small]) / (large - small)
        for case, (small, large) in sizes.items()
    }


def report(label: str, counts: dict[str, float]) -> None:
    bare = counts["bare"]

    def over(case: str) -> float:
        return counts[case] - bare

    ours, theirs = over("agentguard"), over("official")
    print(f"  {label}")
    print(f"  {'case':<24}{'instr/call':>12}{'overhead':>12}{'SDK metrics':>13}{'the rest':>11}")
    print(f"  {'bare':<24}{bare:>12,.0f}")
    for name, case in (("agentguard", "agentguard"), ("official", "official"), ("floor", "floor")):
        metrics_part = counts[case] - counts[f"{case}-no-metrics"]
        print(
            f"  {name:<24}{counts[case]:>12,.0f}{over(case):>12,.0f}{metrics_part:>13,.0f}"
            f"{over(case) - metrics_part:>11,.0f}"
        )
    long_run = over("agentguard-long")
    print(f"  {'agentguard, long run':<24}{counts['agentguard-long']:>12,.0f}{long_run:>12,.0f}")
    print(f"openai call overhead in instructions (agentguard / official), {label}: {ours / theirs:.2f}x")
    print(
        f"the same over calls {LONG_SMALL}-{LONG_LARGE} of one run / official, {label}: "
        f"{long_run / theirs:.2f}x"
    )
    print(
        f"floor (agentguard's span and metrics made directly, values precomputed) / official, {label}: "
        f"{over('floor') / theirs:.2f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CASE", "CALLS"), help=argparse.SUPPRESS)
    parser.add_argument("--env", action="append", help="openai-v2 or genai-openai (default: both)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    opts = parser.parse_args(argv)
    if opts.child:
        child(opts.child[0], int(opts.child[1]))
        return 0
    if shutil.which("valgrind") is None:
        print("not measured: valgrind is not installed (apt-get install valgrind)")
        return 0
    from .run import GENAI_OPENAI, OPENAI_V2, ensure_env

    envs = {env.name: env for env in (OPENAI_V2, GENAI_OPENAI)}
    for name in opts.env or list(envs):
        env = envs[name]
        ensure_env(env)
        python = str(env.python)
        version = subprocess.run(
            [python, "-c", "from benchmarks.bench_openai import find_official as f; o = f(); "
             "print(o if isinstance(o, str) else o.label)"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        report(f"vs {version}", per_call(python, opts.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
