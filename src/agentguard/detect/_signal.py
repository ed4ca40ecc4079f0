"""What a detector reports: a :class:`Signal`, with a code, a category, a severity and evidence.

>>> s = Signal(code="loop.repeated_call", severity="medium", confidence=0.8, message="3 identical calls")
>>> s.category, s.at_least("low"), s.at_least("high")
('loop', True, False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = get_args(Severity)
_RANK: Final[dict[str, int]] = {name: i for i, name in enumerate(SEVERITIES)}

Category = Literal[
    "reward_hacking",
    "deception",
    "hallucination",
    "circumvention",
    "exfiltration",
    "destructive",
    "scope_creep",
    "self_modification",
    "deferral",
    "loop",
    "refusal",
]
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
Source = Literal["detector", "judge"]

EXCERPT_CHARS: Final = 240


def severity_rank(severity: str) -> int:
    """``info`` is 0 ... ``critical`` is 4; raises :class:`ValueError` for an unknown name."""
    try:
        return _RANK[severity]
    except KeyError:
        raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Where a signal comes from: span ids (the causing span first) and a short, redacted excerpt."""

    span_ids: tuple[str, ...] = ()
    excerpt: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"span_ids": list(self.span_ids), "excerpt": self.excerpt}


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """One finding. ``code`` is ``category.name``; the category is the part before the first dot."""

    code: str
    severity: Severity
    confidence: float
    message: str
    evidence: Evidence = field(default_factory=Evidence)
    source: Source = "detector"
    attributes: tuple[tuple[str, Any], ...] = ()
    """Extra span-event attributes (the judge's ``gen_ai.evaluation.*``)."""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(
                f"signal code {self.code!r} is not in a known category ({', '.join(CATEGORIES)})"
            )
        severity_rank(self.severity)

    @property
    def category(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def rank(self) -> int:
        return _RANK[self.severity]

    def at_least(self, severity: str) -> bool:
        return _RANK[self.severity] >= severity_rank(severity)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``agentguard scan --json`` prints."""
        return {
            "code": self.code,
            "category": self.category,
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "message": self.message,
            "evidence": self.evidence.to_dict(),
            "source": self.source,
        }


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """A one-line, redacted excerpt of at most ``limit`` characters."""
    if not text:
        return ""
    from ..telemetry import redact

    one = " ".join(text.split())
    if len(one) > limit * 4:
        one = one[: limit * 4]
    one = redact(one)
    return one if len(one) <= limit else one[: limit - 1] + "…"
