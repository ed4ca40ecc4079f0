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
import json
from typing import Any, NoReturn

from ._hook_protocols import PROTOCOLS, HookProtocol
from ._hook_run import DEFAULT_DEADLINE_S, decide, run_hook

HELP = "Answer a coding agent's pre-tool hook (claude-code, codex, gemini) with a policy file."


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
            "--server",
            metavar="URL",
            help="hand the call to a running `agentguard serve` at this loopback URL "
            "(default: $AGENTGUARD_HOOK_SERVER); decided here when it gives no answer",
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


def run(args: argparse.Namespace) -> int:
    return run_hook(
        args._protocol.agent,
        args.policy,
        defer_allow=bool(getattr(args, "defer_allow", False)),
        record=not args.no_record,
        deadline=args.deadline,
        server=args.server,
    )


__all__ = ["HELP", "add_arguments", "decide", "run"]
