"""One session replayed through the detectors: its signals (replayed and recorded) and its transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..detect._engine import DetectorSet
from ..detect._signal import Signal
from ..traces import Session, merge_signals, recorded_decisions, recorded_signals, session_events

MAX_TRANSCRIPT_CHARS = 24_000


@dataclass(slots=True)
class SessionResult:
    """One scanned session: its id, where it came from, how many spans, and its signals."""

    id: str
    source: str
    spans: int = 0
    start: int = 0
    signals: list[Signal] = field(default_factory=list)
    transcript: str = ""
    judge_error: str | None = None
    sources: tuple[str, ...] = ()
    decisions: dict[str, int] = field(default_factory=dict)
    """Policy decisions recorded on the spans, by outcome (``{"deny": 2}``)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "spans": self.spans,
            "signals": [s.to_dict() for s in self.signals],
        }
        if self.decisions:
            out["decisions"] = dict(self.decisions)
        if len(self.sources) > 1:
            out["sources"] = list(self.sources)
        if self.judge_error is not None:
            out["judge_error"] = self.judge_error
        return out


def replay(session: Session, detectors: DetectorSet, *, transcripts: bool = False) -> SessionResult:
    """Feed ``session``'s events to a fresh detector session; add the signals recorded on its spans."""
    state = detectors.session()
    feed = state.feed
    result = SessionResult(
        id=session.id,
        source=session.source,
        spans=len(session.spans),
        start=session.start,
        sources=session.sources,
    )
    events = session_events(session)
    if transcripts:
        for ev in events:
            feed(ev)
            if len(result.transcript) < MAX_TRANSCRIPT_CHARS:
                result.transcript += _transcript_line(ev)
    else:
        for ev in events:
            feed(ev)
    result.signals = merge_signals(state.signals, recorded_signals(session))
    result.decisions = recorded_decisions(session)
    return result


def _transcript_line(ev: Any) -> str:
    from ..detect import LLMTurn, PolicyEvent, RunEnd, RunStart, ToolCall, ToolResult

    if isinstance(ev, RunStart):
        return f"[task] {ev.task or ''}\n"
    if isinstance(ev, LLMTurn):
        calls = "".join(f"\n  -> {name}({args[:300]})" for name, args in ev.tool_calls)
        refusal = " (refusal)" if ev.refusal else ""
        return f"[assistant{refusal}] {ev.text[:1500]}{calls}\n"
    if isinstance(ev, ToolCall):
        a = ev.action
        what = a.command or a.path or a.url or ""
        return f"[tool {a.tool} ({a.kind})] {what[:300]}\n"
    if isinstance(ev, PolicyEvent):
        return f"[policy] {ev.outcome}: {ev.reason[:200]}\n"
    if isinstance(ev, ToolResult):
        out = ev.error or ev.output
        diff = ""
        if ev.change is not None and ev.change.diff:
            diff = "\n  diff: " + ev.change.diff[:1500]
        return f"[result] {out[:600]}{diff}\n"
    if isinstance(ev, RunEnd):
        return f"[final] {(ev.final or '')[:1500]}\n"
    return ""
