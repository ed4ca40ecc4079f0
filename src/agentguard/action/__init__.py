"""The action model: what an agent is about to do, the scope it may do it in, and the decision on it.

:class:`Action` is built once per tool or LLM call; :mod:`agentguard.normalise` derives its facts;
:class:`Scope` says which paths and hosts the run may touch; a :class:`Decision` (``allow``, ``deny``,
``ask``) is what the policy and the approver return for it.
"""

from __future__ import annotations

from ._action import (
    ACTION_KINDS,
    CANONICAL_ARGUMENTS,
    CANONICAL_BY_KIND,
    Action,
    ActionKind,
    normalise_kind,
)
from ._decision import ALLOW, Decision, Denied, Mode, Outcome, Vote
from ._scope import Scope

__all__ = [
    "ACTION_KINDS",
    "ALLOW",
    "CANONICAL_ARGUMENTS",
    "CANONICAL_BY_KIND",
    "Action",
    "ActionKind",
    "Decision",
    "Denied",
    "Mode",
    "Outcome",
    "Scope",
    "Vote",
    "normalise_kind",
]
