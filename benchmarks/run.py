"""``make bench``: run every benchmark, each in its environment, then print a summary of the figures.

    .venv/bin/python benchmarks/run.py [--quick]

Benchmarks are listed in :data:`BENCHMARKS`; add one there (a module under ``benchmarks/`` with a
``main()``, run as ``python -m benchmarks.<name>`` from the repository root). A benchmark prints its
results as unindented lines (each figure, and a target line ending in ``OK`` or ``MISSED``); indented
lines are details. Every unindented line goes into the summary at the end. A missed target never fails
the run (no timed assertions); a benchmark that crashes does (exit status 1, after the summary).

Benchmarks that compare against the official OpenTelemetry OpenAI instrumentations run in their own
virtualenvs (the two instrumentations conflict with each other and with the dev venv): built once under
``${XDG_CACHE_HOME:-~/.cache}/agentguard/bench-venvs/<name>-<hash of its requirements file>`` from
``benchmarks/requirements-<name>.txt`` (exact pins) plus ``pip install -e .[openai]``, with
``-c requirements/constraints.txt`` when that file exists and agrees with the pins. They import
agentguard from this checkout's ``src/`` (``PYTHONPATH``), whichever clone built the env.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentguard" / "bench-venvs"
PIP_FLAGS = ("--progress-bar", "off", "--disable-pip-version-check", "--no-input", "-q")
BENCH_TIMEOUT_S = 900
BUILD_TIMEOUT_S = 900


@dataclass(frozen=True)
class BenchEnv:
    """A virtualenv for benchmarks that need packages the dev venv must not have."""

    name: str

    @property
    def requirements(self) -> Path:
        return ROOT / "benchmarks" / f"requirements-{self.name}.txt"

    @property
    def path(self) -> Path:
        # agentguard's own dependencies (pyproject.toml) are installed into the env too: a new one
        # must give a new env, not an old env that cannot import this checkout
        pinned = self.requirements.read_bytes() + (ROOT / "pyproject.toml").read_bytes()
        digest = hashlib.sha256(pinned).hexdigest()[:12]
        return CACHE / f"{self.name}-{digest}"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


DEV = None
"""Run in the interpreter running this script (the dev venv, .venv)."""
OPENAI_V2 = BenchEnv("openai-v2")
GENAI_OPENAI = BenchEnv("genai-openai")


@dataclass(frozen=True)
class Bench:
    module: str
    """Module under benchmarks/, run as ``python -m benchmarks.<module>``."""
    title: str
    env: BenchEnv | None = DEV
    quick_args: tuple[str, ...] = ()
    """Arguments for ``--quick`` (a smoke run: fewer calls, numbers not meant to be read)."""


# The benchmarks `make bench` runs, in order. Add new ones here, e.g.
#   Bench("bench_policy", "policy decision time (issue 3)"),
#   Bench("bench_scan", "scan throughput"),
BENCHMARKS: list[Bench] = [
    Bench("bench_tool", "tool call overhead and memory (dev venv)"),
    Bench(
        "bench_hook",
        "hook latency: cold process and agentguard serve, beside python -c pass",
        quick_args=("--runs", "3", "--requests", "50"),
    ),
    Bench(
        "bench_scan",
        "scan throughput, spans/s per core",
        quick_args=("--sessions", "100", "--memory-mb", "8"),
    ),
    Bench(
        "bench_ray",
        "Ray scan on a local cluster vs the local --workers scan, throughput per worker",
        quick_args=("--sessions", "400", "--files", "4"),
    ),
    Bench("bench_monitor", "agentguard monitor: ingest with review", quick_args=("--spans", "20000")),
    Bench(
        "bench_policy",
        "policy decision time vs pycasbin 2.8.0 and cedarpy 4.12.2",
        BenchEnv("policy"),
        ("--turns", "3"),
    ),
    Bench(
        "bench_openai",
        "openai chat.completions.create overhead vs opentelemetry-instrumentation-openai-v2 2.4b0",
        OPENAI_V2,
        ("--calls", "200", "--repeats", "2", "--block", "100"),
    ),
    Bench(
        "bench_openai",
        "openai chat.completions.create overhead vs opentelemetry-instrumentation-genai-openai 1.3b0",
        GENAI_OPENAI,
        ("--calls", "200", "--repeats", "2", "--block", "100"),
    ),
]


def _pins(path: Path) -> dict[str, str]:
    """``{normalised name: version}`` of the ``name==version`` lines of a requirements file."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


def _constraint_conflicts(requirements: Path) -> list[str]:
    ours = _pins(requirements)
    theirs = _pins(CONSTRAINTS)
    return [f"{n} {theirs[n]} vs {v}" for n, v in sorted(ours.items()) if n in theirs and theirs[n] != v]


def _pip(env: BenchEnv, args: list[str], log: Path) -> bool:
    with log.open("a") as out:
        out.write(f"\n$ pip install {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [str(env.python), "-m", "pip", "install", *PIP_FLAGS, *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_S,
            check=False,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
    return done.returncode == 0


def _install(env: BenchEnv, log: Path) -> None:
    """pip install agentguard (editable) and the env's pins, under the constraints when they agree."""
    base = ["-e", f"{ROOT}[openai]", "-r", str(env.requirements)]
    if CONSTRAINTS.is_file():
        conflicts = _constraint_conflicts(env.requirements)
        if conflicts:
            print(
                f"    {CONSTRAINTS.name} disagrees with the pins ({', '.join(conflicts)}): explicit pins only"
            )
        elif _pip(env, [*base, "-c", str(CONSTRAINTS)], log):
            return
        else:
            print(f"    pip with -c {CONSTRAINTS.name} failed (see {log}); retrying with explicit pins only")
    if not _pip(env, base, log):
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise RuntimeError(f"pip install into {env.path} failed:\n{tail}")


def ensure_env(env: BenchEnv) -> None:
    """Build the env once (a stamp marks it complete; a lock keeps concurrent runs from racing)."""
    stamp = env.path / ".complete"
    if stamp.exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{env.path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return
        print(f"==> building bench env {env.path} (once)", flush=True)
        start = time.monotonic()
        shutil.rmtree(env.path, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(env.path)], check=True, stdin=subprocess.DEVNULL)
        _install(env, env.path / "pip.log")
        stamp.write_text(env.requirements.read_text())
        print(f"    ready in {time.monotonic() - start:.0f} s", flush=True)


def _run(bench: Bench, quick: bool) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its output as it comes; return its exit status and output lines."""
    python = sys.executable if bench.env is None else str(bench.env.python)
    env = dict(os.environ)
    if bench.env is not None:  # this checkout's agentguard, even if another clone built the env
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    argv = [python, "-m", f"benchmarks.{bench.module}", *(bench.quick_args if quick else ())]
    lines: list[str] = []
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        watchdog = threading.Timer(BENCH_TIMEOUT_S, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line.rstrip("\n"))
        finally:
            watchdog.cancel()
        code = proc.wait()
    if code < 0:
        lines.append(f"killed (signal {-code}; time limit {BENCH_TIMEOUT_S} s)")
    return code, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run agentguard's benchmarks and summarise them.")
    parser.add_argument("--quick", action="store_true", help="smoke run: few calls, figures not meaningful")
    opts = parser.parse_args(argv)

    start = time.monotonic()
    summary: list[tuple[str, list[str]]] = []
    failed = 0
    for bench in BENCHMARKS:
        print(f"\n=== {bench.title} ===", flush=True)
        try:
            if bench.env is not None:
                ensure_env(bench.env)
            code, lines = _run(bench, opts.quick)
        except Exception as exc:
            code, lines = 1, [f"{type(exc).__name__}: {exc}"]
            print(lines[0])
        results = [line for line in lines if line.strip() and not line[0].isspace()]
        if code != 0:
            failed += 1
            results = [*results[-5:], f"FAILED (exit status {code})"]
        summary.append((bench.title, results))

    print(f"\n=== summary ({time.monotonic() - start:.0f} s) ===")
    for title, results in summary:
        print(title)
        for line in results:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
