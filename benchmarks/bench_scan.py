# ruff: noqa: E501 - span templates read best one span field per line
"""Offline scan throughput and memory: spans per second per core over a generated OTLP JSON lines
file, and peak memory on a large file whose spans are in random order.

The file holds realistic coding-agent sessions (a run span, model calls with captured output
messages, file reads, edits with recorded diffs, test runs, shell commands, a policy denial now and
then), batched a few spans per line as a collector's file exporter writes them. The scan runs in this
process (one core), through the built-in detectors, and must reach TARGET spans/s.

The memory case writes ``--memory-mb`` (default 1024) of the same sessions with every span on a line
of its own, the lines shuffled across the whole file (so no session is complete until the end), into
a temporary directory, and scans it in a child process: its peak resident memory must stay under
MEMORY_TARGET_MB (spans spill to a temporary SQLite file).

    python -m benchmarks.bench_scan [--sessions N] [--keep PATH] [--memory-mb MB | --memory-mb 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentguard.scan import scan

TARGET = 50_000
MEMORY_TARGET_MB = 200


def _kv(d: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k, v in d.items():
        if isinstance(v, bool):
            val: dict[str, Any] = {"boolValue": v}
        elif isinstance(v, int):
            val = {"intValue": str(v)}
        elif isinstance(v, list):
            val = {"arrayValue": {"values": [{"stringValue": x} for x in v]}}
        else:
            val = {"stringValue": str(v)}
        out.append({"key": k, "value": val})
    return out


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def hexid(self, n: int) -> str:
        return "".join(self.rnd.choice("0123456789abcdef") for _ in range(n))

    def session(self, i: int) -> list[dict[str, Any]]:
        rnd = self.rnd
        trace, run_id = self.hexid(32), self.hexid(32)
        root = self.hexid(16)
        t = 1_700_000_000_000_000_000 + i * 10**10
        spans: list[dict[str, Any]] = []

        def span(name: str, attrs: dict[str, Any], dur: int, events: list[dict[str, Any]] | None = None,
                 error: str | None = None) -> None:  # fmt: skip
            nonlocal t
            s: dict[str, Any] = {
                "traceId": trace, "spanId": self.hexid(16), "parentSpanId": root, "name": name, "kind": 1,
                "startTimeUnixNano": str(t), "endTimeUnixNano": str(t + dur), "attributes": _kv(attrs),
                "status": {"code": 2, "message": error} if error else {"code": 0},
            }  # fmt: skip
            if events:
                s["events"] = events
            spans.append(s)
            t += dur + 1000

        def chat(text: str, calls: list[tuple[str, dict[str, Any]]]) -> None:
            parts: list[dict[str, Any]] = [{"type": "text", "content": text}] if text else []
            parts += [
                {"type": "tool_call", "id": f"c{n}", "name": c, "arguments": json.dumps(a)}
                for n, (c, a) in enumerate(calls)
            ]
            span(
                "chat gpt-4o-mini",
                {
                    "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini", "gen_ai.conversation.id": run_id,
                    "agentguard.run.id": run_id, "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
                    "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": parts, "finish_reason": "stop"}]),
                    "agentguard.refusal": False,
                },
                800_000,
                [{"timeUnixNano": str(t), "name": "gen_ai.tool.call",
                  "attributes": _kv({"gen_ai.tool.name": c, "gen_ai.tool.call.arguments": json.dumps(a)})} for c, a in calls],
            )  # fmt: skip

        def tool(name: str, kind: str, args: dict[str, Any], result: str, extra: dict[str, Any] | None = None,
                 events: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
            attrs = {
                "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.type": "function",
                "agentguard.tool.kind": kind, "gen_ai.tool.call.arguments": json.dumps(args),
                "gen_ai.tool.call.result": result, **(extra or {}),
            }  # fmt: skip
            span(f"execute_tool {name}", attrs, 200_000, events)

        mod = f"mod{rnd.randrange(40)}"
        chat("Let me look at the code.", [("read_file", {"path": f"src/{mod}.py"})])
        tool("read_file", "file_read", {"path": f"src/{mod}.py"}, f"def f(x):\n    return x + {i % 7}\n" * 8)
        chat("", [("run", {"command": f"python -m pytest -q tests/test_{mod}.py"})])
        tool("run", "shell", {"command": f"python -m pytest -q tests/test_{mod}.py"},
             "FAILED tests/test_x.py::test_f - assert 3 == 4\n1 failed, 12 passed in 0.31s")  # fmt: skip
        chat("", [("run", {"command": f"grep -rn 'def f' src/{mod}.py"})])
        tool("run", "shell", {"command": f"grep -rn 'def f' src/{mod}.py"}, f"src/{mod}.py:1:def f(x):")
        old = "def f(x):\n    return x + 1\n"
        new = "def f(x):\n    return x + 2\n"
        diff = f"--- a/src/{mod}.py\n+++ b/src/{mod}.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x + 1\n+    return x + 2\n"
        chat("", [("edit_file", {"path": f"src/{mod}.py", "old_string": old, "new_string": new})])
        tool("edit_file", "file_write", {"path": f"src/{mod}.py", "old_string": old, "new_string": new},
             f"edited src/{mod}.py", {"agentguard.file.diff": diff})  # fmt: skip
        if i % 5 == 0:
            chat("", [("run", {"command": "cat .env"})])
            tool("run", "shell", {"command": "cat .env"}, "null", {"agentguard.policy.decision": "deny"},
                 [{"timeUnixNano": str(t), "name": "agentguard.policy.decision",
                   "attributes": _kv({"agentguard.policy.decision": "deny", "agentguard.policy.rule_ids": ["secrets"],
                                      "agentguard.policy.reason": "reads '.env', a secret file"})}])  # fmt: skip
        chat("", [("run", {"command": "python -m pytest -q"})])
        tool("run", "shell", {"command": "python -m pytest -q"}, "13 passed in 0.42s")
        chat("", [("run", {"command": "git status --short"})])
        tool("run", "shell", {"command": "git status --short"}, f" M src/{mod}.py")
        chat(f"Fixed f() in src/{mod}.py; all tests pass.", [])
        final = json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": f"Fixed src/{mod}.py."}]}]
        )
        spans.append(
            {
                "traceId": trace, "spanId": root, "name": "invoke_agent fixer", "kind": 1,
                "startTimeUnixNano": str(1_700_000_000_000_000_000 + i * 10**10 - 1000), "endTimeUnixNano": str(t),
                "attributes": _kv({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "fixer",
                                   "gen_ai.conversation.id": run_id, "agentguard.run.id": run_id,
                                   "agentguard.task": "fix the failing test", "gen_ai.output.messages": final}),
                "status": {"code": 0},
            }
        )  # fmt: skip
        return spans


def generate(path: Path, sessions: int, per_line: int = 8, first: int = 0) -> int:
    """``sessions`` sessions numbered from ``first`` (files with different ``first`` hold different
    sessions) into ``path``; returns the number of spans."""
    gen = _Gen(7 + first)
    total = 0
    with path.open("w") as f:
        for i in range(first, first + sessions):
            spans = gen.session(i)
            total += len(spans)
            for j in range(0, len(spans), per_line):
                batch = spans[j : j + per_line]
                doc = {"resourceSpans": [{"resource": {"attributes": _kv({"service.name": "agent"})},
                                          "scopeSpans": [{"scope": {"name": "agentguard"}, "spans": batch}]}]}  # fmt: skip
                f.write(json.dumps(doc, separators=(",", ":")) + "\n")
    return total


def generate_shuffled(path: Path, megabytes: int, buckets: int = 64) -> tuple[int, int]:
    """About ``megabytes`` MB of sessions, one span per line, lines in random order; returns
    ``(spans, sessions)``. Lines go to random bucket files first, then each bucket is shuffled and
    appended, so the generator never holds more than a bucket."""
    gen = _Gen(11)
    rnd = random.Random(5)
    limit = megabytes * 2**20
    parts = [path.with_name(f"{path.name}.part{i}") for i in range(buckets)]
    files = [p.open("w") for p in parts]
    written = spans = sessions = 0
    try:
        while written < limit:
            for sp in gen.session(sessions):
                doc = {"resourceSpans": [{"resource": {"attributes": _kv({"service.name": "agent"})},
                                          "scopeSpans": [{"scope": {"name": "agentguard"}, "spans": [sp]}]}]}  # fmt: skip
                text = json.dumps(doc, separators=(",", ":")) + "\n"
                files[rnd.randrange(buckets)].write(text)
                written += len(text)
                spans += 1
            sessions += 1
    finally:
        for f in files:
            f.close()
    with path.open("w") as out:
        for p in parts:
            lines = p.read_text().splitlines(keepends=True)
            rnd.shuffle(lines)
            out.writelines(lines)
            p.unlink()
    return spans, sessions


_CHILD = """
import resource, sys, time
from agentguard.scan import scan
start = time.perf_counter()
report = scan([sys.argv[1]], spill_dir=sys.argv[2])
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(report.spans, len(report.sessions), sum(len(s.signals) for s in report.sessions), f"{wall:.1f}", f"{peak:.1f}")
"""


def memory_case(megabytes: int) -> bool:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "shuffled.jsonl"
        spans, sessions = generate_shuffled(path, megabytes)
        size_mb = os.path.getsize(path) / 2**20
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), d], capture_output=True, text=True, check=False
        )
    if proc.returncode != 0:
        print(f"scan memory: the scan failed: {proc.stderr.strip()[-500:]}")
        return False
    got_spans, got_sessions, signals, wall, peak = proc.stdout.split()
    ok = float(peak) < MEMORY_TARGET_MB and int(got_spans) == spans and int(got_sessions) == sessions
    print(
        f"scan memory: {int(got_spans):,} spans in {int(got_sessions):,} sessions ({size_mb:,.0f} MB, random order), "
        f"{int(signals):,} signals, {wall}s wall"
    )
    print(
        f"scan peak memory: {float(peak):,.0f} MB (target < {MEMORY_TARGET_MB} MB) {'OK' if ok else 'MISSED'}"
        + ("" if int(got_sessions) == sessions else f" (expected {sessions:,} sessions)")
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--keep", metavar="PATH")
    parser.add_argument("--memory-mb", type=int, default=1024, help="size of the random-order file (0: skip)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        path = Path(args.keep) if args.keep else Path(d) / "traces.jsonl"
        total = generate(path, args.sessions)
        size_mb = os.path.getsize(path) / 2**20
        scan([path])  # warm the caches and imports on a first pass
        start_cpu, start = time.process_time(), time.perf_counter()
        report = scan([path])
        cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    rate = report.spans / cpu
    signals = sum(len(s.signals) for s in report.sessions)
    print(
        f"scan: {report.spans:,} spans in {len(report.sessions):,} sessions ({size_mb:.1f} MB), "
        f"{signals:,} signals, {wall:.2f}s wall, {cpu:.2f}s CPU"
    )
    print(
        f"scan throughput: {rate:,.0f} spans/s per core (target >= {TARGET:,}) "
        f"{'OK' if rate >= TARGET else 'MISSED'}"
    )
    ok = total == report.spans
    if args.memory_mb > 0:
        ok = memory_case(args.memory_mb) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
