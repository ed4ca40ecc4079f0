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
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import rules
    from ._threads import uninstrument_threading
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
    from .detect import Detector, DetectorSet, Signal
    from .export import LocalStore, Telemetry, configure
    from .guard import Guard, PolicyLike, default_guard, set_default_guard
    from .guarded import guarded
    from .instrumentation.openai import instrument_openai, uninstrument_openai
    from .monitor import TranscriptMonitor
    from .policy import Budget, Policy, Rule
    from .run import RunState, current_run
    from .scope import Scope
    from .tools import tool

# Each public name and the module that defines it, imported on first use: `import agentguard` (and
# so every `agentguard` command, the Claude Code hook among them) loads only what it touches, not the
# OpenTelemetry SDK, the exporters and the OpenAI instrumentation.
_LAZY: dict[str, str] = {
    "rules": ".rules",
    "uninstrument_threading": "._threads",
    **dict.fromkeys(("Action", "ActionKind"), ".action"),
    **dict.fromkeys(
        (
            "ApprovalRequest",
            "ApprovalResult",
            "ApprovalStore",
            "Approver",
            "AsyncApprover",
            "AutoApprover",
            "CallbackApprover",
            "ConsoleApprover",
            "QueueApprover",
            "action_hash",
        ),
        ".approval",
    ),
    **dict.fromkeys(("Price", "PriceBook", "TokenUsage"), ".cost"),
    **dict.fromkeys(("Decision", "Denied", "Vote"), ".decision"),
    **dict.fromkeys(("Detector", "DetectorSet", "Signal"), ".detect"),
    "TranscriptMonitor": ".monitor",
    **dict.fromkeys(("LocalStore", "Telemetry", "configure"), ".export"),
    **dict.fromkeys(("Guard", "PolicyLike", "default_guard", "set_default_guard"), ".guard"),
    "guarded": ".guarded",
    **dict.fromkeys(("instrument_openai", "uninstrument_openai"), ".instrumentation.openai"),
    **dict.fromkeys(("Budget", "Policy", "Rule"), ".policy"),
    **dict.fromkeys(("RunState", "current_run"), ".run"),
    "Scope": ".scope",
    "tool": ".tools",
    "redact": ".redact",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "rules":  # the one exported submodule
        value: Any = importlib.import_module(module, __name__)
    else:
        value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """Keeps a lazily exported function from being replaced by its same-named submodule.

    Importing ``agentguard.guarded`` (the module) binds it as the package's ``guarded`` attribute;
    the public ``agentguard.guarded`` is the decorator, as it was when ``__init__`` imported it eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, types.ModuleType)
            and name != "rules"
            and _LAZY.get(name, "")[1:] == name
            and value.__name__ == f"{__name__}.{name}"
        ):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "Detector",
    "DetectorSet",
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
    "Signal",
    "Telemetry",
    "TokenUsage",
    "TranscriptMonitor",
    "Vote",
    "__version__",
    "action_hash",
    "configure",
    "current_run",
    "default_guard",
    "guarded",
    "instrument_openai",
    "redact",
    "rules",
    "set_default_guard",
    "tool",
    "uninstrument_openai",
    "uninstrument_threading",
]
