"""The data an approval exchanges: the request shown to a human, and the answer that comes back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from ..action import Decision

GrantScope = Literal["once", "run", "always"]
"""How far an answer reaches: this one call, identical actions for the rest of the run, or for good."""

SCOPES: tuple[GrantScope, ...] = ("once", "run", "always")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequest:
    """One action waiting for a human: what it is, why the policy asked, where it comes from."""

    id: str
    action_hash: str
    """:func:`~agentguard.approval.action_hash` of the action: what grants are bound to."""
    tool: str
    kind: str
    summary: str
    """The command, path, URL or model, redacted and cut short."""
    reason: str
    rule_ids: tuple[str, ...]
    run_id: str | None
    agent: str | None
    created: float
    """Wall-clock time (``time.time()``), so other processes can show its age."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalResult:
    """The answer to a request. ``by`` names who answered (``grant:<id>`` when a grant did)."""

    granted: bool
    by: str
    scope: GrantScope = "once"
    wait_s: float = 0.0
    grant_id: str | None = None
    reason: str = ""

    @classmethod
    def deny(cls, reason: str, *, by: str = "agentguard", wait_s: float = 0.0) -> ApprovalResult:
        return cls(granted=False, by=by, scope="once", wait_s=wait_s, reason=reason)

    def as_decision(self, asked: Decision) -> Decision:
        """The decision that replaces the policy's ``ask``: allow or deny, with this answer attached.

        Everything else the policy said (rules, matched, votes, mode, facts, policy name) is kept.
        """
        verb = "approved" if self.granted else "denied"
        reason = f"{verb} by {self.by or 'approver'}" + (f": {self.reason}" if self.reason else "")
        if asked.reason:
            reason += f" (asked: {asked.reason})"
        return replace(asked, outcome="allow" if self.granted else "deny", reason=reason, approval=self)


@runtime_checkable
class Approver(Protocol):
    """Answers approval requests, blocking the calling thread for at most ``timeout`` seconds.

    ``timeout=None`` means the approver's own default. Running out of time is a denial, not an error.
    """

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult: ...


@runtime_checkable
class AsyncApprover(Protocol):
    """The async form: waits without blocking the event loop."""

    async def aapprove(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult: ...


AnyApprover: TypeAlias = Approver | AsyncApprover
"""What ``approver=`` takes: a sync approver, an async one, or one object that is both."""


def timed_out(timeout: float, *, by: str, wait_s: float) -> ApprovalResult:
    """The denial every approver gives when nobody answered in time."""
    return ApprovalResult.deny(f"timed out after {timeout:g}s", by=by, wait_s=wait_s)
