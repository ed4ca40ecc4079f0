"""Codex CLI session rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``) as span records.

Fields relied on (see the Codex section of the agent-transcripts format notes): every line's
``timestamp``, ``type`` and ``payload``; ``session_meta.payload`` ``id`` (the session), ``cwd`` and
``source`` (a sub-agent's ``{"subagent": {"thread_spawn": {"parent_thread_id"}}}`` puts it in its
parent's session); ``turn_context.payload.cwd``; ``response_item`` payloads ``message`` (``role``,
``content`` items with ``text``, ``phase``), ``function_call`` (``name``, ``arguments`` as JSON text,
``call_id``), ``function_call_output`` (``call_id``, ``output``; an exit code only inside the text,
``Process exited with code N``), ``custom_tool_call`` (``apply_patch`` with the patch as ``input``) and
``custom_tool_call_output`` (a JSON string with ``output`` and ``metadata.exit_code``); ``event_msg``
payloads ``user_message.message`` (the clean human prompt), ``task_complete.last_agent_message`` (the
final answer) and ``exec_command_end.exit_code``. ``compacted`` history repeats earlier items and is not
read again. An ``apply_patch`` becomes one file write per file it touches, with the patch's hunks as
the diff.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .._lazyre import lazy_compile
from ._record import Span
from ._transcript_records import RunRecord, ToolRecord, timestamp_ns

_INJECTED = ("<environment_context>", "# AGENTS.md", "<user_instructions>", "<permissions", "<INSTRUCTIONS>")
_EXIT = lazy_compile(r"(?:Process exited with code|Exit code:?)\s+(-?\d+)")
_FILE = lazy_compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$")


def looks_like(first: Mapping[str, Any]) -> bool:
    """Whether a rollout line (the first that parsed) is a Codex rollout's."""
    payload = first.get("payload")
    return isinstance(payload, Mapping) and first.get("type") in (
        "session_meta",
        "response_item",
        "event_msg",
        "turn_context",
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(c.get("text") or "") for c in content if isinstance(c, Mapping))
    return ""


def patch_files(patch: str) -> list[tuple[str, str]]:
    """``(path, unified diff)`` for each file of an ``apply_patch`` envelope; the diff's lines are the
    patch's hunk lines (context, removals and additions), enough to rebuild the changed region."""
    out: list[tuple[str, str]] = []
    path: str | None = None
    body: list[str] = []
    adding = False

    def flush() -> None:
        if path is not None:
            out.append((path, f"--- a/{path}\n+++ b/{path}\n" + "".join(body)))

    for line in patch.splitlines(keepends=True):
        m = _FILE.match(line.rstrip("\n"))
        if m is not None:
            flush()
            path, body, adding = m.group(2).strip(), [], m.group(1) == "Add"
            continue
        if path is None or line.startswith("*** "):
            continue
        if line.startswith("@@"):
            body.append("@@ -1 +1 @@\n")
        elif adding:
            body.append(line if line.startswith("+") else "+" + line)
        elif line[:1] in (" ", "-", "+"):
            body.append(line)
    flush()
    return out


class CodexReader:
    """Feed the parsed lines of one rollout; :meth:`spans` gives its span records."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.run: RunRecord | None = None
        self._last_assistant: str | None = None
        self._final_answer: str | None = None
        self._completed: str | None = None
        self._prompted = False

    def _ensure(self, session_id: str) -> RunRecord:
        if self.run is None:
            self.run = RunRecord(session_id=session_id, source=self.source)
        return self.run

    def add(self, line: Mapping[str, Any]) -> None:
        kind = line.get("type")
        payload = line.get("payload")
        if not isinstance(payload, Mapping):
            return
        time = timestamp_ns(line.get("timestamp"))
        if kind == "session_meta":
            self._meta(payload)
        run = self.run if self.run is not None else self._ensure(self.source)
        time = run.seen(time)
        if kind == "turn_context":
            cwd = payload.get("cwd")
            if run.cwd is None and isinstance(cwd, str):
                run.cwd = cwd
        elif kind == "response_item":
            self._item(run, payload, time)
        elif kind == "event_msg":
            self._event(run, payload, time)

    def _meta(self, payload: Mapping[str, Any]) -> None:
        session_id = str(payload.get("id") or self.source)
        source = payload.get("source")
        parent = None
        if isinstance(source, Mapping):
            sub = source.get("subagent")
            spawn = sub.get("thread_spawn") if isinstance(sub, Mapping) else None
            if isinstance(spawn, Mapping) and isinstance(spawn.get("parent_thread_id"), str):
                parent = spawn["parent_thread_id"]
        if self.run is None:
            self.run = RunRecord(session_id=parent or session_id, source=self.source)
        self.run.main = parent is None
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd:
            self.run.cwd = cwd

    def _item(self, run: RunRecord, payload: Mapping[str, Any], time: int) -> None:
        kind = payload.get("type")
        if kind == "message":
            role = payload.get("role")
            text = _text(payload.get("content"))
            if (
                role == "user"
                and run.task is None
                and text.strip()
                and not text.lstrip().startswith(_INJECTED)
            ):
                # the rollout's user item; an event_msg/user_message (the clean prompt) replaces it
                run.task = text.strip()
            elif role == "assistant" and text.strip():
                turn = run.turn(f"msg:{len(run.turns)}", time)
                turn.text.append(text)
                self._last_assistant = text
                if payload.get("phase") == "final_answer":
                    self._final_answer = text
        elif kind in ("function_call", "custom_tool_call", "local_shell_call"):
            call_id = str(payload.get("call_id") or payload.get("id") or f"call:{len(run.tools)}")
            name = str(payload.get("name") or ("shell" if kind == "local_shell_call" else "tool"))
            if kind == "custom_tool_call":
                args: Mapping[str, Any] = {"input": str(payload.get("input") or "")}
            elif kind == "local_shell_call":
                action = payload.get("action")
                args = dict(action) if isinstance(action, Mapping) else {}
            else:
                raw = payload.get("arguments")
                try:
                    parsed = json.loads(raw) if isinstance(raw, str) else raw
                except ValueError:
                    parsed = {"input": raw}
                args = parsed if isinstance(parsed, Mapping) else {"input": parsed}
            turn = run.turn(f"call:{call_id}", time)
            turn.calls.append((call_id, name, args))
            if name == "apply_patch":
                files = patch_files(str(args.get("input") or args.get("patch") or ""))
                for i, (path, diff) in enumerate(files or [("", "")]):
                    cid = call_id if i == 0 else f"{call_id}:{i}"
                    run.tools[cid] = ToolRecord(
                        call_id=cid, name=name, arguments={**args, "path": path}, start=time,
                        diff=diff or None, kind="file_write",
                    )  # fmt: skip
            else:
                run.tools[call_id] = ToolRecord(call_id=call_id, name=name, arguments=args, start=time)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            call_id = str(payload.get("call_id") or "")
            output, code = _output(payload.get("output"))
            for cid, tool in run.tools.items():
                if cid == call_id or cid.startswith(call_id + ":"):
                    tool.end = time
                    tool.result = output
                    if code:
                        tool.error = f"exit code {code}"

    def _event(self, run: RunRecord, payload: Mapping[str, Any], time: int) -> None:
        kind = payload.get("type")
        if kind == "user_message":
            message = payload.get("message")
            if isinstance(message, str) and message.strip() and not self._prompted:
                self._prompted = True
                run.task = message.strip()
        elif kind == "task_complete":
            message = payload.get("last_agent_message")
            if isinstance(message, str) and message.strip():
                self._completed = message
        elif kind == "exec_command_end":
            tool = run.tools.get(str(payload.get("call_id") or ""))
            code = payload.get("exit_code")
            if tool is not None and isinstance(code, int) and code != 0 and tool.error is None:
                tool.error = f"exit code {code}"

    def spans(self) -> list[Span]:
        if self.run is None:
            return []
        self.run.final = self._completed or self._final_answer or self._last_assistant
        return self.run.spans()


def _output(raw: Any) -> tuple[str, int]:
    """A tool output's text and its exit code (0 when none is recorded)."""
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    code = 0
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping):
            inner = parsed.get("output")
            meta = parsed.get("metadata")
            if isinstance(meta, Mapping) and isinstance(meta.get("exit_code"), int):
                code = int(meta["exit_code"])
            if isinstance(inner, str):
                text = inner
    m = _EXIT.search(text[:400])
    if m is not None and not code:
        code = int(m.group(1))
    return text, code


def read_lines(lines: Iterable[Mapping[str, Any]], source: str) -> list[Span]:
    reader = CodexReader(source)
    for line in lines:
        reader.add(line)
    return reader.spans()
