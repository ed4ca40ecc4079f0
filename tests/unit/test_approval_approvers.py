"""The built-in approvers, each called sync and async: callback, auto, console (fake streams, a real
pseudo-terminal, no TTY), and their timeouts."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

import pytest

from agentguard.approval import (
    ApprovalRequest,
    ApprovalResult,
    Approver,
    AsyncApprover,
    AutoApprover,
    CallbackApprover,
    ConsoleApprover,
)

REQUEST = ApprovalRequest(
    id="r1",
    action_hash="h1",
    tool="run",
    kind="shell",
    summary="rm -rf build",
    reason="destructive command",
    rule_ids=("destructive_commands",),
    run_id="run-1",
    agent="fixer",
    created=time.time(),
)


def call(approver: Any, mode: str, timeout: float | None = None) -> ApprovalResult:
    """Ask through the sync or the async entry point."""
    if mode == "sync":
        return approver.approve(REQUEST, timeout=timeout)  # type: ignore[no-any-return]
    return asyncio.run(approver.aapprove(REQUEST, timeout=timeout))  # type: ignore[no-any-return]


both = pytest.mark.parametrize("mode", ["sync", "async"])


@pytest.mark.parametrize(
    "approver", [CallbackApprover(lambda r: True), AutoApprover(), ConsoleApprover()], ids=type
)
def test_built_ins_have_both_forms(approver: Any) -> None:
    assert isinstance(approver, Approver)
    assert isinstance(approver, AsyncApprover)


# -- CallbackApprover ----------------------------------------------------------------------------------
def _sync_yes(request: ApprovalRequest) -> bool:
    return request.tool == "run"


async def _async_yes(request: ApprovalRequest) -> bool:
    await asyncio.sleep(0)
    return request.tool == "run"


@both
@pytest.mark.parametrize("fn", [_sync_yes, _async_yes], ids=["sync-fn", "async-fn"])
def test_callback_bool_answer(mode: str, fn: Any) -> None:
    result = call(CallbackApprover(fn, name="bot"), mode)
    assert (result.granted, result.by, result.scope) == (True, "bot", "once")


@both
def test_callback_async_fn_works_from_inside_a_running_loop(mode: str) -> None:
    async def agent() -> ApprovalResult:
        approver = CallbackApprover(_async_yes)
        if mode == "sync":  # a sync tool called from async code
            return approver.approve(REQUEST, timeout=None)
        return await approver.aapprove(REQUEST, timeout=None)

    assert asyncio.run(agent()).granted


@both
def test_callback_may_return_a_full_result(mode: str) -> None:
    answer = ApprovalResult(granted=True, by="ops", scope="always", reason="standing change")
    assert call(CallbackApprover(lambda r: answer), mode) == answer


@both
def test_callback_wrong_type_raises(mode: str) -> None:
    with pytest.raises(TypeError, match="expected bool or ApprovalResult"):
        call(CallbackApprover(lambda r: "yes"), mode)  # type: ignore[arg-type,return-value]


@both
@pytest.mark.timeout(10)
def test_callback_that_overruns_the_timeout_denies(mode: str) -> None:
    release = threading.Event()

    def slow(request: ApprovalRequest) -> bool:
        release.wait(5)
        return True

    started = time.monotonic()
    result = call(CallbackApprover(slow), mode, timeout=0.2)
    release.set()
    assert not result.granted
    assert result.reason == "timed out after 0.2s"
    assert time.monotonic() - started < 2


@pytest.mark.timeout(10)
def test_async_callback_that_overruns_the_timeout_denies() -> None:
    async def slow(request: ApprovalRequest) -> bool:
        await asyncio.sleep(5)
        return True

    result = call(CallbackApprover(slow), "async", timeout=0.1)
    assert (result.granted, result.reason) == (False, "timed out after 0.1s")


# -- AutoApprover --------------------------------------------------------------------------------------
@both
@pytest.mark.parametrize(("decision", "granted"), [("deny", False), ("allow", True)])
def test_auto_answers_without_asking(mode: str, decision: Any, granted: bool) -> None:
    result = call(AutoApprover(decision), mode)
    assert (result.granted, result.by, result.scope) == (granted, "auto", "once")


def test_auto_defaults_to_deny_and_rejects_nonsense() -> None:
    assert not AutoApprover().approve(REQUEST, timeout=None).granted
    with pytest.raises(ValueError, match="'allow' or 'deny'"):
        AutoApprover("maybe")  # type: ignore[arg-type]


# -- ConsoleApprover -----------------------------------------------------------------------------------
@both
@pytest.mark.parametrize(
    ("typed", "granted", "scope"),
    [
        ("y\n", True, "once"),
        ("YES\n", True, "once"),
        ("r\n", True, "run"),
        ("a\n", True, "always"),
        ("n\n", False, "once"),
        ("\n", False, "once"),
        ("what?\ny\n", True, "once"),
    ],
    ids=["y", "YES", "run", "always", "no", "empty-denies", "reprompt"],
)
def test_console_answers_from_fake_streams(mode: str, typed: str, granted: bool, scope: str) -> None:
    out = io.StringIO()
    approver = ConsoleApprover(stream_in=io.StringIO(typed), stream_out=out)
    result = call(approver, mode)
    assert (result.granted, result.scope, result.by) == (granted, scope, "console")
    shown = out.getvalue()
    for text in ("run (shell)", "rm -rf build", "destructive command", "destructive_commands", "fixer"):
        assert text in shown
    assert ("Please answer y, n, r or a" in shown) == typed.startswith("what")


@both
def test_console_end_of_input_denies(mode: str) -> None:
    result = call(ConsoleApprover(stream_in=io.StringIO(""), stream_out=io.StringIO()), mode)
    assert (result.granted, result.reason) == (False, "no answer (end of input)")


@both
def test_console_without_a_tty_denies_at_once(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # input is there, but nobody is at a terminal
    out = io.StringIO()
    result = call(ConsoleApprover(stream_out=out), mode)
    assert (result.granted, result.reason) == (False, "no TTY")
    assert out.getvalue() == ""


@pytest.fixture
def pipe() -> Iterator[tuple[TextIO, TextIO]]:
    """A stream that blocks until the test writes to it (not a TTY)."""
    r, w = os.pipe()
    reader, writer = os.fdopen(r, "r"), os.fdopen(w, "w")
    yield reader, writer
    writer.close()  # wakes any reader still blocked, with end of input
    time.sleep(0.05)
    reader.close()


@both
@pytest.mark.timeout(10)
def test_console_timeout_denies(mode: str, pipe: tuple[TextIO, TextIO]) -> None:
    out = io.StringIO()
    result = call(ConsoleApprover(stream_in=pipe[0], stream_out=out, timeout=0.2), mode)
    assert (result.granted, result.reason) == (False, "timed out after 0.2s")
    assert result.wait_s >= 0.2
    assert "no answer in time" in out.getvalue()


@pytest.mark.timeout(10)
def test_console_late_answer_is_not_taken_for_the_next_prompt(pipe: tuple[TextIO, TextIO]) -> None:
    reader, writer = pipe
    approver = ConsoleApprover(stream_in=reader, stream_out=io.StringIO())
    assert not approver.approve(REQUEST, timeout=0.1).granted
    writer.write("y\n")  # typed after the first prompt gave up
    writer.flush()
    time.sleep(0.2)

    def answer_no_later() -> None:
        time.sleep(0.3)
        writer.write("n\n")
        writer.flush()

    threading.Thread(target=answer_no_later).start()
    result = approver.approve(REQUEST, timeout=3)
    assert (result.granted, result.reason) == (False, "denied at the console")


@pytest.fixture
def tty(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """sys.stdin is a real pseudo-terminal; yields the fd the 'human' types into."""
    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    yield master
    stdin.close()
    os.close(master)


@both
@pytest.mark.timeout(10)
def test_console_on_a_real_tty(mode: str, tty: int) -> None:
    def type_answer() -> None:
        time.sleep(0.2)
        os.write(tty, b"a\n")

    threading.Thread(target=type_answer).start()
    result = call(ConsoleApprover(stream_out=io.StringIO()), mode, timeout=5)
    assert (result.granted, result.scope) == (True, "always")
    assert result.wait_s > 0.1


@pytest.mark.timeout(10)
def test_console_on_a_real_tty_times_out(tty: int) -> None:
    result = ConsoleApprover(stream_out=io.StringIO(), timeout=0.2).approve(REQUEST, timeout=None)
    assert (result.granted, result.reason) == (False, "timed out after 0.2s")
