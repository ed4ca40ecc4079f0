"""Claude Code session transcripts (``~/.claude/projects/<project>/<sessionId>.jsonl``) as span records.

Fields relied on (see the Claude Code section of the agent-transcripts format notes): the envelope's
``type``, ``sessionId``, ``cwd`` (the first one is the project root), ``timestamp``, ``isSidechain``,
``isMeta`` and ``isCompactSummary``; on ``assistant`` lines ``message.id`` (one API message is split
over several lines, one content block each) and ``message.content`` blocks ``text`` and ``tool_use``
(``id``, ``name``, ``input``); on ``user`` lines ``message.content`` as a string or blocks (``text``,
``tool_result`` with ``tool_use_id``, ``content`` as a string or text blocks, ``is_error``), and the
structured ``toolUseResult`` of ``Edit``/``Write`` (``originalFile``, ``filePath``, ``content``) to record
a file edit with its whole before and after. Unknown line types and blocks are skipped. The final
answer is the last non-blank text of a main-chain assistant line; slash commands, command output,
interrupt markers, task notifications and compaction summaries are not prompts.

Sub-agent transcripts (``<sessionId>/subagents/agent-*.jsonl``, or ``agent-*.jsonl`` beside the session
in 2.0.x) carry the parent's ``sessionId``: their tool calls join the parent's run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..detect import make_diff
from ._record import Span
from ._transcript_records import RunRecord, ToolRecord, timestamp_ns

_NOT_PROMPTS = (
    "<command-name>",
    "<command-message>",
    "<local-command-stdout>",
    "<local-command-caveat>",
    "<task-notification>",
    "[Request interrupted by user",
    "Caveat:",
)


def looks_like(first: Mapping[str, Any]) -> bool:
    """Whether a transcript line (the first that parsed) is a Claude Code transcript's."""
    kind = first.get("type")
    if "sessionId" in first and isinstance(kind, str):
        return True
    return kind in ("summary", "file-history-snapshot") and ("leafUuid" in first or "snapshot" in first)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text") or "") for b in content if isinstance(b, Mapping) and b.get("type") == "text"
        )
    return ""


def _prompt(line: Mapping[str, Any]) -> str | None:
    if line.get("isMeta") or line.get("isCompactSummary"):
        return None
    message = line.get("message")
    if not isinstance(message, Mapping):
        return None
    content = message.get("content")
    if isinstance(content, list) and any(
        isinstance(b, Mapping) and b.get("type") == "tool_result" for b in content
    ):
        return None
    text = _text(content).strip()
    if not text or text.startswith(_NOT_PROMPTS):
        return None
    return text


def _edit_diff(tool: ToolRecord, structured: Any) -> str | None:
    """The whole-file diff of an ``Edit``/``Write`` whose structured result holds the file before it."""
    if not isinstance(structured, Mapping):
        return None
    original = structured.get("originalFile")
    path = structured.get("filePath") or tool.arguments.get("file_path")
    if not isinstance(path, str):
        return None
    args = tool.arguments
    if tool.name == "Write":
        new = structured.get("content", args.get("content"))
        if not isinstance(new, str):
            return None
        return make_diff(path, original if isinstance(original, str) else "", new)
    if tool.name == "Edit" and isinstance(original, str):
        old_s, new_s = args.get("old_string"), args.get("new_string")
        if not isinstance(old_s, str) or not isinstance(new_s, str) or old_s not in original:
            return None
        count = -1 if args.get("replace_all") else 1
        return make_diff(path, original, original.replace(old_s, new_s, count))
    return None


class ClaudeCodeReader:
    """Feed the parsed lines of one transcript file; :meth:`spans` gives its span records."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.run: RunRecord | None = None
        self._final_time = 0

    def add(self, line: Mapping[str, Any]) -> None:
        kind = line.get("type")
        if kind not in ("user", "assistant", "system"):
            return
        session_id = line.get("sessionId")
        if not isinstance(session_id, str) or not session_id:
            return
        time = timestamp_ns(line.get("timestamp"))
        run = self.run
        if run is None:
            run = self.run = RunRecord(session_id=session_id, source=self.source)
            run.main = not (line.get("isSidechain") or line.get("agentId"))
        time = run.seen(time)
        cwd = line.get("cwd")
        if run.cwd is None and isinstance(cwd, str) and cwd:
            run.cwd = cwd
        message = line.get("message")
        if not isinstance(message, Mapping):
            return
        if kind == "assistant":
            self._assistant(run, line, message, time)
        elif kind == "user":
            self._user(run, line, message, time)

    def _assistant(
        self, run: RunRecord, line: Mapping[str, Any], message: Mapping[str, Any], time: int
    ) -> None:
        content = message.get("content")
        if not isinstance(content, list):
            content = [{"type": "text", "text": content}] if isinstance(content, str) else []
        key = str(message.get("id") or line.get("uuid") or len(run.turns))
        turn = run.turn(key, time)
        for block in content:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "text":
                text = str(block.get("text") or "")
                if text.strip():
                    turn.text.append(text)
                    if not line.get("isSidechain"):
                        run.final = text
                        self._final_time = time
            elif block.get("type") == "tool_use":
                call_id = str(block.get("id") or f"{key}:{len(turn.calls)}")
                name = str(block.get("name") or "tool")
                raw = block.get("input")
                args: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
                turn.calls.append((call_id, name, args))
                start = run.seen(time)  # several calls of one line keep their order
                run.tools[call_id] = ToolRecord(call_id=call_id, name=name, arguments=args, start=start)

    def _user(self, run: RunRecord, line: Mapping[str, Any], message: Mapping[str, Any], time: int) -> None:
        content = message.get("content")
        if run.task is None:
            prompt = _prompt(line)
            if prompt is not None:
                run.task = prompt
        if not isinstance(content, list):
            return
        for block in content:
            if not isinstance(block, Mapping) or block.get("type") != "tool_result":
                continue
            tool = run.tools.get(str(block.get("tool_use_id") or ""))
            if tool is None:
                continue
            tool.end = time
            tool.result = _text(block.get("content"))
            if block.get("is_error"):
                tool.error = tool.result.splitlines()[0] if tool.result.strip() else "error"
            else:
                tool.diff = _edit_diff(tool, line.get("toolUseResult"))

    def spans(self) -> list[Span]:
        return self.run.spans() if self.run is not None else []


def subagent_files(path: Path) -> list[Path]:
    """The sub-agent transcripts that belong to the session transcript ``path``."""
    nested = sorted((path.parent / path.stem / "subagents").glob("agent-*.jsonl"))
    if nested:
        return nested
    if path.name.startswith("agent-"):
        return []
    flat = []
    for candidate in sorted(path.parent.glob("agent-*.jsonl")):
        if _session_of(candidate) == path.stem:
            flat.append(candidate)
    return flat


def is_subagent_file(path: Path) -> bool:
    return path.name.startswith("agent-") and path.suffix == ".jsonl"


def _session_of(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for raw in f:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(line, Mapping) and isinstance(line.get("sessionId"), str):
                    return str(line["sessionId"])
    except OSError:
        return None
    return None


def read_lines(lines: Iterable[Mapping[str, Any]], source: str) -> list[Span]:
    reader = ClaudeCodeReader(source)
    for line in lines:
        reader.add(line)
    return reader.spans()
