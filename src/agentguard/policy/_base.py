"""What every rule is, and what the built-in rules share: the facts of an action, derived once.

A rule is any callable ``(action, run) -> Decision | None``; ``None`` means "no opinion". Its id is
``rule.rule_id`` when set, else its ``__name__``; a ``kinds`` attribute (a set of action kinds) lets
the policy skip it for other kinds without calling it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar, TypeAlias

from ..action import ACTION_KINDS, Action, Decision

if TYPE_CHECKING:
    from ..guard import RunState
    from ..normalise import Facts

Rule: TypeAlias = Callable[[Action, "RunState | None"], Decision | None]
"""A policy rule: a plain callable returning a decision, or ``None`` when it has no opinion."""

NON_LLM_KINDS: frozenset[str] = ACTION_KINDS - {"llm"}
# Kinds whose facts carry file paths, commands or hosts.
EFFECT_KINDS: frozenset[str] = NON_LLM_KINDS


def rule_id_of(rule: Rule) -> str:
    rid = getattr(rule, "rule_id", None)
    if isinstance(rid, str) and rid:
        return rid
    name = getattr(rule, "__name__", None)
    if isinstance(name, str) and name:
        return name
    return type(rule).__name__


def kinds_of(rule: Rule) -> frozenset[str] | None:
    """The kinds a rule declares (``None``: every kind); unknown kind names are an error."""
    kinds = getattr(rule, "kinds", None)
    if kinds is None:
        return None
    out = frozenset(kinds)
    unknown = out - ACTION_KINDS
    if unknown:
        raise ValueError(f"rule {rule_id_of(rule)!r} declares unknown kinds {sorted(unknown)}")
    return out


class BuiltinRule:
    """Base of the built-in rules: an id, the kinds it applies to, and a ``check``."""

    rule_id: ClassVar[str] = "rule"
    kinds: frozenset[str] | None = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__call__ = cls.check  # type: ignore[method-assign]  # one frame less per rule

    def __call__(self, action: Action, run: RunState | None) -> Decision | None:
        return self.check(action, run)

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        raise NotImplementedError

    def deny(self, reason: str) -> Decision:
        return Decision.deny(reason, rule_id=self.rule_id)

    def ask(self, reason: str) -> Decision:
        return Decision.ask(reason, rule_id=self.rule_id)

    def verdict(self, outcome: str, reason: str) -> Decision:
        return self.deny(reason) if outcome == "deny" else self.ask(reason)

    def __repr__(self) -> str:
        return f"<rule {self.rule_id}>"


@lru_cache(maxsize=1)
def _normaliser_module() -> ModuleType:
    """:mod:`agentguard.normalise`, imported on first use (not per decision)."""
    from .. import normalise

    return normalise


# -- facts -----------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _resolve_root(root: str, cwd: str | None, process_cwd: str) -> str:
    path = os.path.expanduser(root)
    if not os.path.isabs(path):
        base = cwd if cwd and os.path.isabs(cwd) else process_cwd
        path = os.path.join(base, path)
    return os.path.realpath(path)


def resolve_root(root: str | None, cwd: str | None) -> str:
    """The scope root as a real path: a relative root is taken against ``cwd``, else the process's."""
    root = root or "."
    if root.startswith(("/", "~")) or (cwd and os.path.isabs(cwd)):
        here = ""  # not consulted: no ``getcwd`` system call per decision
    else:
        try:
            here = os.getcwd()
        except OSError:
            here = "/"
    return _resolve_root(root, cwd, here)


def facts_of(action: Action, root: str | None = None) -> Facts:
    """The action's facts, derived once and cached on ``action.facts`` (re-derived for another root).

    Without ``root``, cached facts are used whatever root they were derived for (a policy derives
    them with its scope's root before its rules run); uncached ones use the action's cwd as the root.
    """
    facts = action.facts
    if root is None and facts is not None:
        return facts  # type: ignore[no-any-return]
    resolved = resolve_root(root, action.cwd)
    if facts is not None and getattr(facts, "root", None) == resolved:
        return facts  # type: ignore[no-any-return]
    derived: Facts = _normaliser_module().normalise(action, root=resolved)
    action.facts = derived
    return derived
