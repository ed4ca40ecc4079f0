"""resolve / aresolve: grants first, then the approver; every failure a denial; grants once/run/always
and revoke; async waits never block the event loop."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace

import agentguard as ag
from agentguard.approval import (
    ApprovalRequest,
    ApprovalResult,
    ApprovalStore,
    AutoApprover,
    CallbackApprover,
    ConsoleApprover,
    QueueApprover,
    aresolve,
    resolve,
)

ASK = ag.Decision.ask("destructive command", rule_id="destructive_commands")
RM = ag.Action(kind="shell", tool="run", command="rm -rf build", cwd="/tmp")
RM_SPACED = ag.Action(kind="shell", tool="run", command="rm   -rf  build ", cwd="/tmp", call_id="call_9")
OTHER = ag.Action(kind="shell", tool="run", command="rm -rf dist", cwd="/tmp")


def _slept(seconds: float) -> bool:
    """An approver's answer after a slow human: True, ``seconds`` later."""
    time.sleep(seconds)
    return True


def make_run(run_id: str = "run-1", name: str = "fixer") -> ag.RunState:
    return ag.RunState(
        run_id=run_id,
        name=name,
        task=None,
        scope=None,
        guard=ag.Guard(),
        conversation_id=run_id,
        span=trace.INVALID_SPAN,
    )


def both_ways(
    approver: Any, action: ag.Action, run: ag.RunState | None, mode: str, timeout: float | None = None
) -> ApprovalResult:
    if mode == "sync":
        return resolve(approver, action, ASK, run, timeout=timeout)
    return asyncio.run(aresolve(approver, action, ASK, run, timeout=timeout))


both = pytest.mark.parametrize("mode", ["sync", "async"])


class Recorder:
    """An approver that answers from a script and remembers each request it was asked."""

    def __init__(self, *answers: ApprovalResult) -> None:
        self.answers = list(answers)
        self.asked: list[ApprovalRequest] = []

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        self.asked.append(request)
        return self.answers.pop(0)


def granted(scope: str = "once", by: str = "alice") -> ApprovalResult:
    return ApprovalResult(granted=True, by=by, scope=scope, reason="ok")  # type: ignore[arg-type]


# -- the request ----------------------------------------------------------------------------------------
def test_request_describes_the_action_and_the_run() -> None:
    recorder = Recorder(granted())
    result = resolve(recorder, RM, ASK, make_run())
    (request,) = recorder.asked
    assert (request.tool, request.kind, request.summary) == ("run", "shell", "rm -rf build")
    assert (request.reason, request.rule_ids) == ("destructive command", ("destructive_commands",))
    assert (request.run_id, request.agent) == ("run-1", "fixer")
    assert abs(request.created - time.time()) < 5
    assert result.granted
    assert result.wait_s > 0


def test_summary_goes_through_redaction(monkeypatch: pytest.MonkeyPatch) -> None:
    import agentguard.approval._hash as hash_module

    monkeypatch.setattr(hash_module, "redact", lambda text: text.replace("s3cr3t", "[REDACTED]"))
    recorder = Recorder(granted())
    resolve(recorder, ag.Action(kind="shell", tool="run", command="curl -H 'X: s3cr3t' x"), ASK, None)
    assert recorder.asked[0].summary == "curl -H 'X: [REDACTED]' x"


def test_result_becomes_a_decision_keeping_rules() -> None:
    allow = granted(by="alice").as_decision(ASK)
    assert (allow.outcome, allow.rule_ids) == ("allow", ("destructive_commands",))
    assert "approved by alice" in allow.reason
    deny = ApprovalResult.deny("timed out after 5s", by="queue").as_decision(ASK)
    assert (deny.outcome, deny.rule_ids) == ("deny", ("destructive_commands",))
    assert "timed out after 5s" in deny.reason


# -- failures are denials -------------------------------------------------------------------------------
@both
def test_no_approver_denies(mode: str) -> None:
    result = both_ways(None, RM, None, mode)
    assert (result.granted, result.reason) == (False, "no approver")


class Raising:
    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        raise RuntimeError("pager down")


@both
def test_approver_that_raises_denies_with_the_reason(mode: str) -> None:
    result = both_ways(Raising(), RM, None, mode)
    assert (result.granted, result.reason) == (False, "approver raised RuntimeError: pager down")


@both
def test_approver_returning_garbage_denies(mode: str) -> None:
    class Garbage:
        def approve(self, request: ApprovalRequest, *, timeout: float | None) -> Any:
            return "sure"

    result = both_ways(Garbage(), RM, None, mode)
    assert not result.granted
    assert "not an ApprovalResult" in result.reason


class Sleepy:
    """A foreign approver that ignores its timeout."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        self.release.wait(5)
        return granted()


@both
@pytest.mark.timeout(10)
def test_timeout_denies_even_for_an_approver_that_ignores_it(mode: str) -> None:
    sleepy = Sleepy()
    started = time.monotonic()
    result = both_ways(sleepy, RM, None, mode, timeout=0.2)
    sleepy.release.set()
    assert (result.granted, result.reason) == (False, "timed out after 0.2s")
    assert time.monotonic() - started < 3


@both
@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: CallbackApprover(lambda r: _slept(5)),
        lambda tmp: QueueApprover(tmp / "q.db", poll_interval=0.02),
        lambda tmp: ConsoleApprover(stream_in=_blocking_stream(), stream_out=io.StringIO()),
    ],
    ids=["callback", "queue", "console"],
)
def test_timeouts_deny_for_every_built_in(mode: str, make: Callable[[Path], Any], tmp_path: Path) -> None:
    result = both_ways(make(tmp_path), RM, None, mode, timeout=0.3)
    assert (result.granted, result.reason) == (False, "timed out after 0.3s")
    assert result.wait_s >= 0.25


def _blocking_stream() -> io.TextIOWrapper:
    r, _w = os.pipe()  # the write end stays open: reads block until the process exits
    return os.fdopen(r, "r")


# -- grants ---------------------------------------------------------------------------------------------
@both
def test_once_asks_again_next_time(mode: str) -> None:
    recorder = Recorder(granted("once"), granted("once"))
    run = make_run()
    assert both_ways(recorder, RM, run, mode).granted
    assert both_ways(recorder, RM, run, mode).by == "alice"
    assert len(recorder.asked) == 2


@both
def test_run_grant_covers_identical_actions_in_that_run_only(mode: str) -> None:
    recorder = Recorder(granted("run"), granted("once"), granted("once"))
    run = make_run("run-1")
    first = both_ways(recorder, RM, run, mode)
    assert first.grant_id is not None
    second = both_ways(recorder, RM_SPACED, run, mode)  # the same action, spelled differently
    assert (second.granted, second.by, second.scope, second.wait_s) == (
        True,
        f"grant:{first.grant_id}",
        "run",
        0.0,
    )
    assert len(recorder.asked) == 1
    both_ways(recorder, OTHER, run, mode)  # a different action is asked about
    both_ways(recorder, RM, make_run("run-2"), mode)  # and so is the same action in another run
    assert len(recorder.asked) == 3


def test_run_scope_outside_a_run_is_once() -> None:
    recorder = Recorder(granted("run"), granted("once"))
    assert resolve(recorder, RM, ASK, None).scope == "once"
    resolve(recorder, RM, ASK, None)
    assert len(recorder.asked) == 2


@both
def test_always_grant_covers_every_run_until_revoked(mode: str, tmp_path: Path) -> None:
    store = ApprovalStore(tmp_path / "approvals.db")
    answers = iter([True, False])
    approver = CallbackApprover(
        lambda r: ApprovalResult(granted=next(answers), by="ops", scope="always"), store=store
    )
    first = both_ways(approver, RM, make_run("run-1"), mode)
    assert first.granted
    again = both_ways(approver, RM_SPACED, make_run("run-2"), mode)
    assert (again.granted, again.by) == (True, f"grant:{first.grant_id}")
    assert both_ways(approver, RM, None, mode).granted
    (grant,) = store.grants()
    assert (grant.id, grant.scope, grant.summary) == (first.grant_id, "always", "rm -rf build")
    store.revoke(grant.id)
    after = both_ways(approver, RM, make_run("run-3"), mode)
    assert (after.granted, after.by) == (False, "ops")
    statuses = [(r.status, r.by) for r in store.history()]
    assert statuses == [("denied", "ops"), ("granted", "ops")]  # grant hits are not asked, not recorded
    store.close()


def test_always_grants_without_a_store_live_with_the_approver() -> None:
    calls: list[str] = []

    def fn(request: ApprovalRequest) -> ApprovalResult:
        calls.append(request.id)
        return ApprovalResult(granted=True, by="me", scope="always")

    approver = CallbackApprover(fn)
    resolve(approver, RM, ASK, None)
    assert resolve(approver, RM, ASK, make_run()).by.startswith("grant:")
    assert len(calls) == 1
    assert len(approver.store.grants()) == 1
    resolve(CallbackApprover(fn), RM, ASK, None)  # another approver has its own grants
    assert len(calls) == 2


def test_foreign_approver_grants_are_kept_beside_it() -> None:
    recorder = Recorder(granted("always"))
    resolve(recorder, RM, ASK, None)
    assert resolve(recorder, RM, ASK, None).by.startswith("grant:")


@both
def test_auto_approver_is_asked_every_time(mode: str) -> None:
    assert not both_ways(AutoApprover(), RM, None, mode).granted
    result = both_ways(AutoApprover("allow"), RM, make_run(), mode)
    assert (result.granted, result.by, result.grant_id) == (True, "auto", None)


# -- the event loop keeps running ---------------------------------------------------------------------
@pytest.fixture
def ticker() -> Iterator[Callable[[], Any]]:
    """Starts a task that ticks every 10 ms; the count shows whether the loop was free."""
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    def start() -> tuple[asyncio.Task[None], list[float]]:
        return asyncio.ensure_future(tick()), ticks

    yield start


class SlowSync:
    """Sync only, blocks its thread for a while: aresolve must run it off the loop."""

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        time.sleep(0.4)
        return granted()


@pytest.mark.asyncio
@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", ["callback-sync-fn", "foreign-sync", "console", "queue"])
async def test_async_waits_never_block_the_event_loop(
    kind: str, ticker: Callable[[], Any], tmp_path: Path
) -> None:
    def answer_later(fn: Callable[[], None]) -> None:
        def later() -> None:
            time.sleep(0.4)
            fn()

        threading.Thread(target=later, daemon=True).start()

    approver: Any
    if kind == "callback-sync-fn":
        approver = CallbackApprover(lambda r: _slept(0.4))
    elif kind == "foreign-sync":
        approver = SlowSync()
    elif kind == "console":
        r, w = os.pipe()
        writer = os.fdopen(w, "w")
        approver = ConsoleApprover(stream_in=os.fdopen(r, "r"), stream_out=io.StringIO())

        def type_yes() -> None:
            writer.write("y\n")
            writer.flush()

        answer_later(type_yes)
    else:
        approver = QueueApprover(tmp_path / "q.db", poll_interval=0.02)
        store = ApprovalStore(tmp_path / "q.db")

        def approve_pending() -> None:
            deadline = time.monotonic() + 5
            while not store.pending() and time.monotonic() < deadline:
                time.sleep(0.01)
            store.answer(store.pending()[0].id, True, by="other")

        answer_later(approve_pending)

    task, ticks = ticker()
    try:
        started = time.monotonic()
        result = await aresolve(approver, RM, ASK, make_run(), timeout=5)
        waited = time.monotonic() - started
    finally:
        task.cancel()
    assert result.granted
    assert waited >= 0.35
    during = [t for t in ticks if started <= t <= started + waited]
    assert len(during) >= 10, f"the loop ticked only {len(during)} times in {waited:.2f}s"
