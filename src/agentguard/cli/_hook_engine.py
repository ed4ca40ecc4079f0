"""One hook decision: a loaded policy, its fixed project root, and a tool call in, a verdict out.

The scope root is the project, fixed when the policy is loaded: the agent's project directory
(``$CLAUDE_PROJECT_DIR``, ``$GEMINI_PROJECT_DIR``) when it sets one, else the project the policy file
lives in (the nearest directory above it with a ``.git``, else the policy file's directory, or its
parent when that is ``.claude``/``.codex``/``.gemini``). A relative ``Scope(root=...)`` is taken
against it; the hook input's ``cwd`` only says where the command's relative paths start, so a ``cwd``
inside a symlink or outside the project never moves the root.

What the engine cannot fully understand is never allowed: a malformed call (a ``Bash`` without
``command``, a wrong argument type) is denied before the policy runs; a call whose effect cannot be
known (opaque facts) that the policy would allow only by its default is asked instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._common import CommandError
from ._hook_protocols import HookCall, HookProtocol, Outcome

if TYPE_CHECKING:
    from ..action import Action, Decision
    from ..guard import PolicyLike

_AGENT_DIRS = frozenset({".claude", ".codex", ".gemini", ".agentguard"})


@dataclass(slots=True)
class Verdict:
    """The hook's answer: the outcome to give (``None``: none), why, and what it was decided on."""

    outcome: Outcome | None
    reason: str
    decided: Outcome
    """The decision itself (for ``outcome=None`` in shadow mode, what it would have been)."""
    action: Action | None = None
    decision: Decision | None = None


def project_of(policy_path: str) -> str:
    """The project a policy file belongs to (see the module docstring)."""
    here = os.path.dirname(os.path.realpath(policy_path))
    start = os.path.dirname(here) if os.path.basename(here) in _AGENT_DIRS else here
    probe = start
    for _ in range(64):
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return start


def project_root(protocol: HookProtocol, policy_path: str, environ: Any = None) -> str:
    """The fixed scope root for ``protocol``'s hooks with the policy at ``policy_path``."""
    env = os.environ if environ is None else environ
    for name in protocol.project_env:
        value = env.get(name)
        if isinstance(value, str) and value.startswith("/") and os.path.isdir(value):
            return os.path.realpath(value)
    return project_of(policy_path)


def pin_root(policy: PolicyLike, project: str) -> PolicyLike:
    """``policy`` with a relative scope root taken against ``project`` (other policies as they are)."""
    from ..action import Scope
    from ..policy import Policy

    if not isinstance(policy, Policy):
        return policy
    scope = policy.scope
    root = scope.root if scope is not None else "."
    if root.startswith(("/", "~")):
        return policy
    pinned = Scope(
        root=os.path.normpath(os.path.join(project, root)),
        read=scope.read if scope is not None else ("**",),
        write=scope.write if scope is not None else (),
        hosts=scope.hosts if scope is not None else (),
    )
    if scope is None:
        # no scope declared: pin the root the rules resolve paths against, with no scope rules
        return _RootPinned(policy, pinned.root)
    return Policy(
        scope=pinned, rules=policy.rules, default=policy.default, mode=policy.mode, name=policy.name
    )


class _RootPinned:
    """A scope-less :class:`~agentguard.policy.Policy` whose facts are derived against a fixed root."""

    def __init__(self, policy: Any, root: str) -> None:
        self._policy = policy
        self._root = root
        self.mode = getattr(policy, "mode", "enforce")

    def check(self, action: Action, run: Any = None) -> Decision:
        from ..policy import facts_of

        facts_of(action, self._root)
        decision: Decision = self._policy.check(action, run)
        return decision


class HookEngine:
    """A policy file loaded once, with its project root pinned, deciding tool calls for one protocol."""

    def __init__(self, protocol: HookProtocol, policy_path: str, *, environ: Any = None) -> None:
        from ._policy_file import load_policy

        self.protocol = protocol
        self.policy_path = policy_path
        self.project = project_root(protocol, policy_path, environ)
        self.policy = pin_root(load_policy(policy_path), self.project)

    def decide(self, call: HookCall) -> Verdict:
        """The verdict on ``call`` (never raises: failures deny with the reason)."""
        try:
            return self._decide(call)
        except CommandError as err:
            return Verdict("deny", f"agentguard: {err}", "deny")
        except Exception as exc:  # fail closed
            return Verdict("deny", f"agentguard: hook failed: {type(exc).__name__}: {exc}", "deny")

    def _decide(self, call: HookCall) -> Verdict:
        from ..action import Decision
        from ..normalise import action_from_tool_call, problems

        action = action_from_tool_call(
            call.tool, call.tool_input, cwd=call.cwd, profile=self.protocol.profile
        )
        if call.call_id is not None:
            action.call_id = call.call_id
        wrong = problems(action)
        if wrong:
            reason = f"agentguard deny (malformed): {'; '.join(wrong)[:500]}"
            return Verdict("deny", reason, "deny", action, Decision.deny(reason, rule_id="hook.malformed"))
        try:
            decision = self.policy.check(action)
        except Exception as exc:
            decision = Decision.deny(f"policy raised {type(exc).__name__}: {exc}", rule_id="policy.error")
        decision = not_allowed_unknown(action, decision)
        rules = ", ".join(decision.rule_ids) or "default"
        text = f"agentguard {decision.outcome} ({rules})"
        reason = f"{text}: {decision.reason}" if decision.reason else text
        outcome: Outcome = decision.outcome
        if getattr(decision, "mode", "enforce") == "shadow":
            return Verdict(None, f"[shadow] {reason}", outcome, action, decision)
        return Verdict(outcome, reason, outcome, action, decision)


def not_allowed_unknown(action: Action, decision: Decision) -> Decision:
    """``decision``, or ``ask`` when it allows by the policy's default an action whose effect is unknown.

    A rule that allows explicitly is the policy author's choice and stands.
    """
    if decision.outcome != "allow" or decision.rule_ids:
        return decision
    from ..action import Decision
    from ..policy import facts_of

    facts = action.facts if action.facts is not None else facts_of(action)
    if not getattr(facts, "opaque", False):
        return decision

    why = "; ".join(getattr(facts, "reasons", ())) or "what it does cannot be known before it runs"
    asked = Decision.ask(f"not allowed by default: {why}"[:1000], rule_id="unknown_effect")
    return asked.with_mode(decision.mode) if decision.mode != asked.mode else asked
