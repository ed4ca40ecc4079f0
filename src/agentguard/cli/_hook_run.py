"""The hooks' run time: read the call, decide it in a forked child within the deadline, print, record.

No ``argparse`` here: :func:`fast_main` reads the hooks' few flags itself, so a hook's cold start
does not pay for building the whole command line (anything it does not recognise, ``--help`` included,
goes to the full parser in :mod:`._hook`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ._hook_client import AGENTS

if TYPE_CHECKING:
    from ._hook_protocols import HookProtocol

DEFAULT_DEADLINE_S = 10.0
MAX_INPUT_BYTES = 64 * 1024 * 1024


def decide(
    stdin_text: str, policy_path: str | None, *, defer_allow: bool = False, agent: str = "claude-code"
) -> dict[str, Any]:
    """The hook's answer to one hook input (never raises)."""
    from ._hook_protocols import PROTOCOLS

    return _decide(PROTOCOLS[agent], stdin_text, policy_path, defer_allow=defer_allow)[0]


def _decide(
    protocol: HookProtocol, stdin_text: str, policy_path: str | None, *, defer_allow: bool
) -> tuple[dict[str, Any], Any]:
    """The answer, and what to record (``None``: nothing)."""
    from ._common import CommandError
    from ._hook_protocols import HookInputError

    try:
        from ._policy_file import parse_json

        if not policy_path:
            raise CommandError("no policy: give --policy FILE (or set AGENTGUARD_POLICY)")
        data = parse_json(stdin_text, "hook input")
        call = protocol.parse(data)
        from ._hook_engine import HookEngine

        engine = HookEngine(protocol, policy_path)
        verdict = engine.decide(call)
    except (CommandError, HookInputError) as err:
        return protocol.answer("deny", f"agentguard: {err}"), None
    except Exception as exc:  # fail closed, never crash the agent
        return protocol.answer("deny", f"agentguard: hook failed: {type(exc).__name__}: {exc}"), None
    outcome = verdict.outcome
    if outcome == "allow" and defer_allow:
        outcome = None
    return protocol.answer(outcome, verdict.reason), (call, verdict, engine.project)


def _record(protocol: HookProtocol, recorded: Any) -> None:
    if recorded is None:
        return
    from ._hook_record import record

    call, verdict, project = recorded
    record(protocol.agent, call, verdict, project)


def _read_stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ValueError(f"hook input larger than {MAX_INPUT_BYTES} bytes")
    return data


def _in_child(
    protocol: HookProtocol, text: str, policy: str | None, defer_allow: bool, record: bool, deadline: float
) -> dict[str, Any] | None:
    """Decide in a forked child; ``None`` when it gives no answer within ``deadline`` seconds."""
    import select
    import signal
    import time

    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: decide, answer through the pipe, then record
        status = 0
        try:
            os.close(read_end)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # the agent waits for the hook's stdout to close: never hold it
                os.dup2(devnull, fd)
            answer, recorded = _decide(protocol, text, policy, defer_allow=defer_allow)
            payload = json.dumps(answer).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            if record:
                signal.alarm(5)  # recording is bounded: the default action ends the child
                _record(protocol, recorded)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: list[bytes] = []
    end = time.monotonic() + deadline
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return None
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        _reap(pid)
    received: Any = None
    with contextlib.suppress(ValueError):
        received = json.loads(b"".join(chunks))
    if not isinstance(received, dict):
        return protocol.answer("deny", "agentguard: the decision process ended without an answer")
    return received


def _reap(pid: int) -> None:
    """Collect the child if it is done; a child still recording is left to finish on its own."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _in_thread(
    protocol: HookProtocol, text: str, policy: str | None, defer_allow: bool, deadline: float
) -> tuple[dict[str, Any] | None, Any]:
    """Decide in a thread (where ``fork`` does not exist); no answer past the deadline."""
    import threading

    result: list[tuple[dict[str, Any], Any]] = []
    worker = threading.Thread(
        target=lambda: result.append(_decide(protocol, text, policy, defer_allow=defer_allow)), daemon=True
    )
    worker.start()
    worker.join(deadline)
    if not result:
        return None, None
    return result[0]


def run_hook(
    agent: str,
    policy: str | None,
    *,
    defer_allow: bool,
    record: bool,
    deadline: float,
    server: str | None = None,
) -> int:
    """Answer one hook call on stdin/stdout; always exit status 0 (the answer says deny)."""
    policy = policy or os.environ.get("AGENTGUARD_POLICY") or None
    server = server or os.environ.get("AGENTGUARD_HOOK_SERVER") or None
    record = record and os.environ.get("AGENTGUARD_HOOK_RECORD", "1") != "0"
    deadline = deadline if deadline > 0 else DEFAULT_DEADLINE_S
    failure = ""
    data: bytes | None = None
    try:
        data = _read_stdin()
    except Exception as exc:
        failure = f"agentguard: cannot read hook input: {exc}"
    if data is not None and server is not None and not defer_allow:
        from ._hook_client import forward

        forwarded = forward(agent, data, server, min(deadline, 5.0))
        if forwarded is not None:
            print(json.dumps(forwarded), flush=True)
            return 0
    from ._hook_protocols import PROTOCOLS

    protocol = PROTOCOLS[agent]
    if data is None:
        print(json.dumps(protocol.answer("deny", failure)))
        return 0
    text = data.decode("utf-8", errors="replace")
    late = protocol.answer("deny", f"agentguard deny (deadline): no decision within {deadline:g} s")
    recorded: Any = None
    if hasattr(os, "fork"):
        answer = _in_child(protocol, text, policy, defer_allow, record, deadline)
    else:
        answer, recorded = _in_thread(protocol, text, policy, defer_allow, deadline)
    print(json.dumps(answer if answer is not None else late), flush=True)
    if record and recorded is not None:
        _record(protocol, recorded)
    return 0


def fast_main(argv: list[str]) -> int | None:
    """Run ``hook AGENT [--policy FILE] [--server URL] [--deadline S] [--no-record] [--defer-allow]``;
    ``None`` for anything else (the full parser then answers it)."""
    if not argv or argv[0] not in AGENTS:
        return None
    agent = argv[0]
    policy: str | None = None
    server: str | None = None
    deadline = DEFAULT_DEADLINE_S
    record = True
    defer_allow = False
    rest = iter(argv[1:])
    for arg in rest:
        name, eq, value = arg.partition("=")
        if name in ("--policy", "--deadline", "--server") and not eq:
            value = next(rest, "")
            if not value or value.startswith("-"):
                return None
        if name == "--policy" and value:
            policy = value
        elif name == "--server" and value:
            server = value
        elif name == "--deadline" and value:
            try:
                deadline = float(value)
            except ValueError:
                return None
        elif arg == "--no-record":
            record = False
        elif arg == "--defer-allow" and agent == "claude-code":
            defer_allow = True
        else:
            return None
    return run_hook(agent, policy, defer_allow=defer_allow, record=record, deadline=deadline, server=server)
