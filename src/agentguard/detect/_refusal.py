"""``refusal``: how often the model refused in the run (``info``: refusing something dangerous is
not a fault). ``refusal.rate`` is reported at the end of a run with at least one refusal."""

from __future__ import annotations

from collections.abc import Iterable

from ._engine import Detector, Session, signal
from ._events import LLMTurn, RunEnd
from ._signal import Signal


class Refusal(Detector):
    category = "refusal"
    call_kinds = frozenset()
    result_kinds = frozenset()

    def __init__(self) -> None:
        self.first: str | None = None

    def on_llm(self, ev: LLMTurn, s: Session) -> Iterable[Signal] | None:
        if ev.refusal and self.first is None:
            self.first = ev.span_id
        return None

    def on_end(self, ev: RunEnd, s: Session) -> Iterable[Signal] | None:
        if not s.refusals:
            return None
        rate = s.refusals / max(s.llm_turns, 1)
        return [
            signal(
                "refusal.rate",
                "info",
                f"{s.refusals} of {s.llm_turns} model responses refused ({rate:.0%})",
                span_ids=[ev.span_id, self.first],
                confidence=1.0,
            )
        ]
