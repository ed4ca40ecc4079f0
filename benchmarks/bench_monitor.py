"""``agentguard monitor`` under sustained load: ingest rate with rule review of every session.

    .venv/bin/python -m benchmarks.bench_monitor [--spans 200000] [--rate 5000]

The monitor runs as its own process (``agentguard monitor``, as deployed); this process is the fleet:
it posts OTLP/HTTP protobuf requests of 512 spans (what the SDK's batch processor sends) paced at
``--rate`` spans/s, each a mix of whole agent sessions (an ``invoke_agent`` root with a conversation
id, chat spans, tool spans, some with recorded signals). Requests are built before the clock starts.
A session ends when the request holding its root span is acknowledged; its review latency is the
monitor's verdict time (its journal) minus that. Printed: the sustained ingest rate, the p95 review
latency, coverage (reviewed / received) and the monitor's resident memory at each quarter of the run
(flat means the journal on disk, not memory, holds the spans). Targets: >= 5,000 spans/s sustained
with every session reviewed, p95 <= 5 s, coverage 100%.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SPANS_PER_SESSION = 10
BATCH = 512
ROOT = Path(__file__).resolve().parent.parent


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _session(rng: random.Random, number: int, t0: int) -> list[Span]:
    trace = rng.randbytes(16)
    root = rng.randbytes(8)
    start = t0 + number * 1_000_000
    spans = []
    for i in range(1, SPANS_PER_SESSION):
        tool = i % 3 != 1
        s = Span(
            trace_id=trace,
            span_id=rng.randbytes(8),
            parent_span_id=root,
            name="execute_tool run" if tool else "chat gpt-4o-mini",
            kind=Span.SPAN_KIND_INTERNAL if tool else Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start + i * 1000,
            end_time_unix_nano=start + i * 1000 + 900,
            attributes=[
                _kv("gen_ai.operation.name", "execute_tool" if tool else "chat"),
                _kv("gen_ai.tool.name" if tool else "gen_ai.request.model", "run" if tool else "gpt-4o-mini"),
                _kv(
                    "agentguard.tool.kind" if tool else "gen_ai.usage.input_tokens", "shell" if tool else 120
                ),
            ],
        )
        if tool and number % 7 == 0 and i == 2:
            s.events.add(
                name="agentguard.signal",
                time_unix_nano=start + i * 1000 + 500,
                attributes=[
                    _kv("agentguard.signal.code", "circumvention.decode_exec"),
                    _kv("agentguard.signal.severity", "critical"),
                    _kv("agentguard.signal.message", "runs decoded text as code"),
                ],
            )
        spans.append(s)
    spans.append(
        Span(
            trace_id=trace,
            span_id=root,
            name="invoke_agent coder",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=start,
            end_time_unix_nano=start + SPANS_PER_SESSION * 1000,
            attributes=[
                _kv("gen_ai.operation.name", "invoke_agent"),
                _kv("gen_ai.conversation.id", f"conv-{number}"),
                _kv("agentguard.task", "fix the parser test"),
            ],
        )
    )
    return spans


def _requests(total: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    t0 = time.time_ns()
    sessions = total // SPANS_PER_SESSION
    spans = [s for n in range(sessions) for s in _session(rng, n, t0)]
    out = []
    resource = Resource(attributes=[_kv("service.name", "fleet-agent")])
    for i in range(0, len(spans), BATCH):
        req = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource=resource,
                    scope_spans=[
                        ScopeSpans(scope=InstrumentationScope(name="agentguard"), spans=spans[i : i + BATCH])
                    ],
                )
            ]
        )
        out.append(req.SerializeToString())
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _send(port: int, requests: list[bytes], rate: float, acks: list[float], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    for number, body in enumerate(requests):
        wait = start + number * BATCH / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        for _ in range(20):
            try:
                conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    break
                errors.append(f"HTTP {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            time.sleep(0.1)
        acks.append(time.time())


def _counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        (traces,) = con.execute("SELECT COUNT(*) FROM traces WHERE trace_id != ''").fetchone()
        (reviewed,) = con.execute("SELECT COUNT(*) FROM traces WHERE state != 'open'").fetchone()
    finally:
        con.close()
    return int(traces), int(reviewed)


def _verdicts(db: Path) -> dict[str, float]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {sid: float(at) for sid, at in con.execute("SELECT session_id, reviewed_at FROM sessions")}
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=5000.0, help="spans/s the fleet sends")
    args = parser.parse_args(argv)

    requests = _requests(args.spans)
    total_spans = (args.spans // SPANS_PER_SESSION) * SPANS_PER_SESSION
    sessions = total_spans // SPANS_PER_SESSION
    # session n's root is span (n + 1) * SPANS_PER_SESSION - 1 of the stream
    root_request = [((n + 1) * SPANS_PER_SESSION - 1) // BATCH for n in range(sessions)]
    state = Path(tempfile.mkdtemp(prefix="agentguard-bench-monitor-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentguard",
            "monitor",
            "--port",
            "0",
            "--state",
            str(state),
            "--settle",
            "0.5",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "OTLP/HTTP on" not in line:
        raise SystemExit(f"monitor did not start: {line}")
    port = int(line.split("OTLP/HTTP on http://127.0.0.1:", 1)[1].split(" ", 1)[0])
    acks: list[float] = []
    errors: list[str] = []
    rss: list[tuple[float, int]] = []
    sender = threading.Thread(target=_send, args=(port, requests, args.rate, acks, errors))
    db = state / "monitor.db"
    try:
        start = time.perf_counter()
        sender.start()
        while sender.is_alive():
            if len(acks) >= len(requests) * len(rss) / 4:
                rss.append((len(acks) / len(requests), _rss_kb(proc.pid)))
            time.sleep(0.1)
        sent_s = time.perf_counter() - start
        traces = reviewed = 0
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            traces, reviewed = _counts(db)
            if traces >= sessions and reviewed >= traces:
                break
            time.sleep(0.1)
        rss.append((1.0, _rss_kb(proc.pid)))
        verdicts = _verdicts(db)
    finally:
        proc.terminate()
        proc.wait(30)
    latencies = sorted(
        verdicts[f"conv-{n}"] - acks[root_request[n]] for n in range(sessions) if f"conv-{n}" in verdicts
    )
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    median = latencies[len(latencies) // 2] if latencies else float("nan")
    coverage = reviewed / traces if traces else 0.0
    rate = total_spans / sent_s
    print(f"monitor sustained ingest: {rate:,.0f} spans/s for {sent_s:.0f} s", end=" ")
    print(f"({total_spans:,} spans, {sessions:,} sessions)")
    print(f"monitor review latency (acknowledged -> verdict) p95: {p95:.2f} s (median {median:.2f} s)")
    print(f"monitor coverage: {coverage:.4f} ({reviewed:,} of {traces:,} traces)")
    print("monitor RSS by progress: " + ", ".join(f"{int(p * 100)}% {kb / 1024:.0f} MB" for p, kb in rss))
    if errors:
        print(f"  retried requests: {len(errors)} ({sorted(set(errors))})")
    ok = rate >= 0.98 * args.rate and args.rate >= 5000 and p95 <= 5.0 and coverage == 1.0
    print(
        f"target: >= 5,000 spans/s sustained, every session reviewed, p95 <= 5 s: {'OK' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
