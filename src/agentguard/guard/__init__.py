"""The guard: runs, and one :class:`ToolStep` or :class:`LlmStep` per call from action to span.

Adapters (``@tool``, ``@guarded``, the instrumentations and integrations) build steps through
``guard.start_tool(...)`` / ``guard.start_llm(...)``, decide, run the call and finish the step; the
guard owns everything in between (policy, approval, budget, detectors, telemetry).
"""

from __future__ import annotations

from ._borrowed import Borrowed, borrow, foreign_llm_span, foreign_tool_span
from ._guard import Guard, OnDeny, PolicyLike, default_guard, set_default_guard
from ._llm_step import LlmResponse, LlmStep
from ._run import RunScope, RunState, close_run, current_run, open_run
from ._step import ToolSpec, ToolStep, start_tool

__all__ = [
    "Borrowed",
    "Guard",
    "LlmResponse",
    "LlmStep",
    "OnDeny",
    "PolicyLike",
    "RunScope",
    "RunState",
    "ToolSpec",
    "ToolStep",
    "borrow",
    "close_run",
    "current_run",
    "default_guard",
    "foreign_llm_span",
    "foreign_tool_span",
    "open_run",
    "set_default_guard",
    "start_tool",
]
