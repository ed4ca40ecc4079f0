"""The hook protocols of the coding agents agentguard answers: what each sends, what each reads back.

===============  ======================  ===================================================================
agent            event                   answer
===============  ======================  ===================================================================
``claude-code``  ``PreToolUse``          ``hookSpecificOutput.permissionDecision`` ``allow``/``deny``/``ask``
``codex``        ``PreToolUse``          ``hookSpecificOutput.permissionDecision`` ``deny`` only (``allow``
                                         without ``updatedInput`` and ``ask`` are rejected by Codex as
                                         unsupported, which lets the call run): allow is no output, ask
                                         is a deny that says approval is needed
``gemini``       ``BeforeTool``          ``decision`` ``deny`` with ``reason`` (sent to the model); allow
                                         is ``{}``, ask is a deny that says approval is needed
===============  ======================  ===================================================================

Every agent sends one JSON object on stdin (``session_id``, ``cwd``, ``hook_event_name``,
``tool_name``, ``tool_input``, and for Claude Code and Codex ``tool_use_id``) and reads one JSON object
from stdout with exit status 0. :class:`HookInputError` is raised for any input that is not a sound
call; callers answer it with a deny.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

Outcome = Literal["allow", "deny", "ask"]

REASON_MAX: Final = 1000
MAX_TOOL_NAME: Final = 256


class HookInputError(ValueError):
    """The hook input is not a tool call the hook can decide; the message says why."""


class HookCall(NamedTuple):
    """One tool call as a hook received it."""

    tool: str
    tool_input: Mapping[str, Any]
    cwd: str | None
    session_id: str | None
    call_id: str | None


def _bounded(reason: str) -> str:
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


class HookProtocol(NamedTuple):
    """One agent's hook protocol."""

    agent: str
    """The ``agentguard hook`` sub-command, e.g. ``claude-code``."""
    profile: str
    """The tool profile its tool names are read with (:mod:`agentguard.normalise._profiles`)."""
    event: str
    """The hook event it answers."""
    project_env: tuple[str, ...]
    """Environment variables the agent sets to the project directory for its hooks."""
    event_optional: bool = False

    def parse(self, data: Mapping[str, Any]) -> HookCall:
        """The call in ``data``; :class:`HookInputError` when any part of it is not understood."""
        event = data.get("hook_event_name")
        if event is None and not self.event_optional:
            raise HookInputError(f"hook input has no hook_event_name (expected {self.event!r})")
        if event is not None and event != self.event:
            shown = event[:80] if isinstance(event, str) else type(event).__name__
            raise HookInputError(f"expected a {self.event} hook event, got {shown!r}")
        tool = data.get("tool_name")
        if not isinstance(tool, str) or not tool.strip():
            raise HookInputError("hook input has no tool_name")
        if len(tool) > MAX_TOOL_NAME:
            raise HookInputError(f"tool_name of {len(tool)} characters (at most {MAX_TOOL_NAME})")
        tool_input = data.get("tool_input", {})
        if not isinstance(tool_input, Mapping):
            raise HookInputError(f"hook input tool_input must be an object, not {type(tool_input).__name__}")
        cwd = data.get("cwd")
        if cwd is not None and (not isinstance(cwd, str) or "\x00" in cwd):
            raise HookInputError("hook input cwd must be a string")
        session = data.get("session_id")
        call_id = data.get("tool_use_id")
        return HookCall(
            tool=tool,
            tool_input=tool_input,
            cwd=cwd or None,
            session_id=session if isinstance(session, str) and session else None,
            call_id=call_id if isinstance(call_id, str) and call_id else None,
        )

    def answer(self, outcome: Outcome | None, reason: str) -> dict[str, Any]:
        """The JSON object to print; ``outcome=None`` gives no decision (the agent's own rules apply)."""
        reason = _bounded(reason)
        if self.agent == "claude-code":
            out: dict[str, Any] = {"hookEventName": self.event}
            if outcome is not None:
                out["permissionDecision"] = outcome
            if reason:
                out["permissionDecisionReason"] = reason
            return {"hookSpecificOutput": out}
        if outcome == "ask":
            outcome, reason = (
                "deny",
                _bounded(f"approval needed, and {self.agent} hooks cannot ask: {reason}"),
            )
        if outcome == "deny":
            if self.agent == "codex":
                return {
                    "hookSpecificOutput": {
                        "hookEventName": self.event,
                        "permissionDecision": "deny",
                        "permissionDecisionReason": reason or "agentguard deny",
                    }
                }
            return {"decision": "deny", "reason": reason or "agentguard deny"}
        if outcome is None and reason:
            return {"systemMessage": reason}
        return {}


CLAUDE_CODE: Final = HookProtocol(
    agent="claude-code",
    profile="claude_code",
    event="PreToolUse",
    project_env=("CLAUDE_PROJECT_DIR",),
    event_optional=True,
)
CODEX: Final = HookProtocol(agent="codex", profile="codex", event="PreToolUse", project_env=())
GEMINI: Final = HookProtocol(
    agent="gemini",
    profile="gemini_cli",
    event="BeforeTool",
    project_env=("GEMINI_PROJECT_DIR", "CLAUDE_PROJECT_DIR"),
)
PROTOCOLS: Final[dict[str, HookProtocol]] = {p.agent: p for p in (CLAUDE_CODE, CODEX, GEMINI)}
