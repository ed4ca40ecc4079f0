"""``ScriptedCLI``: a ``Transport`` that plays the Claude Code CLI's side of the SDK's control protocol.

For examples and tests where the CLI (and Anthropic's API behind it) is not available: it answers
the SDK's ``initialize`` request, then, for each scripted tool call, asks the SDK's ``PreToolUse`` hooks
and, when they do not decide, its ``can_use_tool`` callback, exactly as the CLI does; a call they
allow gets its ``PostToolUse`` hooks with the scripted response. It records what the SDK answered and
ends with a ``result`` message. It runs no tool and no model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from claude_agent_sdk import Transport


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptedCall:
    """One tool call the scripted CLI makes: the tool, its input, and what the tool would return."""

    tool: str
    input: dict[str, Any]
    response: Any = "ok"
    tool_use_id: str = ""


@dataclass(slots=True)
class Outcome:
    """What the SDK's callbacks answered for one scripted call."""

    call: ScriptedCall
    hook: dict[str, Any] = field(default_factory=dict)
    permission: dict[str, Any] | None = None

    @property
    def ran(self) -> bool:
        decision = (self.hook.get("hookSpecificOutput") or {}).get("permissionDecision")
        if decision == "deny":
            return False
        if self.permission is not None:
            return self.permission.get("behavior") == "allow"
        return True

    @property
    def message(self) -> str:
        """What the model would read for a call that did not run (the reason), else ``""``."""
        if self.ran:
            return ""
        specific = self.hook.get("hookSpecificOutput") or {}
        if specific.get("permissionDecision") == "deny":
            return str(specific.get("permissionDecisionReason", ""))
        return str((self.permission or {}).get("message", ""))


class ScriptedCLI(Transport):
    """Plays ``calls`` (made in ``cwd``) against the SDK's hooks and ``can_use_tool``; ``outcomes`` has
    the answers."""

    def __init__(
        self, calls: Sequence[ScriptedCall], *, cwd: str = "/", session_id: str = "scripted"
    ) -> None:
        self.cwd = cwd
        self.calls = [c if c.tool_use_id else _with_id(c, i) for i, c in enumerate(calls)]
        self.session_id = session_id
        self.outcomes: list[Outcome] = []
        self._hooks: dict[str, list[str]] = {}
        self._incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ready = False
        self._next = 0

    # -- Transport ----------------------------------------------------------------------------------
    async def connect(self) -> None:
        self._ready = True

    async def write(self, data: str) -> None:
        for line in data.splitlines():
            if line.strip():
                await self._incoming.put(json.loads(line))

    def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        return self._play()

    async def close(self) -> None:
        self._ready = False

    def is_ready(self) -> bool:
        return self._ready

    async def end_input(self) -> None:
        return None

    # -- the CLI's side -----------------------------------------------------------------------------
    async def _play(self) -> AsyncIterator[dict[str, Any]]:
        init = await self._expect("control_request")
        for event, matchers in (init["request"].get("hooks") or {}).items():
            self._hooks[event] = [cid for m in matchers for cid in m.get("hookCallbackIds", [])]
        yield _success(init["request_id"], {})
        await self._expect("user")
        for call in self.calls:
            outcome = Outcome(call)
            for callback_id in self._hooks.get("PreToolUse", []):
                request_id = self._request_id()
                yield _hook_request(request_id, callback_id, self._hook_input("PreToolUse", call))
                outcome.hook = await self._response(request_id)
                if (outcome.hook.get("hookSpecificOutput") or {}).get("permissionDecision") in (
                    "deny",
                    "allow",
                ):
                    break
            specific = outcome.hook.get("hookSpecificOutput") or {}
            if specific.get("permissionDecision") not in ("deny", "allow"):
                request_id = self._request_id()
                yield {
                    "type": "control_request",
                    "request_id": request_id,
                    "request": {
                        "subtype": "can_use_tool",
                        "tool_name": call.tool,
                        "input": call.input,
                        "tool_use_id": call.tool_use_id,
                    },
                }
                outcome.permission = await self._response(request_id)
            if outcome.ran:
                for callback_id in self._hooks.get("PostToolUse", []):
                    request_id = self._request_id()
                    data = {**self._hook_input("PostToolUse", call), "tool_response": call.response}
                    yield _hook_request(request_id, callback_id, data)
                    await self._response(request_id)
            self.outcomes.append(outcome)
        yield {
            "type": "result",
            "subtype": "success",
            "duration_ms": 1,
            "duration_api_ms": 0,
            "is_error": False,
            "num_turns": len(self.calls),
            "session_id": self.session_id,
            "result": f"{sum(o.ran for o in self.outcomes)} of {len(self.outcomes)} tool calls ran",
        }

    def _hook_input(self, event: str, call: ScriptedCall) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "transcript_path": "",
            "cwd": self.cwd,
            "hook_event_name": event,
            "tool_name": call.tool,
            "tool_input": call.input,
            "tool_use_id": call.tool_use_id,
        }

    def _request_id(self) -> str:
        self._next += 1
        return f"cli_{self._next}"

    async def _expect(self, kind: str) -> dict[str, Any]:
        while True:
            message = await self._incoming.get()
            if message.get("type") == kind:
                return message

    async def _response(self, request_id: str) -> dict[str, Any]:
        while True:
            message = await self._expect("control_response")
            response = message.get("response") or {}
            if response.get("request_id") == request_id:
                if response.get("subtype") == "error":
                    raise RuntimeError(f"the SDK answered an error: {response.get('error')}")
                return dict(response.get("response") or {})


def _with_id(call: ScriptedCall, i: int) -> ScriptedCall:
    return ScriptedCall(
        tool=call.tool, input=call.input, response=call.response, tool_use_id=f"toolu_{i:04d}"
    )


def _success(request_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }


def _hook_request(request_id: str, callback_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {
            "subtype": "hook_callback",
            "callback_id": callback_id,
            "input": data,
            "tool_use_id": data.get("tool_use_id"),
        },
    }
