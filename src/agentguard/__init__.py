"""agentguard: make AI agents observable and governable.

Wrap the agent loop with :func:`guarded`, its tools with :func:`tool`, call :func:`instrument_openai`
once, and every LLM call and tool call becomes an OpenTelemetry span with cost, refusal and policy
attributes::

    import agentguard as ag

    ag.configure()      # the local store under .agentguard/, or OTLP when an endpoint is set
    ag.instrument_openai()

    @ag.tool(kind="file_write")
    def write_file(path: str, content: str) -> str: ...

    @ag.guarded(task="fix the failing parser test")
    def agent(goal: str) -> str: ...
"""

from __future__ import annotations

from . import rules
from ._threads import uninstrument_threading
from ._version import __version__
from .action import Action, ActionKind
from .approval import (
    ApprovalRequest,
    ApprovalResult,
    ApprovalStore,
    Approver,
    AsyncApprover,
    AutoApprover,
    CallbackApprover,
    ConsoleApprover,
    QueueApprover,
    action_hash,
)
from .cost import Price, PriceBook, TokenUsage
from .decision import Decision, Denied, Vote
from .export import LocalStore, Telemetry, configure
from .guard import Guard, PolicyLike, default_guard, set_default_guard
from .guarded import guarded
from .instrumentation.openai import instrument_openai, uninstrument_openai
from .policy import Budget, Policy, Rule
from .run import RunState, current_run
from .scope import Scope
from .tools import tool

__all__ = [
    "Action",
    "ActionKind",
    "ApprovalRequest",
    "ApprovalResult",
    "ApprovalStore",
    "Approver",
    "AsyncApprover",
    "AutoApprover",
    "Budget",
    "CallbackApprover",
    "ConsoleApprover",
    "Decision",
    "Denied",
    "Guard",
    "LocalStore",
    "Policy",
    "PolicyLike",
    "Price",
    "PriceBook",
    "QueueApprover",
    "Rule",
    "RunState",
    "Scope",
    "Telemetry",
    "TokenUsage",
    "Vote",
    "__version__",
    "action_hash",
    "configure",
    "current_run",
    "default_guard",
    "guarded",
    "instrument_openai",
    "rules",
    "set_default_guard",
    "tool",
    "uninstrument_openai",
    "uninstrument_threading",
]
