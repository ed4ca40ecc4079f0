"""Decisions and the exception a denied action raises.

A :class:`Decision` is what a policy says about one action: ``allow``, ``deny`` or ``ask`` (a human
approves), which rules decided, which other rules matched, why, and the normalised facts it was
decided on, so that it can explain itself::

    >>> d = Decision.deny("force push to main", rule_id="destructive_commands")
    >>> d.outcome, d.rule_ids
    ('deny', ('destructive_commands',))
    >>> d.summary()
    'deny by destructive_commands: force push to main'

Exceptions::

    Exception
     └── Denied          a policy denied the action (or an approver said no); carries the Decision
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..approval import ApprovalResult
    from ..normalise import Facts

Outcome = Literal["allow", "deny", "ask"]
Mode = Literal["enforce", "shadow"]

_FACTS_TEXT_MAX = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Vote:
    """What one rule said about an action (every rule that returned a decision gets one)."""

    rule_id: str
    outcome: Outcome
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What the policy says about one action: ``allow``, ``deny`` or ``ask`` (a human approves)."""

    outcome: Outcome
    reason: str = ""
    rule_ids: tuple[str, ...] = ()
    """The rules that decided."""
    matched: tuple[str, ...] = ()
    """Every other rule that matched the action."""
    mode: Mode = "enforce"
    votes: tuple[Vote, ...] = ()
    """Each matching rule's own outcome and reason, in policy order."""
    facts: Facts | None = field(default=None, compare=False, repr=False)
    """The normalised facts (:class:`agentguard.normalise.Facts`) the decision was made on, if any."""
    approval: ApprovalResult | None = field(default=None, compare=False, repr=False)
    """The approver's answer (``ApprovalResult``) when an ``ask`` was resolved."""
    policy: str = ""
    """The deciding policy's name."""

    @classmethod
    def allow(cls, reason: str = "", *, rule_id: str | None = None) -> Decision:
        return cls(outcome="allow", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @classmethod
    def deny(cls, reason: str, *, rule_id: str | None = None) -> Decision:
        return cls(outcome="deny", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @classmethod
    def ask(cls, reason: str, *, rule_id: str | None = None) -> Decision:
        return cls(outcome="ask", reason=reason, rule_ids=(rule_id,) if rule_id else ())

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"

    @property
    def denied(self) -> bool:
        return self.outcome == "deny"

    @property
    def blocks(self) -> bool:
        """Whether the action must not run: denied and enforced."""
        return self.outcome == "deny" and self.mode == "enforce"

    def with_mode(self, mode: Mode) -> Decision:
        return self if mode == self.mode else replace(self, mode=mode)

    # -- facts --------------------------------------------------------------------------------------
    def facts_summary(self) -> dict[str, Any] | None:
        """The facts as a JSON-ready dict (commands passed through redaction), or ``None``."""
        facts = self.facts
        if facts is None:
            return None
        as_dict = getattr(facts, "as_dict", None)
        if as_dict is None:
            return None
        summary: dict[str, Any] = as_dict()
        return _redacted(summary)

    @property
    def facts_digest(self) -> str:
        """A short stable hash of the normalised facts ("" without facts): equal actions, equal digest."""
        summary = self.facts_summary()
        if summary is None:
            return ""
        import hashlib

        text = json.dumps(summary, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]

    def facts_text(self) -> str:
        """A one-line, redacted, bounded description of the facts (for span events)."""
        summary = self.facts_summary()
        if summary is None:
            return ""
        parts: list[str] = [str(summary.get("kind", ""))]
        commands = summary.get("commands") or []
        if commands:
            parts.append("run: " + "; ".join(" ".join(c.get("argv", [])) for c in commands))
        paths = summary.get("paths") or []
        if paths:
            parts.append(
                "paths: "
                + ", ".join(
                    f"{p.get('access')} {p.get('relative') or p.get('resolved')}"
                    + ("" if p.get("inside_root") else " (outside)")
                    for p in paths
                )
            )
        hosts = summary.get("hosts") or []
        if hosts:
            parts.append("hosts: " + ", ".join(hosts))
        if summary.get("opaque"):
            parts.append("opaque: " + "; ".join(summary.get("reasons") or ["unknown"]))
        text = " | ".join(p for p in parts if p)
        return text if len(text) <= _FACTS_TEXT_MAX else text[: _FACTS_TEXT_MAX - 1] + "…"

    # -- explanation --------------------------------------------------------------------------------
    def summary(self) -> str:
        """One line: outcome, deciding rules and reason."""
        rules = ", ".join(self.rule_ids) or "default"
        return f"{self.outcome} by {rules}: {self.reason}" if self.reason else f"{self.outcome} by {rules}"

    def explain(self) -> str:
        """Why, in a paragraph: the deciding rules and reason, other matching rules, the facts."""
        verb = {"allow": "Allowed", "deny": "Denied", "ask": "Needs approval"}[self.outcome]
        rules = ", ".join(self.rule_ids)
        sentences = [f"{verb} by {rules}" if rules else f"{verb} by the policy's default"]
        if self.reason:
            sentences[0] += f": {self.reason}"
        others = [v for v in self.votes if v.rule_id not in self.rule_ids]
        if others:
            sentences.append(
                "Also matched: "
                + "; ".join(f"{v.rule_id} ({v.outcome}{': ' + v.reason if v.reason else ''})" for v in others)
            )
        elif self.matched:
            sentences.append("Also matched: " + ", ".join(self.matched))
        if self.approval is not None:
            by = getattr(self.approval, "by", "") or "the approver"
            wait = getattr(self.approval, "wait_s", None)
            sentences.append(f"Answered by {by}" + (f" after {wait:.1f}s" if isinstance(wait, float) else ""))
        if self.mode == "shadow":
            sentences.append("Shadow mode: recorded, not enforced")
        facts = self.facts_text()
        if facts:
            sentences.append(f"Action: {facts}")
        return ". ".join(s.rstrip(".") for s in sentences) + "."

    # -- telemetry ----------------------------------------------------------------------------------
    def event_attributes(self) -> dict[str, Any]:
        """Attributes of the ``agentguard.policy.decision`` span event (redacted, bounded)."""
        from ..telemetry import redact
        from ..telemetry import semconv as sc

        attrs: dict[str, Any] = {
            sc.POLICY_DECISION: self.outcome,
            sc.POLICY_MODE: self.mode,
            sc.POLICY_RULE_IDS: self.rule_ids,
            sc.POLICY_MATCHED: self.matched,
            sc.POLICY_REASON: redact(self.reason),
        }
        if self.policy:
            attrs[sc.POLICY_NAME] = self.policy
        if self.facts is not None:
            attrs[sc.POLICY_FACTS_DIGEST] = self.facts_digest
            attrs[sc.POLICY_FACTS] = self.facts_text()
        attrs.update(self.approval_attributes())
        return attrs

    def approval_attributes(self) -> dict[str, Any]:
        """Who answered an ``ask`` and how long it waited (empty when nobody was asked)."""
        from ..telemetry import semconv as sc

        a = self.approval
        if a is None:
            return {}
        attrs: dict[str, Any] = {
            sc.APPROVAL_GRANTED: bool(getattr(a, "granted", False)),
            sc.APPROVAL_BY: str(getattr(a, "by", "") or ""),
            sc.APPROVAL_WAIT_S: float(getattr(a, "wait_s", 0.0) or 0.0),
        }
        scope = getattr(a, "scope", None)
        if scope:
            attrs[sc.APPROVAL_SCOPE] = str(scope)
        grant_id = getattr(a, "grant_id", None)
        if grant_id:
            attrs[sc.APPROVAL_GRANT_ID] = str(grant_id)
        return attrs

    def metric_attributes(self) -> dict[str, str]:
        """Low-cardinality labels: outcome, mode and the first deciding rule."""
        from ..telemetry import semconv as sc

        return {
            # an ask an approver answered is counted as the policy's ask; its answer is in approval.wait
            sc.POLICY_DECISION: "ask" if self.approval is not None else self.outcome,
            sc.POLICY_MODE: self.mode,
            sc.LABEL_RULE: self.rule_ids[0] if self.rule_ids else "default",
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: outcome, reason, rules, matched, mode, votes, facts and their digest."""
        out: dict[str, Any] = {
            "outcome": self.outcome,
            "reason": self.reason,
            "rules": list(self.rule_ids),
            "matched": list(self.matched),
            "mode": self.mode,
            "votes": [{"rule": v.rule_id, "outcome": v.outcome, "reason": v.reason} for v in self.votes],
            "facts": self.facts_summary(),
            "facts_digest": self.facts_digest,
        }
        if self.policy:
            out["policy"] = self.policy
        if self.approval is not None:
            a = self.approval
            out["approval"] = {
                "granted": getattr(a, "granted", None),
                "by": getattr(a, "by", None),
                "scope": getattr(a, "scope", None),
                "wait_s": getattr(a, "wait_s", None),
                "grant_id": getattr(a, "grant_id", None),
            }
        return out


def _redacted(summary: dict[str, Any]) -> dict[str, Any]:
    from ..telemetry import redact

    commands = summary.get("commands")
    if commands:
        summary["commands"] = [
            {**c, "argv": [redact(a) for a in c.get("argv", [])]} if isinstance(c, dict) else c
            for c in commands
        ]
    return summary


ALLOW = Decision(outcome="allow", reason="no policy")


class Denied(Exception):
    """The guard refused to run an action. ``decision`` says which rule and why."""

    def __init__(self, decision: Decision, *, tool: str = "") -> None:
        self.decision = decision
        self.tool = tool
        where = f"{tool}: " if tool else ""
        super().__init__(f"{where}denied: {decision.summary()}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_denied, (self.decision, self.tool))


def _rebuild_denied(decision: Decision, tool: str) -> Denied:
    return Denied(decision, tool=tool)
