"""``protect(globs)``: no write or delete to these paths, whatever tool or spelling reaches them.

Globs are relative to the scope root (``".git/**"``, ``"agentguard_policy.py"``), or absolute
(``"/etc/**"``, ``"~/.bashrc"``). A write through a symlink is a write to its target, so a link in
``src/`` pointing at a protected file is protected. An opaque command whose text names a protected
file is denied (it asks anyway). A program the normaliser has no table for, given a protected path as
an operand, asks (it may write or delete it); ``protect(globs, trust=["mytool"])`` says a program only
reads its operands.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._base import NON_LLM_KINDS, BuiltinRule, facts_of
from .._globs import GlobSet

if TYPE_CHECKING:
    from ...action import Action, Decision
    from ...guard import RunState
    from ...normalise import PathFact


class Protect(BuiltinRule):
    rule_id = "protect"
    kinds = NON_LLM_KINDS

    def __init__(self, globs: Iterable[str], *, trust: Iterable[str] = ()) -> None:
        self.trust = frozenset((trust,) if isinstance(trust, str) else trust)
        """Programs whose operands are only read (``trust=["mytool"]``): no ask for them."""
        patterns = (globs,) if isinstance(globs, str) else tuple(globs)
        if not patterns:
            raise ValueError("protect() needs at least one glob")
        self.globs = GlobSet(patterns)
        # literal names to look for in the text of opaque commands
        self._names = tuple(
            {os.path.basename(p.rstrip("/*")) for p in patterns if p.rstrip("/*")} - {"", ".", ".."}
        )

    def check(self, action: Action, run: RunState | None) -> Decision | None:
        facts = action.facts or facts_of(action)  # derived by the policy already: no call
        unknown: PathFact | None = None
        for p in facts.paths:
            if p.access not in ("write", "delete"):
                if (
                    p.via == "operand"
                    and unknown is None
                    and p.program not in self.trust
                    and self.globs.match(p.relative, p.resolved)
                ):
                    unknown = p
                continue
            if self.globs.match(p.relative, p.resolved):
                verb = "writes" if p.access == "write" else "deletes"
                return self.deny(f"{verb} {p.relative or p.resolved}, which is protected")
        shell = facts.shell
        if shell is not None and shell.opaque:
            text = shell.command[:65_536]
            for name in self._names:
                if name in text:
                    return self.deny(f"an opaque command that names the protected {name!r}")
        if unknown is not None:
            where = unknown.relative or unknown.resolved
            return self.ask(
                f"{unknown.program or 'a program'} is given the protected {where}, and what it does to it"
                " is not known"
            )
        return None
