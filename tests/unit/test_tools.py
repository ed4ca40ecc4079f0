"""@tool: actions, spans, decisions at the seam, errors, signatures."""

from __future__ import annotations

import asyncio
import inspect
import pickle
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import agentguard as ag
from agentguard.telemetry import semconv as sc
from agentguard.testing import CapturingGuard


class RecordingPolicy:
    """A policy double: returns a fixed decision and records what it saw."""

    def __init__(self, decision: ag.Decision) -> None:
        self.decision = decision
        self.seen: list[ag.Action] = []

    def check(self, action: ag.Action, run: ag.RunState | None = None) -> ag.Decision:
        self.seen.append(action)
        return self.decision


def test_execute_tool_span_inside_the_run(cap: CapturingGuard) -> None:
    @ag.tool(kind="write_file")
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        return f"wrote {len(content)}"

    @ag.guarded(guard=cap.guard)
    def agent() -> str:
        return write_file("src/a.py", content="x = 1\n")

    assert agent() == "wrote 6"
    span = cap.span("execute_tool write_file")
    attrs = dict(span.attributes or {})
    assert attrs[sc.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert attrs[sc.GEN_AI_TOOL_NAME] == "write_file"
    assert attrs[sc.GEN_AI_TOOL_TYPE] == "function"
    assert attrs[sc.TOOL_KIND] == "file_write"
    assert attrs[sc.GEN_AI_TOOL_DESCRIPTION] == "Write a file."
    assert sc.GEN_AI_TOOL_CALL_ID not in attrs
    assert span.parent is not None
    assert span.parent.span_id == cap.span("invoke_agent agent").context.span_id


@pytest.mark.parametrize(
    ("kind", "params", "call", "expected"),
    [
        ("file_read", "path", {"path": "a.txt"}, {"path": "a.txt"}),
        (
            "file_write",
            "file_path,contents",
            {"file_path": "b", "contents": "c"},
            {"path": "b", "content": "c"},
        ),
        ("shell", "cmd,cwd", {"cmd": "ls -la", "cwd": "/tmp"}, {"command": "ls -la", "cwd": "/tmp"}),
        ("network", "url", {"url": "https://pypi.org/"}, {"url": "https://pypi.org/"}),
        ("bash", "command", {"command": "pwd"}, {"command": "pwd"}),
    ],
    ids=["read-path", "write-aliases", "shell-cmd-cwd", "network-url", "kind-alias-bash"],
)
def test_canonical_arguments_found_by_name(
    kind: str, params: str, call: dict[str, Any], expected: dict[str, str]
) -> None:
    ns: dict[str, Any] = {}
    exec(f"def fn({', '.join(p + ': str' for p in params.split(','))}) -> str:\n    return 'ok'", ns)
    policy = RecordingPolicy(ag.Decision.allow())
    fn = ag.tool(ns["fn"], kind=kind, guard=ag.Guard(policy=policy))
    assert fn(**call) == "ok"
    action = policy.seen[0]
    assert action.arguments == call
    for key, value in expected.items():
        assert getattr(action, key) == value


def test_explicit_argument_mapping() -> None:
    policy = RecordingPolicy(ag.Decision.allow())

    def run(argv: str, where: str = ".") -> str:
        return argv

    wrapped = ag.tool(
        run, kind="shell", args={"command": "argv", "cwd": "where"}, guard=ag.Guard(policy=policy)
    )
    wrapped("make test", where="/repo")
    assert (policy.seen[0].command, policy.seen[0].cwd) == ("make test", "/repo")


def test_mapping_to_a_missing_parameter_is_an_error_at_wrap_time() -> None:
    def run(argv: str) -> str:
        return argv

    with pytest.raises(ValueError, match="not a parameter"):
        ag.tool(run, kind="shell", args={"command": "cmd"})


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown tool kind"):
        ag.tool(kind="teleport")


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), (("a", "b", "c"), {}), (("a",), {"path": "b"}), ((), {"path": "a", "nope": 1})],
    ids=["missing", "too-many", "duplicate", "unexpected-keyword"],
)
def test_wrong_arguments_raise_the_same_type_error(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    def write_file(path: str, content: str = "") -> str:
        return path

    with pytest.raises(TypeError) as bare:
        write_file(*args, **kwargs)
    with pytest.raises(TypeError) as guarded:
        ag.tool(write_file, kind="file_write")(*args, **kwargs)
    assert str(guarded.value) == str(bare.value)


def test_keeps_name_signature_docstring_and_is_still_a_coroutine_function() -> None:
    async def fetch(url: str, *, timeout: float = 5.0) -> str:
        """Fetch a URL."""
        return url

    wrapped = ag.tool(fetch, kind="network")
    assert wrapped.__name__ == "fetch"
    assert wrapped.__doc__ == "Fetch a URL."
    assert inspect.signature(wrapped) == inspect.signature(fetch)
    assert inspect.iscoroutinefunction(wrapped)


def test_async_tool(cap: CapturingGuard) -> None:
    @ag.tool(kind="network", name="http_get")
    async def fetch(url: str) -> str:
        await asyncio.sleep(0)
        return "body"

    @ag.guarded(guard=cap.guard)
    async def agent() -> str:
        return await fetch("https://example.org")

    assert asyncio.run(agent()) == "body"
    assert dict(cap.span("execute_tool http_get").attributes or {})[sc.TOOL_KIND] == "network"


def test_tool_call_id_links_to_the_models_request(cap: CapturingGuard) -> None:
    @ag.tool(kind="shell")
    def run_cmd(command: str) -> str:
        return "ok"

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        run = ag.current_run()
        assert run is not None
        run.record_llm_call(tool_calls=[("run_cmd", "call_1"), ("run_cmd", "call_2")])
        run_cmd("a")
        run_cmd("b")
        run_cmd("c")  # no pending id left

    agent()
    ids = [
        dict(s.attributes or {}).get(sc.GEN_AI_TOOL_CALL_ID)
        for s in cap.spans()
        if s.name.startswith("execute")
    ]
    assert ids == ["call_1", "call_2", None]


def test_tool_errors_propagate_and_mark_the_span(cap: CapturingGuard) -> None:
    @ag.tool(kind="file_read")
    def read_file(path: str) -> str:
        raise FileNotFoundError(path)

    @ag.guarded(guard=cap.guard)
    def agent() -> None:
        read_file("missing.txt")

    with pytest.raises(FileNotFoundError):
        agent()
    span = cap.span("execute_tool read_file")
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {})[sc.ERROR_TYPE] == "FileNotFoundError"
    calls = cap.metrics()[sc.METRIC_TOOL_CALLS]
    assert calls == [
        (
            {
                sc.LABEL_KIND: "file_read",
                sc.GEN_AI_TOOL_NAME: "read_file",
                sc.ERROR_TYPE: "FileNotFoundError",
            },
            1,
        )
    ]


def test_a_denied_tool_never_runs_and_raises_denied(cap: CapturingGuard) -> None:
    ran: list[str] = []
    policy = RecordingPolicy(ag.Decision.deny("force push", rule_id="git.force_push"))

    @ag.tool(kind="shell")
    def run_cmd(command: str) -> str:
        ran.append(command)
        return "pushed"

    @ag.guarded(guard=cap.guard, policy=policy)
    def agent() -> str:
        return run_cmd("git push --force")

    with pytest.raises(ag.Denied) as info:
        agent()
    assert ran == []
    assert info.value.decision.rule_ids == ("git.force_push",)
    span = cap.span("execute_tool run_cmd")
    assert span.status.status_code is not StatusCode.ERROR
    (event,) = [e for e in span.events if e.name == sc.EVENT_POLICY_DECISION]
    assert dict(event.attributes or {})[sc.POLICY_DECISION] == "deny"
    assert dict(event.attributes or {})[sc.POLICY_RULE_IDS] == ("git.force_push",)


def test_denial_can_be_returned_to_the_model() -> None:
    policy = RecordingPolicy(ag.Decision.deny("outside scope", rule_id="scope.write"))

    @ag.tool(kind="file_write", on_deny="return", guard=ag.Guard(policy=policy))
    def write_file(path: str, content: str) -> str:
        raise AssertionError("must not run")

    result = write_file("/etc/passwd", "x")
    assert "Denied" in result and "scope.write" in result and "outside scope" in result


def test_shadow_mode_records_but_runs() -> None:
    decision = ag.Decision(outcome="deny", reason="would deny", rule_ids=("r",), mode="shadow")

    @ag.tool(kind="shell", guard=ag.Guard(policy=RecordingPolicy(decision)))
    def run_cmd(command: str) -> str:
        return "ran"

    assert run_cmd("rm -rf build") == "ran"


def test_a_policy_that_raises_denies_and_says_why() -> None:
    class Broken:
        def check(self, action: ag.Action, run: ag.RunState | None = None) -> ag.Decision:
            raise KeyError("oops")

    @ag.tool(kind="shell", guard=ag.Guard(policy=Broken()))
    def run_cmd(command: str) -> str:
        return "ran"

    with pytest.raises(ag.Denied, match="policy raised KeyError"):
        run_cmd("ls")


@pytest.mark.parametrize(("answer", "runs"), [(True, True), (False, False)], ids=["approved", "refused"])
def test_ask_goes_to_the_approver(answer: bool, runs: bool) -> None:
    class Approver:
        def approve(self, request: ag.ApprovalRequest, *, timeout: float | None) -> ag.ApprovalResult:
            return ag.ApprovalResult(granted=answer, by="test")

    guard = ag.Guard(policy=RecordingPolicy(ag.Decision.ask("push?")), approver=Approver())

    @ag.tool(kind="shell", guard=guard)
    def run_cmd(command: str) -> str:
        return "ran"

    if runs:
        assert run_cmd("git push") == "ran"
    else:
        with pytest.raises(ag.Denied):
            run_cmd("git push")


def test_ask_without_an_approver_denies() -> None:
    @ag.tool(kind="shell", guard=ag.Guard(policy=RecordingPolicy(ag.Decision.ask("push?"))))
    def run_cmd(command: str) -> str:
        return "ran"

    with pytest.raises(ag.Denied, match="no approver"):
        run_cmd("git push")


def test_denied_pickles_with_its_decision() -> None:
    err = ag.Denied(ag.Decision.deny("nope", rule_id="r1"), tool="t")
    back = pickle.loads(pickle.dumps(err))
    assert back.decision == err.decision
    assert back.tool == "t"
    assert str(back) == str(err)


def test_content_is_not_captured_by_default(cap: CapturingGuard) -> None:
    @ag.tool(kind="file_write", guard=cap.guard)
    def write_file(path: str, content: str) -> str:
        return "ok"

    write_file("a", "secret stuff")
    attrs = dict(cap.spans()[0].attributes or {})
    assert sc.GEN_AI_TOOL_CALL_ARGUMENTS not in attrs
    assert sc.GEN_AI_TOOL_CALL_RESULT not in attrs


def test_content_capture_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    cap = CapturingGuard()
    assert cap.guard.capture_content

    @ag.tool(kind="file_write", guard=cap.guard)
    def write_file(path: str, content: str) -> dict[str, int]:
        return {"bytes": len(content)}

    write_file("a.txt", "hello")
    attrs = dict(cap.spans()[0].attributes or {})
    assert attrs[sc.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"path":"a.txt","content":"hello"}'
    assert attrs[sc.GEN_AI_TOOL_CALL_RESULT] == '{"bytes":5}'


def test_tool_outside_a_run_is_traced_with_the_default_guard(cap: CapturingGuard) -> None:
    @ag.tool(kind="other")
    def ping() -> str:
        return "pong"

    ag.set_default_guard(cap.guard)
    try:
        assert ping() == "pong"
    finally:
        ag.set_default_guard(None)
    assert [s.name for s in cap.spans()] == ["execute_tool ping"]


def test_methods_can_be_tools(cap: CapturingGuard) -> None:
    class Workspace:
        root = "/repo"

        @ag.tool(kind="file_read", guard=cap.guard)
        def read(self, path: str) -> str:
            return f"{self.root}/{path}"

    assert Workspace().read("a.py") == "/repo/a.py"
    assert cap.spans()[0].name == "execute_tool read"


def test_history_is_bounded(cap: CapturingGuard) -> None:
    guard = ag.Guard(tracer_provider=cap.tracer_provider, history_size=5)

    @ag.tool(kind="other")
    def step(i: int) -> int:
        return i

    @ag.guarded(guard=guard)
    def agent() -> ag.RunState:
        for i in range(20):
            step(i)
        run = ag.current_run()
        assert run is not None
        return run

    run = agent()
    assert run.tool_calls == 20
    assert [a.arguments["i"] for a in run.history] == [15, 16, 17, 18, 19]


@pytest.mark.parametrize("granted", [True, False], ids=["granted", "refused"])
def test_approval_wait_is_a_metric_and_an_answered_ask_counts_as_ask(granted: bool) -> None:
    cap = CapturingGuard(
        policy=RecordingPolicy(ag.Decision.ask("push?", rule_id="review")),
        approver=ag.CallbackApprover(lambda request: granted),
    )

    @ag.tool(kind="shell", guard=cap.guard, on_deny="return")
    def run_cmd(command: str) -> str:
        return "ran"

    run_cmd("git push")
    metrics = cap.metrics()
    ((labels, (count, _)),) = metrics["agentguard.approval.wait"]
    assert labels == {"agentguard.approval.granted": "true" if granted else "false"}
    assert count == 1
    decisions = {row[0]["agentguard.policy.decision"] for row in metrics["agentguard.policy.decisions"]}
    assert decisions == {"ask"}
