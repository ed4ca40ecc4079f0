"""Claude Agent SDK: the permission callback and tool-use hooks, through the SDK's own types.

The SDK drives the Claude Code CLI against Anthropic's API, which is not reachable here; these
tests hand the callbacks what the SDK hands them (``ToolPermissionContext``, the ``PreToolUse`` /
``PostToolUse`` hook inputs), and run ``query()`` over a scripted ``Transport`` that plays the CLI's
side of the control protocol, reading back what the SDK sends to the CLI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from claude_agent_sdk import (
    ClaudeAgentOptions,
    HookContext,
    PermissionResultAllow,
    PermissionResultDeny,
    PostToolUseFailureHookInput,
    PostToolUseHookInput,
    PreToolUseHookInput,
    ResultMessage,
    ToolPermissionContext,
    query,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import agentguard as ag
from agentguard.integrations.claude_agent_sdk import ClaudeAgentGuard, ScriptedCall, ScriptedCLI
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard

POLICY = ag.Policy(
    scope=ag.Scope(root="/work", write=["src/**"], read=["**"]), rules=[ag.rules.destructive_commands()]
)
CONTEXT: HookContext = {"signal": None}


def needs_human(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
    """Every Bash command is asked."""
    return ag.Decision.ask("commands need a human") if action.kind == "shell" else None


def pre(tool: str, tool_input: dict[str, Any], call_id: str, **extra: Any) -> PreToolUseHookInput:
    data: PreToolUseHookInput = {
        "session_id": "s1",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/work",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": call_id,
    }
    data.update(extra)  # type: ignore[typeddict-item]
    return data


def post(tool: str, tool_input: dict[str, Any], call_id: str, response: Any) -> PostToolUseHookInput:
    return {
        "session_id": "s1",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/work",
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_response": response,
        "tool_use_id": call_id,
    }


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def specific(output: Any) -> dict[str, Any]:
    return dict(output.get("hookSpecificOutput") or {})


def test_the_hooks_and_callback_fit_the_sdks_options(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    options = ClaudeAgentOptions(can_use_tool=agent_guard.can_use_tool, hooks=agent_guard.hooks())
    assert options.hooks is not None
    assert set(options.hooks) == {"PreToolUse", "PostToolUse", "PostToolUseFailure"}


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("Write", {"file_path": "/etc/passwd", "content": "x"}),
        ("Edit", {"file_path": "../../etc/hosts", "old_string": "a", "new_string": "b"}),
        ("Bash", {"command": "rm -rf / --no-preserve-root"}),
        ("mcp__fs__write_file", {"path": "/etc/shadow", "content": "x"}),
    ],
)
def test_pre_tool_use_denies_with_the_reason_the_cli_gives_the_model(
    cap: CapturingGuard, tool: str, tool_input: dict[str, Any]
) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    output = asyncio.run(agent_guard.pre_tool_use(pre(tool, tool_input, "tu_1"), "tu_1", CONTEXT))
    out = specific(output)
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == "deny"
    assert str(out["permissionDecisionReason"]).startswith("Denied by policy")
    (span,) = cap.spans()
    assert span.name == f"execute_tool {tool}"
    assert attrs(span)[sc.POLICY_DECISION] == "deny"
    assert attrs(span)[sc.GEN_AI_TOOL_CALL_ID] == "tu_1"


def test_an_allowed_call_s_span_ends_with_the_post_tool_use_response(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    tool_input = {"file_path": "/work/src/a.py", "content": "x = 1\n"}

    async def lifecycle() -> tuple[Any, list[ReadableSpan], Any]:
        before = await agent_guard.pre_tool_use(pre("Write", tool_input, "tu_2"), "tu_2", CONTEXT)
        open_spans = cap.spans()
        after = await agent_guard.post_tool_use(
            post("Write", tool_input, "tu_2", {"ok": True}), "tu_2", CONTEXT
        )
        return before, open_spans, after

    before, open_spans, after = asyncio.run(lifecycle())
    assert specific(before).get("permissionDecision") in (None, "allow")
    assert open_spans == []  # the span is open while the CLI runs the tool
    assert after == {}
    (span,) = cap.spans()
    assert attrs(span)[sc.POLICY_DECISION] == "allow"
    assert attrs(span)[sc.TOOL_KIND] == "file_write"


def test_a_failed_tool_marks_its_span_failed(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    failure: PostToolUseFailureHookInput = {
        "session_id": "s1",
        "transcript_path": "/tmp/t.jsonl",
        "cwd": "/work",
        "hook_event_name": "PostToolUseFailure",
        "tool_name": "Bash",
        "tool_input": {"command": "pytest -q"},
        "tool_use_id": "tu_3",
        "error": "exit status 1",
    }

    async def lifecycle() -> None:
        await agent_guard.pre_tool_use(pre("Bash", {"command": "pytest -q"}, "tu_3"), "tu_3", CONTEXT)
        await agent_guard.post_tool_use(failure, "tu_3", CONTEXT)

    asyncio.run(lifecycle())
    (span,) = cap.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert attrs(span)[sc.ERROR_TYPE] == "ToolFailed"


@pytest.mark.parametrize(
    ("granted", "behavior"), [(True, PermissionResultAllow), (False, PermissionResultDeny)]
)
def test_an_ask_in_the_hook_goes_to_the_approver(cap: CapturingGuard, granted: bool, behavior: type) -> None:
    asked: list[str] = []

    def answer(request: ag.ApprovalRequest) -> bool:
        asked.append(request.tool)
        return granted

    agent_guard = ClaudeAgentGuard(
        policy=ag.Policy(rules=[needs_human]), approver=ag.CallbackApprover(answer), guard=cap.guard
    )
    output = asyncio.run(
        agent_guard.pre_tool_use(pre("Bash", {"command": "make deploy"}, "tu_4"), "tu_4", CONTEXT)
    )
    assert asked == ["Bash"]
    assert specific(output).get("permissionDecision", "allow") == ("allow" if granted else "deny")
    result = asyncio.run(
        agent_guard.can_use_tool(
            "Bash", {"command": "make deploy"}, ToolPermissionContext(tool_use_id="tu_5")
        )
    )
    assert isinstance(result, behavior)


def test_an_ask_without_approver_is_handed_to_the_clis_permission_flow(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=ag.Policy(rules=[needs_human]), guard=cap.guard)

    async def lifecycle() -> tuple[Any, Any]:
        hooked = await agent_guard.pre_tool_use(
            pre("Bash", {"command": "make deploy"}, "tu_6"), "tu_6", CONTEXT
        )
        permission = await agent_guard.can_use_tool(
            "Bash", {"command": "make deploy"}, ToolPermissionContext(tool_use_id="tu_6")
        )
        return hooked, permission

    hooked, permission = asyncio.run(lifecycle())
    assert specific(hooked)["permissionDecision"] == "ask"
    assert specific(hooked)["permissionDecisionReason"] == "commands need a human"
    assert isinstance(permission, PermissionResultDeny)  # nobody to ask in this process: fail closed
    assert "no approver" in permission.message
    (span,) = cap.spans()  # one step for the call, through the hook and the callback
    assert [e.name for e in span.events].count(sc.EVENT_POLICY_DECISION) == 1


def test_can_use_tool_alone_decides_with_the_claude_code_tool_profile(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    denied = asyncio.run(
        agent_guard.can_use_tool(
            "Write", {"file_path": "/etc/passwd", "content": "x"}, ToolPermissionContext(tool_use_id="a")
        )
    )
    allowed = asyncio.run(
        agent_guard.can_use_tool(
            "Read", {"file_path": "/work/README.md"}, ToolPermissionContext(tool_use_id="b")
        )
    )
    assert isinstance(denied, PermissionResultDeny) and denied.message.startswith("Denied by policy")
    assert isinstance(allowed, PermissionResultAllow)


def test_a_subagents_tool_call_names_the_subagent(cap: CapturingGuard) -> None:
    agent_guard = ClaudeAgentGuard(policy=POLICY, guard=cap.guard)
    data = pre(
        "Write",
        {"file_path": "/etc/passwd", "content": "x"},
        "tu_7",
        agent_id="a1",
        agent_type="code-reviewer",
    )
    asyncio.run(agent_guard.pre_tool_use(data, "tu_7", CONTEXT))
    (span,) = cap.spans()
    assert attrs(span)[sc.GEN_AI_AGENT_NAME] == "code-reviewer"


def test_without_the_extra_the_import_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    for mod in [m for m in sys.modules if m.startswith("agentguard.integrations.claude_agent_sdk")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "claude_agent_sdk", None)
    with pytest.raises(ImportError, match=r"agentguard\[claude-agent-sdk\]"):
        importlib.import_module("agentguard.integrations.claude_agent_sdk")


# -- through the SDK's control protocol: query() with a scripted CLI transport -------------------------
def play(
    agent_guard: ClaudeAgentGuard, calls: list[ScriptedCall], *, can_use_tool: bool = True
) -> ScriptedCLI:
    cli = ScriptedCLI(calls, cwd="/work")
    options = ClaudeAgentOptions(
        can_use_tool=agent_guard.can_use_tool if can_use_tool else None, hooks=agent_guard.hooks()
    )

    async def prompt() -> AsyncIterator[dict[str, Any]]:
        yield {"type": "user", "message": {"role": "user", "content": "go"}}

    async def main() -> list[Any]:
        return [m async for m in query(prompt=prompt(), options=options, transport=cli)]

    messages = asyncio.run(asyncio.wait_for(main(), 30))
    assert isinstance(messages[-1], ResultMessage)
    return cli


def test_through_the_sdk_a_denied_call_never_runs_and_the_model_gets_the_reason(cap: CapturingGuard) -> None:
    calls = [
        ScriptedCall(tool="Write", input={"file_path": "/etc/passwd", "content": "x"}),
        ScriptedCall(tool="Bash", input={"command": "ls src"}, response={"stdout": "a.py"}),
    ]
    cli = play(ClaudeAgentGuard(policy=POLICY, guard=cap.guard), calls)
    denied, allowed = cli.outcomes
    assert not denied.ran and denied.message.startswith("Denied by policy")
    assert allowed.ran
    assert [(s.name, attrs(s)[sc.POLICY_DECISION]) for s in cap.spans()] == [
        ("execute_tool Write", "deny"),
        ("execute_tool Bash", "allow"),
    ]


@pytest.mark.parametrize("granted", [True, False])
def test_through_the_sdk_an_ask_goes_to_the_approver(cap: CapturingGuard, granted: bool) -> None:
    agent_guard = ClaudeAgentGuard(
        policy=ag.Policy(rules=[needs_human]),
        approver=ag.CallbackApprover(lambda request: granted),
        guard=cap.guard,
    )
    cli = play(agent_guard, [ScriptedCall(tool="Bash", input={"command": "make deploy"})])
    (outcome,) = cli.outcomes
    assert outcome.ran is granted
    (span,) = cap.spans()
    assert attrs(span)[sc.POLICY_DECISION] == ("allow" if granted else "deny")


def test_through_the_sdk_an_ask_without_approver_reaches_can_use_tool_on_the_same_step(
    cap: CapturingGuard,
) -> None:
    agent_guard = ClaudeAgentGuard(policy=ag.Policy(rules=[needs_human]), guard=cap.guard)
    cli = play(agent_guard, [ScriptedCall(tool="Bash", input={"command": "make deploy"})])
    (outcome,) = cli.outcomes
    assert (outcome.hook["hookSpecificOutput"])["permissionDecision"] == "ask"
    assert outcome.permission is not None and outcome.permission["behavior"] == "deny"
    assert not outcome.ran
    (span,) = cap.spans()
    assert [e.name for e in span.events].count(sc.EVENT_POLICY_DECISION) == 1
