"""Decisions on the trace: the decision event, approvals, metrics by decision and rule."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import pytest
from opentelemetry.trace import StatusCode
from test_openai_fakes import FakeServer, chat_completion

import agentguard as ag
from agentguard.approval import ApprovalResult, CallbackApprover
from agentguard.policy import Policy, rules
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


def _record(asked: list[str], tool: str) -> bool:
    asked.append(tool)
    return True


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789\n")
    return tmp_path


def policy_for(repo: Path, **kwargs: object) -> Policy:
    return Policy(
        scope=ag.Scope(root=str(repo), write=["src/**"]),
        rules=[rules.destructive_commands(), rules.secrets()],
        **kwargs,  # type: ignore[arg-type]
    )


def decision_event(span: object) -> dict[str, object]:
    [event] = [e for e in span.events if e.name == sc.EVENT_POLICY_DECISION]  # type: ignore[attr-defined]
    return dict(event.attributes or {})


def test_a_denied_tool_never_runs_and_its_span_carries_the_decision(cap: CapturingGuard, repo: Path) -> None:
    ran: list[str] = []

    @ag.tool(kind="shell")
    def run(command: str) -> str:
        ran.append(command)
        return "ok"

    @ag.guarded(guard=cap.guard, policy=policy_for(repo))
    def agent() -> str:
        return run("cat .env && git push --force")

    with pytest.raises(ag.Denied) as info:
        agent()
    assert ran == []
    assert set(info.value.decision.rule_ids) == {"destructive_commands", "secrets"}
    span = cap.span("execute_tool run")
    assert span.status.status_code is not StatusCode.ERROR
    event = decision_event(span)
    assert event[sc.POLICY_DECISION] == "deny"
    assert event[sc.POLICY_MODE] == "enforce"
    assert set(cast(Sequence[str], event[sc.POLICY_RULE_IDS])) == {"destructive_commands", "secrets"}
    assert len(str(event[sc.POLICY_FACTS_DIGEST])) == 16
    assert "git push --force" in str(event[sc.POLICY_FACTS])
    assert "sk-proj" not in str(event)  # file contents never reach the trace


def test_other_matching_rules_are_listed(cap: CapturingGuard, repo: Path) -> None:
    def note_pushes(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
        return ag.Decision.allow("pushes are fine") if "push" in (action.command or "") else None

    policy = Policy(scope=ag.Scope(root=str(repo)), rules=[rules.destructive_commands(), note_pushes])

    @ag.tool(kind="shell", guard=cap.guard, on_deny="return")
    def run(command: str) -> str:
        return "ran"

    guard_policy = cap.guard.policy
    cap.guard.policy = policy
    try:
        text = run("git push -f")
    finally:
        cap.guard.policy = guard_policy
    assert text.startswith("Denied by policy:") and "destructive_commands" in text
    event = decision_event(cap.span("execute_tool run"))
    assert event[sc.POLICY_MATCHED] == ("note_pushes",)


def test_metrics_count_decisions_by_outcome_and_rule(cap: CapturingGuard, repo: Path) -> None:
    cap.guard.policy = policy_for(repo)

    @ag.tool(kind="shell", on_deny="return", guard=cap.guard)
    def run(command: str) -> str:
        return "ran"

    run("ls src")
    run("git reset --hard")
    run("git reset --hard")
    rows = cap.metrics()[sc.METRIC_DECISIONS]
    by_rule = {(labels[sc.POLICY_DECISION], labels[sc.LABEL_RULE]): value for labels, value in rows}
    assert by_rule == {("allow", "default"): 1, ("deny", "destructive_commands"): 2}
    for labels, _ in rows:
        assert not any("/" in str(v) for v in labels.values())  # no paths on metric labels


def test_shadow_mode_records_and_runs(cap: CapturingGuard, repo: Path) -> None:
    cap.guard.policy = policy_for(repo, mode="shadow")

    @ag.tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "ran"

    assert run("git push --force") == "ran"
    event = decision_event(cap.span("execute_tool run"))
    assert (event[sc.POLICY_DECISION], event[sc.POLICY_MODE]) == ("deny", "shadow")


def test_shadow_ask_never_waits_for_an_approver(cap: CapturingGuard, repo: Path) -> None:
    asked: list[str] = []
    cap.guard.policy = policy_for(repo, mode="shadow")
    cap.guard.approver = CallbackApprover(lambda request: _record(asked, request.tool))

    @ag.tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "ran"

    assert run("$TOOL --all") == "ran"
    assert asked == []


@pytest.mark.parametrize("granted", [True, False])
def test_ask_records_who_answered_and_how_long_it_took(
    cap: CapturingGuard, repo: Path, granted: bool
) -> None:
    cap.guard.policy = policy_for(repo)
    cap.guard.approver = CallbackApprover(lambda request: granted)

    @ag.tool(kind="shell", guard=cap.guard, on_deny="return")
    def run(command: str) -> str:
        return "ran"

    result = run("$TOOL --all")
    assert (result == "ran") is granted
    span = cap.span("execute_tool run")
    attrs = dict(span.attributes or {})
    assert attrs[sc.APPROVAL_BY] == "callback"
    assert isinstance(attrs[sc.APPROVAL_WAIT_S], float)
    event = decision_event(span)
    assert event[sc.POLICY_DECISION] == ("allow" if granted else "deny")
    assert event[sc.APPROVAL_GRANTED] is granted
    assert event[sc.POLICY_RULE_IDS] == ("scope.opaque", "destructive_commands")


def test_async_tools_await_the_approver_without_blocking_the_loop(cap: CapturingGuard, repo: Path) -> None:
    class SlowApprover:
        async def aapprove(self, request: object, *, timeout: float | None = None) -> ApprovalResult:
            await asyncio.sleep(0.05)
            return ApprovalResult(granted=True, by="async-human")

        def approve(self, request: object, *, timeout: float | None = None) -> ApprovalResult:
            raise AssertionError("the sync path must not be used")

    cap.guard.policy = policy_for(repo)
    cap.guard.approver = SlowApprover()

    @ag.tool(kind="shell", guard=cap.guard)
    async def run(command: str) -> str:
        return "ran"

    async def main() -> tuple[str, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        try:
            return await run("$TOOL --all"), ticks
        finally:
            task.cancel()

    result, ticks = asyncio.run(main())
    assert result == "ran"
    assert ticks >= 3  # the loop kept running while the approver thought
    assert dict(cap.span("execute_tool run").attributes or {})[sc.APPROVAL_BY] == "async-human"


def test_ask_without_an_approver_denies(cap: CapturingGuard, repo: Path) -> None:
    cap.guard.policy = policy_for(repo)

    @ag.tool(kind="shell", guard=cap.guard)
    def run(command: str) -> str:
        return "ran"

    with pytest.raises(ag.Denied, match="no approver"):
        run("$TOOL --all")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    s = FakeServer()
    s.json("/chat/completions", chat_completion())
    yield s
    ag.uninstrument_openai()


def test_llm_decisions_are_recorded_on_the_chat_span(cap: CapturingGuard, server: FakeServer) -> None:
    cap.guard.policy = Policy(rules=[rules.models(allow=["gpt-4o-mini"])])
    ag.instrument_openai()
    client = server.client()

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        client.chat.completions.create(model="o3-pro", messages=[{"role": "user", "content": "hi"}])

    with pytest.raises(ag.Denied, match="o3-pro"):
        agent()
    assert len(server.requests) == 1
    denied = decision_event(cap.span("chat o3-pro"))
    assert (denied[sc.POLICY_DECISION], denied[sc.POLICY_RULE_IDS]) == ("deny", ("models",))
    assert decision_event(cap.span("chat gpt-4o-mini"))[sc.POLICY_DECISION] == "allow"
    rows = cap.metrics()[sc.METRIC_DECISIONS]
    assert {(labels[sc.LABEL_RULE], labels[sc.LABEL_KIND]) for labels, _ in rows} == {
        ("models", "llm"),
        ("default", "llm"),
    }
