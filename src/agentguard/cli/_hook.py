"""``agentguard hook claude-code``: a Claude Code ``PreToolUse`` hook deciding each tool call.

Claude Code runs the hook before every matching tool call with the call as JSON on stdin::

    {"session_id": "...", "transcript_path": "...", "cwd": "/repo", "hook_event_name": "PreToolUse",
     "tool_name": "Bash", "tool_input": {"command": "git push --force"}}

and reads the answer from stdout::

    {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                            "permissionDecisionReason": "destructive_commands: git push force-pushes"}}

The hook never crashes and never fails open: malformed input, a missing or broken policy file or a
failing policy all answer ``deny`` with the reason (exit status 0, so Claude Code reads the JSON). In
``shadow`` mode the decision is reported in the reason but no permission decision is given, so Claude
Code's own permission settings apply. See ``integrations/claude-code/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import CommandError

HELP = "Agent hooks: `hook claude-code --policy FILE` answers Claude Code's PreToolUse hook."

_REASON_MAX = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("agent", choices=["claude-code"], help="the agent whose hook protocol to speak")
    parser.add_argument("--policy", required=True, metavar="FILE", help="a Python file that defines `policy`")
    parser.add_argument(
        "--defer-allow",
        action="store_true",
        help="on allow, give no permission decision (Claude Code's own permission rules still apply)",
    )


def _answer(decision: str | None, reason: str) -> dict[str, Any]:
    out: dict[str, Any] = {"hookEventName": "PreToolUse"}
    if decision is not None:
        out["permissionDecision"] = decision
    if reason:
        out["permissionDecisionReason"] = (
            reason if len(reason) <= _REASON_MAX else reason[: _REASON_MAX - 1] + "…"
        )
    return {"hookSpecificOutput": out}


def decide(stdin_text: str, policy_path: str, *, defer_allow: bool = False) -> dict[str, Any]:
    """The hook's answer to one hook input (never raises)."""
    try:
        return _decide(stdin_text, policy_path, defer_allow=defer_allow)
    except CommandError as err:
        return _answer("deny", f"agentguard: {err}")
    except Exception as exc:  # fail closed, never crash the agent
        return _answer("deny", f"agentguard: hook failed: {type(exc).__name__}: {exc}")


def _decide(stdin_text: str, policy_path: str, *, defer_allow: bool) -> dict[str, Any]:
    from ..decision import Decision
    from ..normalise import action_from_tool_call
    from ._check import load_policy, parse_json

    data = parse_json(stdin_text, "hook input")
    event = data.get("hook_event_name", "PreToolUse")
    if event != "PreToolUse":
        raise CommandError(f"expected a PreToolUse hook event, got {event!r}")
    tool = data.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise CommandError("hook input has no tool_name")
    tool_input = data.get("tool_input", {})
    if not isinstance(tool_input, dict):
        raise CommandError("hook input tool_input must be an object")
    cwd = data.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise CommandError("hook input cwd must be a string")
    policy = load_policy(policy_path)
    action = action_from_tool_call(tool, tool_input, cwd=cwd, profile="claude_code")
    try:
        decision = policy.check(action)
    except Exception as exc:
        decision = Decision.deny(f"policy raised {type(exc).__name__}: {exc}", rule_id="policy.error")
    rules = ", ".join(decision.rule_ids) or "default"
    reason = (
        f"agentguard {decision.outcome} ({rules}): {decision.reason}"
        if decision.reason
        else f"agentguard {decision.outcome} ({rules})"
    )
    if decision.mode == "shadow":
        return _answer(None, f"[shadow] {reason}")
    if decision.outcome == "allow" and defer_allow:
        return _answer(None, reason)
    return _answer(decision.outcome, reason)


def run(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read()
    except Exception as exc:
        answer = _answer("deny", f"agentguard: cannot read hook input: {type(exc).__name__}")
    else:
        answer = decide(text, args.policy, defer_allow=args.defer_allow)
    print(json.dumps(answer))
    return 0
