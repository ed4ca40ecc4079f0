"""The adapters that need no framework: ``@guarded`` opens a run, ``@tool`` guards a function, and
:mod:`agentguard.instrumentation.openai` wraps the ``openai`` SDK (applied and removed explicitly,
never at import).
"""

from __future__ import annotations

from ._guarded import guarded
from ._tools import tool

__all__ = ["guarded", "tool"]
