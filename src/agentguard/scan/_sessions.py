"""Grouping spans into sessions and replaying each through the detectors, with memory kept flat.

A session is a ``gen_ai.conversation.id`` (spans without one take their nearest ancestor's), else a
trace. Spans are buffered per trace until the trace's root span arrives (a root span ends, and so is
exported, after its children); the trace is then replayed and dropped. A session whose id is one of
its traces' run ids (agentguard's default conversation id) or its trace id is finished with its trace;
a conversation that spans several traces keeps its (bounded) detector state until the end of input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import semconv as sc
from ..detect._engine import DetectorSet, Session
from ..detect._signal import Signal
from ._replay import session_events
from ._spans import SpanData

MAX_TRANSCRIPT_CHARS = 24_000
_CONVERSATION_ID = sc.GEN_AI_CONVERSATION_ID
_RUN_ID = sc.RUN_ID
_OPERATION = sc.GEN_AI_OPERATION_NAME
_INVOKE_AGENT = sc.OP_INVOKE_AGENT


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "spans": self.spans,
            "signals": [s.to_dict() for s in self.signals],
        }
        if self.judge_error is not None:
            out["judge_error"] = self.judge_error
        return out


class _Open:
    __slots__ = ("result", "session")

    def __init__(self, session: Session, result: SessionResult) -> None:
        self.session = session
        self.result = result


class Assembler:
    """Feed spans in any order; finished sessions are handed to ``done`` as soon as they are known."""

    def __init__(
        self,
        detectors: DetectorSet,
        source: str,
        done: Callable[[SessionResult], None],
        *,
        transcripts: bool = False,
    ) -> None:
        self.detectors = detectors
        self.source = source
        self.done = done
        self.transcripts = transcripts
        self.traces: dict[str, list[SpanData]] = {}
        self.open: dict[str, _Open] = {}
        self.spans = 0

    def add(self, span: SpanData, *, root_completes: bool = True) -> None:
        """Buffer a span. In export order (OTLP files) a root span ends its trace, so ``root_completes``;
        a reader in start order (the local store) passes ``False`` and calls :meth:`trace_complete`."""
        self.spans += 1
        bucket = self.traces.get(span.trace_id)
        if bucket is None:
            bucket = self.traces[span.trace_id] = []
        bucket.append(span)
        if root_completes and not span.parent_id:
            self.trace_complete(span.trace_id)

    def trace_complete(self, trace_id: str) -> None:
        spans = self.traces.pop(trace_id, None)
        if not spans:
            return
        groups, closable = split_trace(spans)
        for sid, group in groups.items():
            self.replay(sid, group)
            if sid in closable:
                self.close(sid)

    def replay(self, session_id: str, spans: list[SpanData]) -> None:
        state = self.open.get(session_id)
        if state is None:
            state = self.open[session_id] = _Open(
                self.detectors.session(),
                SessionResult(id=session_id, source=self.source, start=spans[0].start),
            )
        result = state.result
        result.spans += len(spans)
        result.start = min(result.start, *(s.start for s in spans))
        feed = state.session.feed
        if not self.transcripts:
            for ev in session_events(spans):
                feed(ev)
            return
        for ev in session_events(spans):
            feed(ev)
            if len(result.transcript) < MAX_TRANSCRIPT_CHARS:
                result.transcript += _transcript_line(ev)

    def close(self, session_id: str) -> None:
        state = self.open.pop(session_id, None)
        if state is None:
            return
        state.result.signals = list(state.session.signals)
        self.done(state.result)

    def finish(self) -> None:
        """End of input: replay incomplete traces, close every open session."""
        for trace_id in list(self.traces):
            self.trace_complete(trace_id)
        for sid in list(self.open):
            self.close(sid)


def split_trace(spans: list[SpanData]) -> tuple[dict[str, list[SpanData]], set[str]]:
    """A complete trace's spans by session id, and the ids that end with this trace."""
    by_id = {s.span_id: s for s in spans}
    conv: dict[str, str] = {}

    def conversation(span: SpanData) -> str:
        chain = []
        cur: SpanData | None = span
        found = ""
        while cur is not None:
            known = conv.get(cur.span_id)
            if known is not None:
                found = known
                break
            c = cur.attrs.get(sc.GEN_AI_CONVERSATION_ID)
            chain.append(cur.span_id)
            if isinstance(c, str) and c:
                found = c
                break
            cur = by_id.get(cur.parent_id) if cur.parent_id else None
            if len(chain) > 1000:
                break
        found = found or span.trace_id
        for sid in chain:
            conv[sid] = found
        return found

    groups: dict[str, list[SpanData]] = {}
    closable: set[str] = {spans[0].trace_id}
    for span in spans:
        attrs = span.attrs
        found = conv.get(span.span_id)
        if found is None:
            c = attrs.get(_CONVERSATION_ID)
            if isinstance(c, str) and c:  # its own id: what conversation() finds first, without the walk
                found = conv[span.span_id] = c
            else:
                found = conversation(span)
        group = groups.get(found)
        if group is None:
            groups[found] = [span]
        else:
            group.append(span)
        run_id = attrs.get(_RUN_ID)
        if isinstance(run_id, str) and attrs.get(_OPERATION) == _INVOKE_AGENT:
            closable.add(run_id)
    return groups, closable & set(groups)


def _transcript_line(ev: Any) -> str:
    from ..detect._events import LLMTurn, PolicyEvent, RunEnd, RunStart, ToolCall, ToolResult

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
