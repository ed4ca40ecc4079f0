"""``agentguard check``: decide one action with a policy file, print the decision as JSON.

::

    $ agentguard check --policy p.py '{"kind": "shell", "tool": "run", "command": "git push -f"}'
    {"outcome": "deny", "reason": "git push force-pushes (-f)", "rules": ["destructive_commands"], ...}
    $ echo '{"tool": "Bash", "arguments": {"command": "cat .env"}}' | agentguard check --policy p.py -
    $ echo $?
    2

Exit status: 0 allow, 2 deny, 3 ask, 1 bad input (one line on stderr), 64 a usage error. A policy
file is a Python file that defines ``policy`` (an :class:`agentguard.Policy`, or anything with
``check(action)``). The action is agentguard's shape (``kind``, ``tool``,
``command``/``path``/``content``/``url``/``cwd``, ``model``) or another agent's tool call
(``tool``/``tool_name`` with ``arguments``/``tool_input``, optional ``cwd`` and ``profile``:
``claude_code``, ``codex``, ``gemini_cli``, ``mcp_filesystem``, ``agentguard``; any other profile is
bad input). A tool no profile knows is mapped by its argument shapes; when what it does cannot be
known, a policy that would allow it only by its default answers ``ask`` (rule ``unknown_effect``),
and a malformed call (``Bash`` without ``command``) is denied (rule ``malformed``). ``--text``
prints the explanation instead of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from ._common import CommandError
from ._policy_file import load_policy, parse_json

if TYPE_CHECKING:
    from ..action import Action, Decision
    from ..guard import PolicyLike

HELP = "Decide one action (JSON) with a policy file; exit 0 allow, 2 deny, 3 ask, 1 bad input."

EXIT_CODES = {"allow": 0, "deny": 2, "ask": 3}
EXIT_USAGE = 64
_CANONICAL = ("path", "content", "command", "cwd", "url", "model", "call_id")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", required=True, metavar="FILE", help="a Python file that defines `policy`")
    parser.add_argument(
        "action",
        nargs="?",
        default="-",
        metavar="ACTION_JSON",
        help="the action as JSON, or - (the default) to read it from standard input",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the decision as JSON (the default)")
    output.add_argument("--text", action="store_true", help="print the decision's explanation as text")
    parser.add_argument("--compact", action="store_true", help="print the JSON on one line")
    error = _usage_error(parser)
    setattr(parser, "error", error)  # noqa: B010 - usage errors must not exit 2 (deny)
    parser.set_defaults(_unknown_arguments=lambda extra: error(f"unrecognized arguments: {' '.join(extra)}"))


def _usage_error(parser: argparse.ArgumentParser) -> Callable[[str], NoReturn]:
    def error(message: str) -> NoReturn:
        parser.print_usage(sys.stderr)
        print(f"agentguard check: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)

    return error


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise CommandError(f"action field {key!r} must be a string")
    return str(value)


def action_from_json(data: Mapping[str, Any]) -> Action:
    """agentguard's action shape, or another agent's tool call mapped through the tool profiles."""
    from ..action import Action, normalise_kind
    from ..normalise import action_from_tool_call

    if "kind" in data:
        try:
            kind = normalise_kind(str(data["kind"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        arguments = data.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise CommandError("action field 'arguments' must be an object")
        action = Action(kind=kind, tool=str(data.get("tool") or kind), arguments=arguments)
        for key in _CANONICAL:
            value = _text(data, key)
            if value is None and key in arguments and isinstance(arguments[key], str):
                value = arguments[key]
            if value is not None:
                setattr(action, key, value)
        return action
    tool = data.get("tool", data.get("tool_name"))
    if not isinstance(tool, str) or not tool:
        raise CommandError("action needs a 'kind' (agentguard's shape) or a 'tool' name (a tool call)")
    arguments = data.get("arguments", data.get("tool_input", {}))
    if not isinstance(arguments, dict):
        raise CommandError("tool call 'arguments' must be an object")
    profile = data.get("profile")
    if profile is not None and not isinstance(profile, str):
        raise CommandError("'profile' must be a string")
    try:
        return action_from_tool_call(tool, arguments, cwd=_text(data, "cwd"), profile=profile)
    except (KeyError, ValueError) as exc:
        raise CommandError(f"cannot map tool call: {exc}") from None


def decide(policy: PolicyLike, action: Action) -> Decision:
    """The policy's decision on ``action``, with what the hook adds: malformed calls deny, unknown
    effects are never allowed by default."""
    from ..action import Decision
    from ..normalise import problems
    from ._hook_engine import not_allowed_unknown

    wrong = problems(action)
    if wrong:
        return Decision.deny("; ".join(wrong)[:500], rule_id="malformed")
    try:
        decision = policy.check(action)
    except Exception as exc:
        return Decision.deny(f"policy raised {type(exc).__name__}: {exc}", rule_id="policy.error")
    return not_allowed_unknown(action, decision)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    if args.action == "-":
        if sys.stdin.isatty():
            print(
                "agentguard check: reading the action JSON from standard input (end with Ctrl-D)",
                file=sys.stderr,
            )
        text = sys.stdin.read()
    else:
        text = args.action
    action = action_from_json(parse_json(text))
    decision = decide(policy, action)
    if args.text:
        print(decision.explain())
    else:
        out = decision.to_dict()
        out["explanation"] = decision.explain()
        print(json.dumps(out, indent=None if args.compact else 2, default=str))
    return EXIT_CODES.get(decision.outcome, 2)
