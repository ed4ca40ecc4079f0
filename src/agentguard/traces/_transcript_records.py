"""Span records built from agent transcripts (Claude Code sessions, Codex rollouts).

A transcript becomes the spans agentguard itself would have written for the same run, in the OTel
GenAI conventions: one ``invoke_agent`` span (conversation id = the agent's session id, task, cwd as the
scope root, final answer as its output message), a ``chat`` span per model message (text and requested
tool calls as ``gen_ai.output.messages`` parts) and an ``execute_tool`` span per tool call (arguments,
result, error status, and, for file edits whose before and after are known, ``agentguard.file.diff``).
From there the ordinary readers and session assembly apply: a sub-agent's spans carry the parent's
session id and join its session.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..telemetry import semconv as sc
from ._record import STATUS_ERROR, STATUS_UNSET, Span


def hex_id(*parts: str, length: int = 16) -> str:
    """A stable hex id (``length`` digits) derived from ``parts``."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def timestamp_ns(value: Any) -> int:
    """An ISO-8601 timestamp (``2026-01-02T03:04:05.678Z``) in ns since the epoch; 0 if unreadable."""
    if not isinstance(value, str) or not value:
        return 0
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return int(moment.timestamp() * 1_000_000) * 1000


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass(slots=True)
class ToolRecord:
    call_id: str
    name: str
    arguments: Mapping[str, Any]
    start: int
    end: int = 0
    result: str | None = None
    error: str | None = None
    diff: str | None = None
    kind: str | None = None


@dataclass(slots=True)
class TurnRecord:
    key: str
    time: int
    text: list[str] = field(default_factory=list)
    calls: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)


@dataclass(slots=True)
class RunRecord:
    """What a transcript says about one agent session, built up line by line."""

    session_id: str
    source: str
    task: str | None = None
    cwd: str | None = None
    start: int = 0
    end: int = 0
    final: str | None = None
    main: bool = True
    """False for a sub-agent's transcript: its spans join the parent's run instead of starting one."""
    tools: dict[str, ToolRecord] = field(default_factory=dict)
    turns: dict[str, TurnRecord] = field(default_factory=dict)

    _last: int = 0

    def seen(self, time: int) -> int:
        """Record a line at ``time``; returns the time to give what it holds: never earlier than the
        previous line's plus 1 ns, so lines with equal (millisecond) timestamps keep the file's order."""
        time = max(time, self._last + 1) if self._last else time
        self._last = time
        if time:
            self.start = time if not self.start else min(self.start, time)
            self.end = max(self.end, time)
        return time

    def turn(self, key: str, time: int) -> TurnRecord:
        found = self.turns.get(key)
        if found is None:
            found = self.turns[key] = TurnRecord(key=key, time=time)
        return found

    def spans(self) -> list[Span]:
        """The run as span records (children first, as an exporter writes them)."""
        trace_id = hex_id("session", self.session_id, length=32)
        root_id = hex_id("root", self.session_id)
        conv = {sc.GEN_AI_CONVERSATION_ID: self.session_id}
        out: list[Span] = []
        for turn in self.turns.values():
            parts: list[dict[str, Any]] = [{"type": "text", "content": t} for t in turn.text]
            parts += [{"type": "tool_call", "id": i, "name": n, "arguments": a} for i, n, a in turn.calls]
            attrs = {
                **conv,
                sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT,
                sc.GEN_AI_OUTPUT_MESSAGES: _json([{"role": "assistant", "parts": parts}]),
            }
            sid = hex_id("turn", self.source, turn.key)
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=sid,
                    parent_id=root_id,
                    name=sc.OP_CHAT,
                    kind=1,
                    start=turn.time,
                    end=turn.time,
                    attributes=attrs,
                )
            )
        for tool in self.tools.values():
            attrs = {
                **conv,
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                sc.GEN_AI_TOOL_NAME: tool.name,
                sc.GEN_AI_TOOL_CALL_ID: tool.call_id,
                sc.GEN_AI_TOOL_CALL_ARGUMENTS: _json(tool.arguments),
            }
            if tool.result is not None:
                attrs[sc.GEN_AI_TOOL_CALL_RESULT] = tool.result
            if tool.diff:
                attrs[sc.FILE_DIFF] = tool.diff
            if tool.kind:
                attrs[sc.TOOL_KIND] = tool.kind
            status, message = (STATUS_ERROR, tool.error) if tool.error is not None else (STATUS_UNSET, "")
            sid = hex_id("tool", self.source, tool.call_id)
            name = f"{sc.OP_EXECUTE_TOOL} {tool.name}"
            end = max(tool.end, tool.start)
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=sid,
                    parent_id=root_id,
                    name=name,
                    kind=1,
                    start=tool.start,
                    end=end,
                    status=status,
                    status_message=message,
                    attributes=attrs,
                )
            )
        if self.main:
            attrs = {**conv, sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT}
            if self.task is not None:
                attrs[sc.TASK] = self.task
            if self.cwd:
                attrs[sc.SCOPE_ROOT] = self.cwd
            if self.final is not None:
                attrs[sc.GEN_AI_OUTPUT_MESSAGES] = _json(
                    [{"role": "assistant", "parts": [{"type": "text", "content": self.final}]}]
                )
            name = f"{sc.OP_INVOKE_AGENT} {self.source}"
            out.append(
                Span(
                    trace_id=trace_id,
                    span_id=root_id,
                    name=name,
                    kind=1,
                    start=self.start,
                    end=self.end,
                    attributes=attrs,
                )
            )
        return out
