"""One session's review: the rule detectors on every session, the judges on the flagged and a sample.

The rules are the detectors :func:`agentguard.scan.scan` replays (same readers, same signals, recorded
signals included). A judge is any :class:`~agentguard.TranscriptMonitor`; each judge's findings are
kept under its model's name. Which unflagged sessions are judged is decided by a hash of the session
id, so a restarted monitor samples the same sessions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from ..detect import SEVERITIES, DetectorSet, JudgeResult, Signal
from ..scan import replay
from ..traces import Session
from ._journal import Finding

RULES: Final = "rules"
"""The reviewer name of the rule detectors' findings."""


class Judge(Protocol):
    """What the monitor needs from a judge (:class:`~agentguard.TranscriptMonitor` is one)."""

    @property
    def model(self) -> str: ...

    def evaluate(self, transcript: str, *, span_ids: tuple[str, ...] = ()) -> JudgeResult: ...


def sampled(session_id: str, rate: float) -> bool:
    """Whether an unflagged session is in the judged sample (stable across restarts)."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    digest = hashlib.sha256(session_id.encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


@dataclass(slots=True)
class Review:
    """What one review found."""

    session: Session
    findings: list[Finding] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    judge_errors: dict[str, str] = field(default_factory=dict)

    @property
    def ended_ns(self) -> int:
        return max((s.end or s.start for s in self.session.spans), default=0)


def _finding(session_id: str, reviewer: str, signal: Signal, at: float) -> Finding:
    return Finding(
        session_id=session_id,
        reviewer=reviewer,
        code=signal.code,
        category=signal.category,
        severity=signal.severity,
        confidence=round(float(signal.confidence), 3),
        message=signal.message,
        evidence=signal.evidence.to_dict(),
        created=at,
    )


def review(
    session: Session,
    *,
    detectors: DetectorSet,
    judges: Sequence[Judge] = (),
    sample: float = 0.0,
    judge_min_severity: str = "low",
    at: float,
) -> Review:
    """Review one assembled session (never raises for a judge's failure: it is reported)."""
    result = replay(session, detectors, transcripts=bool(judges))
    out = Review(session=session)
    out.findings = [_finding(session.id, RULES, s, at) for s in result.signals]
    floor = SEVERITIES.index(judge_min_severity)
    flagged = any(s.rank >= floor for s in result.signals)
    if judges and result.transcript and (flagged or sampled(session.id, sample)):
        span_ids = tuple(s.span_id for s in session.spans[:1])
        for judge in judges:
            verdict = judge.evaluate(result.transcript, span_ids=span_ids)
            out.judged.append(judge.model)
            if verdict.error is not None:
                out.judge_errors[judge.model] = verdict.error
            out.findings.extend(_finding(session.id, judge.model, s, at) for s in verdict.signals)
    return out
