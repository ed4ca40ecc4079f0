"""Faults in user-supplied code around the agent: a raising detector never breaks the agent, a raising
rule denies (fails closed), and neither leaks a secret from its exception into the trace."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import pytest

import agentguard as ag
from agentguard import _safe
from agentguard.action import Action
from agentguard.detect import DetectorSet
from agentguard.detect._engine import Detector, Session
from agentguard.export._redacting import RedactingSpanExporter
from agentguard.testing import CapturingGuard

SECRET = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa99"


class Exploding(Detector):
    """Raises from every hook it has."""

    category = "loop"

    def on_call(self, ev: object, s: Session) -> Iterable[ag.Signal] | None:
        raise RuntimeError(f"detector bug while holding {SECRET}")

    def on_result(self, ev: object, s: Session) -> Iterable[ag.Signal] | None:
        raise RuntimeError("detector bug on result")

    def on_end(self, ev: object, s: Session) -> Iterable[ag.Signal] | None:
        raise ZeroDivisionError("detector bug at the end")


def test_a_raising_detector_never_changes_what_the_agent_does(caplog: pytest.LogCaptureFixture) -> None:
    _safe.reset_warnings()
    cap = CapturingGuard(detectors=DetectorSet([Exploding]))

    @ag.tool(kind="shell", guard=cap.guard)
    def run_shell(command: str) -> str:
        return "ran " + command

    @ag.guarded(guard=cap.guard, name="fixer")
    def agent() -> list[str]:
        return [run_shell(f"echo {i}") for i in range(3)]

    assert agent() == ["ran echo 0", "ran echo 1", "ran echo 2"]
    assert cap.span("invoke_agent fixer").status.is_ok
    assert len([s for s in cap.spans() if s.name.startswith("execute_tool")]) == 3


def test_a_raising_rule_denies_the_action_and_the_tool_never_runs() -> None:
    ran: list[str] = []

    def broken_rule(action: Action, run: object) -> ag.Decision | None:
        raise KeyError(f"rule bug reading {SECRET}")

    cap = CapturingGuard(policy=ag.Policy(rules=[broken_rule]))

    @ag.tool(kind="shell", guard=cap.guard)
    def run_shell(command: str) -> str:
        ran.append(command)
        return "ran"

    @ag.guarded(guard=cap.guard, name="fixer")
    def agent() -> str:
        return run_shell("rm -rf build")

    with pytest.raises(ag.Denied):
        agent()
    assert ran == []
    tool_span = next(s for s in cap.spans() if s.name.startswith("execute_tool"))
    assert tool_span.attributes is not None
    assert tool_span.attributes["agentguard.policy.decision"] == "deny"


def test_what_raising_user_code_recorded_is_redacted_at_the_export_boundary() -> None:
    def broken_rule(action: Action, run: object) -> ag.Decision | None:
        raise KeyError(f"rule bug reading {SECRET}")

    cap = CapturingGuard(policy=ag.Policy(rules=[broken_rule]), detectors=DetectorSet([Exploding]))

    @ag.tool(kind="shell", guard=cap.guard)
    def run_shell(command: str) -> str:
        raise RuntimeError(f"tool failed with {SECRET}")

    @ag.guarded(guard=cap.guard, name="fixer", task=f"use {SECRET}")
    def agent() -> None:
        with contextlib.suppress(ag.Denied):
            run_shell("ls")
        raise ValueError(f"agent failed with {SECRET}")

    with pytest.raises(ValueError):
        agent()
    exported = [RedactingSpanExporter(cap.exporter)._redact(s) for s in cap.spans()]
    text = repr(
        [
            (s.name, s.attributes, s.status.description, [(e.name, e.attributes) for e in s.events])
            for s in exported
        ]
    )
    assert "exception" in text and "ValueError" in text
    assert SECRET not in text
