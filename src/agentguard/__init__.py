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
from .decision import Decision, Denied
from .export import LocalStore, Telemetry, configure
from .guard import Guard, PolicyLike, default_guard, set_default_guard
from .guarded import guarded
from .instrumentation.openai import instrument_openai, uninstrument_openai
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
    "CallbackApprover",
    "ConsoleApprover",
    "Decision",
    "Denied",
    "Guard",
    "LocalStore",
    "PolicyLike",
    "Price",
    "PriceBook",
    "QueueApprover",
    "RunState",
    "Scope",
    "Telemetry",
    "TokenUsage",
    "__version__",
    "action_hash",
    "configure",
    "current_run",
    "default_guard",
    "guarded",
    "instrument_openai",
    "set_default_guard",
    "tool",
    "uninstrument_openai",
    "uninstrument_threading",
]
