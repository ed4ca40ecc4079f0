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

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._threads import (
        uninstrument_threading as uninstrument_threading,
    )
    from .action import Action as Action
    from .action import ActionKind as ActionKind
    from .action import Decision as Decision
    from .action import Denied as Denied
    from .action import Scope as Scope
    from .action import Vote as Vote
    from .approval import (
        AnyApprover as AnyApprover,
    )
    from .approval import (
        ApprovalRequest as ApprovalRequest,
    )
    from .approval import (
        ApprovalResult as ApprovalResult,
    )
    from .approval import (
        ApprovalStore as ApprovalStore,
    )
    from .approval import (
        Approver as Approver,
    )
    from .approval import (
        AsyncApprover as AsyncApprover,
    )
    from .approval import (
        AutoApprover as AutoApprover,
    )
    from .approval import (
        CallbackApprover as CallbackApprover,
    )
    from .approval import (
        ConsoleApprover as ConsoleApprover,
    )
    from .approval import (
        QueueApprover as QueueApprover,
    )
    from .approval import (
        action_hash as action_hash,
    )
    from .detect import (
        Detector as Detector,
    )
    from .detect import (
        DetectorSet as DetectorSet,
    )
    from .detect import (
        Signal as Signal,
    )
    from .detect import TranscriptMonitor as TranscriptMonitor
    from .export import (
        LocalStore as LocalStore,
    )
    from .export import (
        Telemetry as Telemetry,
    )
    from .export import (
        configure as configure,
    )
    from .guard import Guard as Guard
    from .guard import PolicyLike as PolicyLike
    from .guard import RunState as RunState
    from .guard import current_run as current_run
    from .guard import default_guard as default_guard
    from .guard import set_default_guard as set_default_guard
    from .instrumentation import guarded as guarded
    from .instrumentation import tool as tool
    from .instrumentation.openai import (
        instrument_openai as instrument_openai,
    )
    from .instrumentation.openai import (
        uninstrument_openai as uninstrument_openai,
    )
    from .policy import (
        Policy as Policy,
    )
    from .policy import (
        Rule as Rule,
    )
    from .policy import rules as rules
    from .spend import Budget as Budget
    from .spend import Price as Price
    from .spend import PriceBook as PriceBook
    from .spend import TokenUsage as TokenUsage
    from .telemetry import redact as redact

# The public API: each name and the module that defines it. This one table drives `__all__`, the
# lazy loading below and tests/unit/test_public_api.py (which also checks the TYPE_CHECKING imports
# above against it). A name is imported on first use: `import agentguard` (and so every `agentguard`
# command, the Claude Code hook among them) loads only what it touches, not the OpenTelemetry SDK,
# the exporters and the OpenAI instrumentation.
PUBLIC: dict[str, str] = {
    "Action": ".action",
    "ActionKind": ".action",
    "AnyApprover": ".approval",
    "ApprovalRequest": ".approval",
    "ApprovalResult": ".approval",
    "ApprovalStore": ".approval",
    "Approver": ".approval",
    "AsyncApprover": ".approval",
    "AutoApprover": ".approval",
    "Budget": ".spend",
    "CallbackApprover": ".approval",
    "ConsoleApprover": ".approval",
    "Decision": ".action",
    "Denied": ".action",
    "Detector": ".detect",
    "DetectorSet": ".detect",
    "Guard": ".guard",
    "LocalStore": ".export",
    "Policy": ".policy",
    "PolicyLike": ".guard",
    "Price": ".spend",
    "PriceBook": ".spend",
    "QueueApprover": ".approval",
    "Rule": ".policy",
    "RunState": ".guard",
    "Scope": ".action",
    "Signal": ".detect",
    "Telemetry": ".export",
    "TokenUsage": ".spend",
    "TranscriptMonitor": ".detect",
    "Vote": ".action",
    "action_hash": ".approval",
    "configure": ".export",
    "current_run": ".guard",
    "default_guard": ".guard",
    "guarded": ".instrumentation",
    "instrument_openai": ".instrumentation.openai",
    "redact": ".telemetry",
    "rules": ".policy.rules",
    "set_default_guard": ".guard",
    "tool": ".instrumentation",
    "uninstrument_openai": ".instrumentation.openai",
    "uninstrument_threading": "._threads",
}
_MODULES = frozenset({"rules"})
"""Public names that are modules themselves (the rest are attributes of their module)."""

__all__ = ["__version__", *sorted(PUBLIC)]  # noqa: PLE0604 - built from the one table


def __getattr__(name: str) -> Any:
    module = PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    imported = importlib.import_module(module, __name__)
    value: Any = imported if name in _MODULES else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *PUBLIC})
