"""The public API is what agentguard/__init__.py exports; this pins it so a change is deliberate."""

from __future__ import annotations

import subprocess
import sys

import agentguard

PUBLIC = {
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
    "redact",
    "guarded",
    "instrument_openai",
    "rules",
    "set_default_guard",
    "tool",
    "uninstrument_openai",
    "uninstrument_threading",
}


def test_all_is_pinned() -> None:
    assert set(agentguard.__all__) == PUBLIC
    for name in agentguard.__all__:
        assert hasattr(agentguard, name), name


def test_import_patches_nothing_and_sets_no_globals() -> None:
    """Importing agentguard must not patch openai or threading, nor set OTel providers."""
    code = """
import threading, openai.resources.chat.completions.completions as c
from opentelemetry import trace, metrics
before = (c.Completions.create, threading.Thread.start)
import agentguard
after = (c.Completions.create, threading.Thread.start)
assert before == after, "patched at import"
assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
assert type(metrics.get_meter_provider()).__name__ == "_ProxyMeterProvider"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files("agentguard").joinpath("py.typed").is_file()
