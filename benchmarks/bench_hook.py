"""Hook latency: what one tool call costs a coding agent, as a cold process and through ``agentguard serve``.

Claude Code (and Codex, Gemini CLI) start a command hook once per tool call, so its whole-process time
is the figure: the interpreter, agentguard's imports, loading the policy file, the decision, the
answer. Measured here, taking turns call by call with ``python -c pass`` (the interpreter's own
start-up, the floor every Python hook pays):

- ``hook, plain command``: ``agentguard hook claude-code`` on a ``Bash`` call of a plain command
  (``git status && pytest -q``, split without the tree-sitter parser);
- ``hook, piped command``: the same with ``| tee log.txt`` (the parser is loaded and used);
- ``hook --server``: the plain call by a command hook that hands it to a running ``agentguard serve``
  (the hook then imports none of the normaliser);
- ``serve``: the same plain call as an HTTP hook answered by the running ``agentguard serve`` (started
  once, as a separate process), each request on a new connection, and on one kept-alive connection.

The policy is the sample ``integrations/claude-code/agentguard_policy.py`` in a scratch repository.
Bytecode is compiled first and written (``PYTHONDONTWRITEBYTECODE`` is dropped for the children), as
in any installed package. Recording into the local store is off (``--no-record``): it happens after
the answer is printed and is not part of what the agent waits for. Wall times, p50 and p90; the
machine's load moves them, the ratio to ``python -c pass`` less so.

    python -m benchmarks.bench_hook [--runs N] [--requests N]
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_POLICY = ROOT / "integrations" / "claude-code" / "agentguard_policy.py"
COLD_TARGET_MS = 80.0
SERVE_TARGET_MS = 5.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _hook_command() -> list[str]:
    script = Path(sys.executable).parent / "agentguard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "agentguard"]


def _input(project: Path, command: str) -> bytes:
    return json.dumps(
        {
            "session_id": "bench",
            "cwd": str(project),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
        }
    ).encode()


def _time_process(argv: list[str], stdin: bytes, env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=cwd, check=False, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def _serve(project: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, str]:
    port_file = project / ".serve-port"
    token_file = project / ".serve-token"
    env = {**env, "AGENTGUARD_TOKEN_FILE": str(token_file)}
    token = (
        subprocess.run(
            [*_hook_command(), "serve", "--print-token"],
            env=env,
            capture_output=True,
            check=True,
            timeout=120,
        )
        .stdout.decode()
        .strip()
    )
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    port_file.write_text(str(port))
    proc = subprocess.Popen(
        [
            *_hook_command(),
            *("serve", "--policy", str(project / "agentguard_policy.py")),
            *("--port", str(port), "--no-record"),
        ],
        env=env,
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port, token
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("agentguard serve did not start within 120 s")


def _requests(port: int, token: str, body: bytes, n: int, *, keep_alive: bool) -> list[float]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times: list[float] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(n):
        if not keep_alive:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        conn.request("POST", "/v1/hooks/claude-code", body, headers)
        response = conn.getresponse()
        payload = json.loads(response.read())
        times.append((time.perf_counter() - start) * 1000)
        if payload["hookSpecificOutput"].get("permissionDecision") != "allow":
            raise RuntimeError(f"serve answered {payload}")
        if not keep_alive:
            conn.close()
    conn.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=21, help="processes of each case (default 21)")
    parser.add_argument("--requests", type=int, default=500, help="serve requests of each kind (default 500)")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions per process (valgrind)"
    )
    opts = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["AGENTGUARD_HOOK_RECORD"] = "0"
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="agentguard-bench-hook-") as tmp:
        project = Path(tmp)
        (project / ".git").mkdir()
        (project / "src").mkdir()
        shutil.copy(SAMPLE_POLICY, project / "agentguard_policy.py")
        hook = [*_hook_command(), "hook", "claude-code", "--policy", str(project / "agentguard_policy.py")]
        hook.append("--no-record")
        proc, port, token = _serve(project, env)
        try:
            served_env = {**env, "AGENTGUARD_TOKEN_FILE": str(project / ".serve-token")}
            forwarded = [*hook, "--server", f"http://127.0.0.1:{port}"]
            cases = {
                "python -c pass": ([sys.executable, "-c", "pass"], b""),
                "hook, plain command": (hook, _input(project, "git status && pytest -q")),
                "hook, piped command": (hook, _input(project, "git status && pytest -q | tee log.txt")),
                "hook --server": (forwarded, _input(project, "git status && pytest -q")),
            }
            times: dict[str, list[float]] = {name: [] for name in cases}
            for args, stdin in cases.values():  # warm-up: bytecode, page cache
                _time_process(args, stdin, served_env, project)
            for _ in range(opts.runs):
                for name, (args, stdin) in cases.items():
                    times[name].append(_time_process(args, stdin, served_env, project))
            body = _input(project, "git status && pytest -q")
            _requests(port, token, body, 20, keep_alive=True)
            fresh = _requests(port, token, body, opts.requests, keep_alive=False)
            kept = _requests(port, token, body, opts.requests, keep_alive=True)
            counts = _instructions(cases, served_env) if opts.instructions else {}
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    floor = statistics.median(times["python -c pass"])
    print(f"hook latency, {opts.runs} processes each, wall ms (p50 / p90), in turn with `python -c pass`:")
    for name, values in times.items():
        p50 = statistics.median(values)
        print(f"    {name:<22} {p50:7.1f} / {_pct(values, 0.9):7.1f}   ({p50 / floor:.1f}x python -c pass)")
    cold = statistics.median(times["hook, plain command"])
    verdict = "OK" if cold <= COLD_TARGET_MS else "MISSED"
    print(
        f"hook cold process p50 {cold:.1f} ms, python -c pass {floor:.1f} ms "
        f"(target <= {COLD_TARGET_MS:.0f} ms on a quiet machine) {verdict}"
    )
    piped = statistics.median(times["hook, piped command"])
    print(f"hook cold process, piped command (parser loaded) p50 {piped:.1f} ms")
    handed = statistics.median(times["hook --server"])
    verdict = "OK" if handed <= COLD_TARGET_MS else "MISSED"
    print(
        f"hook cold process handing the call to agentguard serve (--server) p50 {handed:.1f} ms "
        f"(target <= {COLD_TARGET_MS:.0f} ms on a quiet machine) {verdict}"
    )
    served = statistics.median(fresh)
    print(
        f"serve p50 {served:.2f} ms a request on a new connection, {statistics.median(kept):.2f} ms kept "
        f"alive (p90 {_pct(fresh, 0.9):.2f} / {_pct(kept, 0.9):.2f}; target <= {SERVE_TARGET_MS:.0f} ms) "
        f"{'OK' if served <= SERVE_TARGET_MS else 'MISSED'}"
    )
    floor_count = counts.get("python -c pass") or 1
    for name, count in counts.items():
        print(f"    {name:<22} {count / 1e6:8.1f} M instructions ({count / floor_count:.1f}x python -c pass)")
    return 0


def _instructions(cases: dict[str, tuple[list[str], bytes]], env: dict[str, str]) -> dict[str, int]:
    """Instructions per process under callgrind (the machine's load does not move them)."""
    if shutil.which("valgrind") is None:
        print("    (no valgrind: instruction counts skipped)")
        return {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as out:
        for name, (args, stdin) in cases.items():
            argv = [*args, "--deadline", "600"] if "hook" in args else args
            subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", *argv],
                input=stdin,
                capture_output=True,
                env=env,
                check=False,
                timeout=900,
            )
            # the hook's forked child writes its own file; a call handed to the server forks nothing
            expected = 2 if "hook" in args and "--server" not in args else 1
            waited = time.monotonic() + 60
            while len(list(Path(out).glob("cg.*"))) < expected and time.monotonic() < waited:
                time.sleep(0.2)
            time.sleep(0.5)
            totals = []
            for path in Path(out).glob("cg.*"):
                for line in path.read_text(errors="replace").splitlines():
                    if line.startswith("summary:"):
                        totals.append(int(line.split()[1]))
                path.unlink()
            counts[name] = max(totals) if totals else 0  # the child's count includes what it inherited
    return counts


if __name__ == "__main__":
    sys.exit(main())
