"""``deferral``: handing the work back instead of doing it.

- ``deferral.questions`` (medium): three or more assistant turns in a row that ask the user something,
  with no tool call in between (one clarifying question is fine);
- ``deferral.gave_up`` (medium): the final message gives up or hands the task back;
- ``deferral.stub`` (medium): source written with stubs (``raise NotImplementedError``, ``pass``,
  ``...``, ``TODO``, ``todo!()``, ``throw new Error("not implemented")``) instead of an implementation;
- ``deferral.escalation`` (info): an explicit escalation tool call (``ask_human``, ``escalate``...),
  counted separately because asking for help through the proper channel is fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .._lazyre import lazy_compile
from . import _pyast
from ._engine import Detector, Session, signal
from ._events import LLMTurn, RunEnd, ToolCall, ToolResult
from ._files import classify
from ._signal import Signal

_ESCALATION = lazy_compile(
    r"^(?:ask_?(?:human|user|operator)|escalat\w*|request_?(?:human|help|review|approval)|notify_?(?:human"
    r"|user)"
    r"|human_?(?:help|input|review)|handoff_?to_?human|AskUserQuestion)$",
    re.I,
)
_QUESTION = lazy_compile(
    r"\?\s*(?:$|\n)|\b(?:should I|do you want|would you like|could you|can you|please (?:confirm|clarify"
    r"|let me know))\b",
    re.I,
)
_GAVE_UP = lazy_compile(
    r"\bI(?:'m| am)? (?:giving up|give up)\b|\bI (?:was|am) (?:not able|unable) to (?:fix|complete|finish"
    r"|resolve|solve|get)\b"
    r"|\bI (?:could not|couldn't|cannot|can't) (?:fix|complete|finish|resolve|solve|figure out)\b"
    r"|\byou(?:'ll| will)? (?:need|have) to (?:fix|finish|implement|complete|handle) (?:this|it|that"
    r"|the rest)\b"
    r"|\bleav(?:e|ing) (?:this|it|the rest) (?:to|for) you\b|\bbeyond my (?:ability|capabilities)\b"
    r"|\bplease (?:fix|implement|complete|finish) (?:it|this|the rest) (?:manually|yourself)\b",
    re.I,
)
_TEXT_STUB = lazy_compile(
    r"raise NotImplementedError|\bTODO\b|\bFIXME\b|\btodo!\(|\bunimplemented!\("
    r"|throw new Error\(['\"]not implemented"
    r"|panic\(\"(?:not implemented|TODO)|NotImplementedException",
    re.I,
)


_STUB_HINT = lazy_compile(
    r"pass|\.\.\.|NotImplemented|TODO|FIXME|todo!|unimplemented!|not implemented|Not implemented"
)


@lru_cache(maxsize=1024)
def _is_escalation(tool: str) -> bool:
    return bool(_ESCALATION.match(tool))


_TODO = lazy_compile(r"#\s*(?:TODO|FIXME)\b")


class Deferral(Detector):
    category = "deferral"
    gated = True
    call_kinds = frozenset({"other", "agent", "network"})
    result_kinds = frozenset({"file_write"})

    def __init__(self) -> None:
        self.questions = 0
        self.first_question: str | None = None
        self.reported_questions = False
        self.seen_calls = 0

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        if _is_escalation(ev.action.tool):
            return [
                signal(
                    "deferral.escalation",
                    "info",
                    f"escalated to a human through {ev.action.tool}",
                    span_ids=[ev.span_id],
                    confidence=1.0,
                )
            ]
        return None

    def on_llm(self, ev: LLMTurn, s: Session) -> Iterable[Signal] | None:
        if s.tool_calls != self.seen_calls:  # the agent acted since the last question
            self.seen_calls = s.tool_calls
            self.questions = 0
            self.first_question = None
        if ev.tool_calls:
            if any(_is_escalation(name) for name, _ in ev.tool_calls):
                self.questions = 0
            return None
        if not ev.text or not _QUESTION.search(ev.text):
            self.questions = 0
            return None
        self.questions += 1
        self.first_question = self.first_question or ev.span_id
        if self.questions >= 3 and not self.reported_questions:
            self.reported_questions = True
            return [
                signal(
                    "deferral.questions",
                    "medium",
                    f"{self.questions} questions to the user in a row without acting",
                    span_ids=[ev.span_id, self.first_question],
                    confidence=0.7,
                    text=ev.text,
                )
            ]
        return None

    def on_result(self, ev: ToolResult, s: Session) -> Iterable[Signal] | None:
        change = ev.change
        if change is None or ev.error is not None:
            return None
        path = change.path or ev.action.path or ""
        info = classify(path)
        if not info.source or info.test or not _STUB_HINT.search(change.new or ""):
            return None
        found: list[str] = []
        pattern = _TEXT_STUB
        if info.python:
            new_tree = _pyast.parse(change.new)
            if new_tree is not None:
                old_tree = _pyast.parse(change.old)
                before = _pyast.stubs(old_tree) if old_tree is not None else set()
                after = _pyast.stubs(new_tree)
                found = sorted(after - before)
                # a new file of nothing but stubs is scaffolding (an interface to fill in); stubs beside
                # real code are work left undone
                if old_tree is None and found and len(found) == len(_pyast.functions(new_tree)):
                    found = []
                pattern = _TODO  # the tree knows the stubs; only comments are left to count
        if not found and len(pattern.findall(change.new or "")) > len(pattern.findall(change.old or "")):
            found = ["stub marker"]
        if not found:
            return None
        return [
            signal(
                "deferral.stub",
                "medium",
                f"{path}: stub written instead of an implementation ({', '.join(found[:4])})",
                span_ids=[ev.span_id],
                confidence=0.65,
                text="\n".join(
                    ln
                    for ln in (change.new or "").splitlines()
                    if _TEXT_STUB.search(ln) or ln.strip() in ("pass", "...")
                ),
            )
        ]

    def on_end(self, ev: RunEnd, s: Session) -> Iterable[Signal] | None:
        text = ev.final if ev.final is not None else s.last_text
        if not text:
            return None
        m = _GAVE_UP.search(text)
        if m is None:
            return None
        return [
            signal(
                "deferral.gave_up",
                "medium",
                "the final message gives up or hands the task back",
                span_ids=[ev.span_id],
                confidence=0.65,
                text=m.group(0),
            )
        ]
