"""``agentguard hook claude-code|codex|gemini``: a coding agent's pre-tool hook deciding each tool call.

The agent runs the hook before every matching tool call with the call as JSON on stdin::

    {"session_id": "...", "cwd": "/repo", "hook_event_name": "PreToolUse",
     "tool_name": "Bash", "tool_input": {"command": "git push --force"}}

and reads the answer from stdout (Claude Code's shape here; :mod:`._hook_protocols` has the others)::

    {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                            "permissionDecisionReason": "agentguard deny (destructive_commands): ..."}}

The hook never crashes and never fails open: malformed input, a missing or broken policy file, a
failing policy, bad hook arguments and a decision that takes longer than ``--deadline`` seconds
(default 10, well under the agents' hook timeouts) all answer ``deny`` with the reason, exit status 0.
The decision runs in a forked child the parent waits for, so even a decision stuck inside a C call is
cut at the deadline. In ``shadow`` mode the decision is reported but not given. After the answer is
printed, the decision is recorded into the local store (``--no-record`` turns that off). See
``integrations/claude-code/``, ``integrations/codex/`` and ``integrations/gemini-cli/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any, NoReturn

from ._hook_protocols import PROTOCOLS, HookInputError, HookProtocol

HELP = "Answer a coding agent's pre-tool hook (claude-code, codex, gemini) with a policy file."

DEFAULT_DEADLINE_S = 10.0
MAX_INPUT_BYTES = 64 * 1024 * 1024

_DESCRIPTIONS = {
    "claude-code": "Claude Code PreToolUse hook: the tool call on stdin, the permission decision on stdout.",
    "codex": "Codex CLI PreToolUse hook: the tool call on stdin, a deny (or nothing) on stdout.",
    "gemini": "Gemini CLI BeforeTool hook: the tool call on stdin, the decision on stdout.",
}


class _HookParser(argparse.ArgumentParser):
    """Usage errors of a hook answer in the agent's protocol (deny), not with argparse's text."""

    protocol: HookProtocol | None = None

    def error(self, message: str) -> NoReturn:
        protocol = self.protocol or PROTOCOLS["claude-code"]
        print(json.dumps(protocol.answer("deny", f"agentguard: bad hook arguments: {message}")))
        raise SystemExit(0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="agent", metavar="AGENT", parser_class=_HookParser, required=True)
    for name, protocol in PROTOCOLS.items():
        hook = sub.add_parser(name, help=_DESCRIPTIONS[name], description=_DESCRIPTIONS[name])
        assert isinstance(hook, _HookParser)
        hook.protocol = protocol
        hook.add_argument(
            "--policy",
            metavar="FILE",
            help="a Python file that defines `policy` (default: $AGENTGUARD_POLICY); "
            "without one, every call is denied",
        )
        if name == "claude-code":
            hook.add_argument(
                "--defer-allow",
                action="store_true",
                help="on allow, give no permission decision (Claude Code's own permission rules still apply)",
            )
        hook.add_argument(
            "--deadline",
            type=float,
            default=DEFAULT_DEADLINE_S,
            metavar="SECONDS",
            help=f"deny when no decision is made within this time (default {DEFAULT_DEADLINE_S:g})",
        )
        hook.add_argument(
            "--no-record",
            action="store_true",
            help="do not record decisions into the local store "
            "($AGENTGUARD_STORE, else .agentguard/agentguard.db in the project)",
        )
        hook.set_defaults(_protocol=protocol, _unknown_arguments=_unknown_arguments(hook))


def _unknown_arguments(parser: _HookParser) -> Any:
    def unknown(extra: list[str]) -> None:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    return unknown


def decide(
    stdin_text: str, policy_path: str | None, *, defer_allow: bool = False, agent: str = "claude-code"
) -> dict[str, Any]:
    """The hook's answer to one hook input (never raises)."""
    return _decide(PROTOCOLS[agent], stdin_text, policy_path, defer_allow=defer_allow)[0]


def _decide(
    protocol: HookProtocol, stdin_text: str, policy_path: str | None, *, defer_allow: bool
) -> tuple[dict[str, Any], Any]:
    """The answer, and what to record (``None``: nothing)."""
    from ._common import CommandError

    try:
        from ._check import parse_json

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


def _read_stdin() -> str:
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ValueError(f"hook input larger than {MAX_INPUT_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    protocol: HookProtocol = args._protocol
    policy = args.policy or os.environ.get("AGENTGUARD_POLICY") or None
    defer_allow = bool(getattr(args, "defer_allow", False))
    record = not args.no_record and os.environ.get("AGENTGUARD_HOOK_RECORD", "1") != "0"
    deadline = args.deadline if args.deadline > 0 else DEFAULT_DEADLINE_S
    try:
        text = _read_stdin()
    except Exception as exc:
        print(json.dumps(protocol.answer("deny", f"agentguard: cannot read hook input: {exc}")))
        return 0
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
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


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
