"""Evidence already recorded on spans: ``agentguard.signal`` events become signals of the session,
``agentguard.policy.decision`` events its decision counts.

A trace written with content capture off has no arguments or outputs to replay, but the guard recorded
its signals on the spans as it ran; those count. :func:`merge_signals` keeps one signal per finding when
the replay finds the same one again (same code, overlapping evidence span ids).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..detect import SEVERITIES, Evidence, Signal, Source
from ..telemetry import semconv as sc
from ._session import Session


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _span_ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v)
    return ()


def _confidence(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1.0
    return 1.0 if math.isnan(number) else min(1.0, max(0.0, number))


def recorded_signals(session: Session) -> list[Signal]:
    """The signals recorded as ``agentguard.signal`` span events, in time order; events that do not
    name a known category and severity are skipped."""
    timed: list[tuple[int, Signal]] = []
    for span in session.spans:
        for name, time, attrs in span.events:
            if name != sc.EVENT_SIGNAL:
                continue
            code = _str(attrs.get(sc.SIGNAL_CODE))
            severity = _str(attrs.get(sc.SIGNAL_SEVERITY)).lower()
            if severity not in SEVERITIES:
                continue
            source: Source = "judge" if attrs.get(sc.SIGNAL_SOURCE) == "judge" else "detector"
            try:
                signal = Signal(
                    code=code,
                    severity=severity,
                    confidence=_confidence(attrs.get(sc.SIGNAL_CONFIDENCE)),
                    message=_str(attrs.get(sc.SIGNAL_MESSAGE)),
                    evidence=Evidence(
                        span_ids=_span_ids(attrs.get(sc.SIGNAL_SPAN_IDS)) or (span.span_id,),
                        excerpt=_str(attrs.get(sc.SIGNAL_EVIDENCE)),
                    ),
                    source=source,
                )
            except ValueError:
                continue
            timed.append((time, signal))
    timed.sort(key=lambda t: t[0])
    return [s for _, s in timed]


def _same(a: Signal, b: Signal) -> bool:
    if a.code != b.code:
        return False
    ids_a, ids_b = set(a.evidence.span_ids), set(b.evidence.span_ids)
    return not ids_a or not ids_b or bool(ids_a & ids_b)


def merge_signals(replayed: Iterable[Signal], recorded: Iterable[Signal]) -> list[Signal]:
    """The replayed signals, then each recorded one that is not the same finding as one already kept."""
    out = list(replayed)
    for signal in recorded:
        if not any(_same(signal, kept) for kept in out):
            out.append(signal)
    return out


def recorded_decisions(session: Session) -> dict[str, int]:
    """How many policy decisions of each outcome (``deny``, ``ask``, ``allow``...) the spans recorded
    as ``agentguard.policy.decision`` events; one per span, outcome and rules however often it was read."""
    seen: set[tuple[str, str, str]] = set()
    counts: dict[str, int] = {}
    for span in session.spans:
        for name, _, attrs in span.events:
            if name != sc.EVENT_POLICY_DECISION:
                continue
            outcome = _str(attrs.get(sc.POLICY_DECISION))
            if not outcome:
                continue
            key = (span.span_id, outcome, repr(attrs.get(sc.POLICY_RULE_IDS)))
            if key in seen:
                continue
            seen.add(key)
            counts[outcome] = counts.get(outcome, 0) + 1
    return dict(sorted(counts.items()))
