"""The guard's steps and runs, driven the way an integration drives them (no decorators)."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import agentguard as ag
from agentguard.guard import LlmResponse
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


class FixedPolicy:
    def __init__(self, decision: ag.Decision) -> None:
        self.decision = decision

    def check(self, action: ag.Action, run: ag.RunState | None = None) -> ag.Decision:
        return self.decision


def _shell(command: str = "pytest -q") -> ag.Action:
    return ag.Action(kind="shell", tool="run", command=command, arguments={"command": command})


def test_a_tool_step_traces_decides_and_counts_inside_a_run() -> None:
    cap = CapturingGuard(policy=FixedPolicy(ag.Decision.allow("fine", rule_id="ok")))
    with cap.guard.run(name="fixer", task="fix the test") as run:
        step = cap.guard.start_tool(_shell())
        decision = step.decide()
        assert not decision.blocks
        with step.use():
            assert trace.get_current_span() is step.span
        step.finish(result="1 passed")
        step.finish(result="ignored: a step finishes once")
    assert run.tool_calls == 1
    tool = cap.span("execute_tool run")
    agent = cap.span("invoke_agent fixer")
    assert tool.parent is not None and tool.parent.span_id == agent.context.span_id
    assert [e.name for e in tool.events] == [sc.EVENT_POLICY_DECISION]
    assert dict(tool.attributes or {})[sc.POLICY_DECISION] == "allow"
    assert dict(agent.attributes or {})[sc.RUN_TOOL_CALLS] == 1


def test_a_blocking_decision_finishes_the_step_and_explains_itself() -> None:
    cap = CapturingGuard(policy=FixedPolicy(ag.Decision.deny("no pushing", rule_id="no_push")))
    step = cap.guard.start_tool(_shell("git push"), run=None)
    decision = step.decide()
    assert decision.blocks
    assert cap.span("execute_tool run").end_time is not None  # finished by decide()
    assert "no pushing" in step.denial_text() and "no_push" in step.denial_text()
    with pytest.raises(ag.Denied, match="no pushing"):
        raise step.denial()


def test_without_a_policy_decide_records_nothing() -> None:
    cap = CapturingGuard()
    step = cap.guard.start_tool(_shell(), run=None)
    assert step.decide().allowed
    step.finish(result="ok")
    assert cap.span("execute_tool run").events == ()


def test_an_async_step_asks_an_async_approver() -> None:
    class Approver:
        async def aapprove(self, request: ag.ApprovalRequest, *, timeout: float | None) -> ag.ApprovalResult:
            return ag.ApprovalResult(granted=True, by="alice")

        def approve(self, request: ag.ApprovalRequest, *, timeout: float | None) -> ag.ApprovalResult:
            raise AssertionError("the async form is awaited")

    cap = CapturingGuard(
        policy=FixedPolicy(ag.Decision.ask("push?", rule_id="ask_push")), approver=Approver()
    )

    async def main() -> ag.Decision:
        async with cap.guard.run(name="a") as _run:
            step = cap.guard.start_tool(_shell("git push"))
            decision = await step.adecide()
            step.finish(result="pushed")
            return decision

    decision = asyncio.run(main())
    assert decision.allowed and decision.rule_ids == ("ask_push",)
    assert decision.approval is not None and decision.approval.by == "alice"


def test_an_approval_keeps_the_policys_votes_and_facts() -> None:
    facts = ag.Policy(rules=[]).check(_shell("git push")).facts
    assert facts is not None
    asked = ag.Decision(
        outcome="ask",
        reason="push?",
        rule_ids=("ask_push",),
        votes=(ag.Vote(rule_id="ask_push", outcome="ask", reason="push?"),),
        facts=facts,
    )
    answered = ag.ApprovalResult(granted=False, by="bob").as_decision(asked)
    assert answered.denied
    assert answered.votes == asked.votes and answered.facts == asked.facts
    assert answered.approval is not None and answered.approval.by == "bob"


def test_errors_on_spans_are_redacted() -> None:
    cap = CapturingGuard()
    secret = "ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"
    step = cap.guard.start_tool(_shell(), run=None)
    step.finish(error=RuntimeError(f"auth failed with {secret}"))
    span = cap.span("execute_tool run")
    assert span.status.status_code is StatusCode.ERROR
    texts = [span.status.description or ""] + [
        str(v) for e in span.events for v in (e.attributes or {}).values()
    ]
    assert texts and all(secret not in t for t in texts)


def test_a_joined_run_is_the_enclosing_one() -> None:
    cap = CapturingGuard()
    with cap.guard.run(name="outer") as outer:
        with cap.guard.run(name="inner", join=True) as inner:
            assert inner is outer
        with cap.guard.run(name="nested") as nested:
            assert nested.parent is outer
    assert [s.name for s in cap.spans()] == ["invoke_agent nested", "invoke_agent outer"]


def test_a_run_block_that_raises_marks_the_run_failed() -> None:
    cap = CapturingGuard()
    with pytest.raises(ValueError), cap.guard.run(name="boom"):
        raise ValueError("bad")
    assert cap.span("invoke_agent boom").status.status_code is StatusCode.ERROR
    assert ag.current_run() is None


def test_an_llm_step_settles_usage_into_the_run() -> None:
    cap = CapturingGuard()
    with cap.guard.run(name="a") as run:
        step = cap.guard.start_llm(request_model="gpt-4o-mini", attributes={})
        response = LlmResponse()
        response.response_model = "gpt-4o-mini-2024-07-18"
        response.input_tokens, response.output_tokens = 10, 5
        response.tool_calls = [("run", "call_1", '{"command": "ls"}')]
        step.finish(response=response)
        step.finish(error=RuntimeError("ignored: finished already"))
    assert (run.llm_calls, run.input_tokens, run.output_tokens) == (1, 10, 5)
    assert run.take_tool_call_id("run") == "call_1"
    attrs = dict(cap.span("chat gpt-4o-mini").attributes or {})
    assert attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] == 10
    assert attrs[sc.RUN_ID] == run.run_id
