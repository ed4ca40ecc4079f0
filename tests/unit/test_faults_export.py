"""Telemetry faults never hang or break the agent: dead and hanging endpoints, locked or full stores.

Each case runs a guarded agent in a subprocess and measures how long the interpreter takes to exit
after the agent's last line: at most the shutdown bound (2 s by default) plus process teardown.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

AGENT = """
import sys, time
import agentguard as ag

@ag.tool(kind="shell")
def run_shell(command: str) -> str:
    return "ran " + command

@ag.guarded(name="fixer", task="fix the parser test")
def agent(goal: str) -> str:
    for i in range(50):
        run_shell(f"pytest -q -k case{i}")
    return goal.upper()

telemetry = ag.configure(%(args)s)
for batch in range(%(batches)d):
    assert agent("go") == "GO"
    time.sleep(%(pause)s)
print("done", flush=True)
"""

EXIT_BOUND_S = 2.0 + 2.0  # the shutdown bound, plus interpreter start-up slack on a loaded machine


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTGUARD_"))}
    env.update(extra)
    return env


def run_agent(
    cwd: Path, *, args: str = "", batches: int = 1, pause: float = 0.0, **env: str
) -> tuple[float, str]:
    """Run the agent; return how long the process took to exit after the agent finished, and stderr."""
    script = AGENT % {"args": args, "batches": batches, "pause": pause}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    finished = time.monotonic()
    code = proc.wait(timeout=60)
    exit_s = time.monotonic() - finished
    stderr = proc.stderr.read()
    assert line.strip() == "done", stderr
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    return exit_s, stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """A loopback socket that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_closed_port_exits_within_the_bound_and_warns_once_per_fault(tmp_path: Path) -> None:
    # Batches every 0.3 s for about 3 s: the exporter fails many times but says so once per kind.
    exit_s, stderr = run_agent(
        tmp_path,
        batches=10,
        pause=0.3,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
    )
    assert exit_s < EXIT_BOUND_S
    lines = warning_lines(stderr)
    messages = [line.split(":", 1)[0] for line in lines]
    assert len(lines) <= 6, stderr  # one per kind (connect failure, retry, shutdown), never per batch
    assert len(messages) == len(set(lines)), stderr


def test_endpoint_that_accepts_and_never_answers_exits_within_the_bound(
    tmp_path: Path, hanging_endpoint: str
) -> None:
    exit_s, stderr = run_agent(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=hanging_endpoint)
    assert exit_s < EXIT_BOUND_S
    # What was not sent is reported, exactly: the run's span and its 50 tool spans.
    assert "0 spans exported, 0 dropped, 0 rejected by an exporter, 51 not sent" in stderr


def test_explicit_shutdown_timeout_is_the_bound(tmp_path: Path, hanging_endpoint: str) -> None:
    exit_s, _ = run_agent(
        tmp_path, args="shutdown_timeout_s=0.2", OTEL_EXPORTER_OTLP_ENDPOINT=hanging_endpoint
    )
    assert exit_s < 0.2 + 2.0


def test_store_locked_by_another_process_exits_within_the_bound(tmp_path: Path) -> None:
    store = tmp_path / "agentguard.db"
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("CREATE TABLE hold (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        exit_s, stderr = run_agent(tmp_path, AGENTGUARD_STORE=str(store))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert exit_s < EXIT_BOUND_S
    assert "not sent" in stderr or "locked" in stderr


def mount_tmpfs(target: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    target.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "fs"
    mount_tmpfs(target, "size=256k")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_full_file_system_never_breaks_the_agent(small_fs: Path, tmp_path: Path) -> None:
    fd = os.open(small_fs / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # no space left
    finally:
        os.close(fd)
    exit_s, stderr = run_agent(tmp_path, AGENTGUARD_STORE=str(small_fs / "agentguard.db"))
    assert exit_s < EXIT_BOUND_S
    assert "agentguard" in stderr  # the fault is reported (once), the agent's output is unchanged


def test_read_only_file_system_never_breaks_the_agent(small_fs: Path, tmp_path: Path) -> None:
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True, check=False)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr.decode().strip()}")
    exit_s, stderr = run_agent(tmp_path, AGENTGUARD_STORE=str(small_fs / "agentguard.db"))
    assert exit_s < EXIT_BOUND_S
    assert "agentguard" in stderr
