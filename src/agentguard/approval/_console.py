"""A prompt at the terminal: the human at the keyboard answers each request.

::

    agentguard: approval needed
      tool:    run (shell)
      action:  rm -rf build
      reason:  destructive command
      rules:   destructive_commands
    Allow? [y] once, [n] no, [r] for this run, [a] always (60s): y

Without a TTY on stdin (CI, a service) it denies at once with ``"no TTY"``, never waits. The async form
reads in a worker thread, so the event loop keeps running while the human thinks.
"""

from __future__ import annotations

import functools
import os
import select
import sys
import threading
import time
from concurrent.futures import Future
from typing import TextIO

from ._display import visible
from ._model import ApprovalRequest, ApprovalResult, GrantScope, timed_out
from ._resolve import in_daemon_thread
from ._store import ApprovalStore

_ANSWERS: dict[str, GrantScope | None] = {
    "y": "once",
    "yes": "once",
    "r": "run",
    "run": "run",
    "a": "always",
    "always": "always",
    "n": None,
    "no": None,
    "": None,
}


class ConsoleApprover:
    """Ask at the terminal. ``stream_in``/``stream_out`` default to stdin/stderr (read when asked).

    With the default stdin, no TTY means an immediate denial. ``timeout`` (seconds) is the default for
    requests that do not bring their own; no answer by then denies. Prompts from concurrent calls are
    shown one at a time.
    """

    enforces_timeout = True

    def __init__(
        self,
        *,
        stream_in: TextIO | None = None,
        stream_out: TextIO | None = None,
        timeout: float = 60,
        store: ApprovalStore | None = None,
        name: str = "console",
    ) -> None:
        self.stream_in = stream_in
        self.stream_out = stream_out
        self.timeout = timeout
        self.name = name
        self.store = store if store is not None else ApprovalStore(":memory:")
        self._prompt_lock = threading.Lock()
        self._reader = _LineReader()

    def __repr__(self) -> str:
        return f"ConsoleApprover(timeout={self.timeout})"

    def approve(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        stream_in = self.stream_in if self.stream_in is not None else sys.stdin
        if self.stream_in is None and not _isatty(stream_in):
            return ApprovalResult.deny("no TTY", by=self.name)
        out = self.stream_out if self.stream_out is not None else sys.stderr
        if not self._prompt_lock.acquire(timeout=max(limit, 0)):
            return timed_out(limit, by=self.name, wait_s=time.monotonic() - started)
        try:
            return self._ask(request, stream_in, out, limit, started)
        finally:
            self._prompt_lock.release()

    async def aapprove(self, request: ApprovalRequest, *, timeout: float | None) -> ApprovalResult:
        return await in_daemon_thread(functools.partial(self.approve, request, timeout=timeout))

    def _ask(
        self, request: ApprovalRequest, stream_in: TextIO, out: TextIO, limit: float, started: float
    ) -> ApprovalResult:
        _write(
            out, _describe(request) + f"Allow? [y] once, [n] no, [r] for this run, [a] always ({limit:g}s): "
        )
        shown = time.monotonic()
        while True:
            remaining = limit - (time.monotonic() - started)
            line = self._reader.readline(stream_in, remaining, since=shown) if remaining > 0 else None
            wait_s = time.monotonic() - started
            if line is None:
                _write(out, "\nagentguard: no answer in time; denied\n")
                return timed_out(limit, by=self.name, wait_s=wait_s)
            if line == "":
                return ApprovalResult.deny("no answer (end of input)", by=self.name, wait_s=wait_s)
            answer = line.strip().lower()
            if answer not in _ANSWERS:
                _write(out, "Please answer y, n, r or a: ")
                continue
            scope = _ANSWERS[answer]
            if scope is None:
                return ApprovalResult.deny("denied at the console", by=self.name, wait_s=wait_s)
            return ApprovalResult(
                granted=True,
                by=self.name,
                scope=scope,
                wait_s=wait_s,
                reason=f"approved at the console ({scope})",
            )


def _describe(request: ApprovalRequest) -> str:
    lines = [
        "",
        "agentguard: approval needed" + (f" for {visible(request.agent)}" if request.agent else ""),
        f"  tool:    {visible(request.tool)} ({visible(request.kind)})",
        "  action:  " + "\n           ".join(visible(line) for line in request.summary.split("\n")),
        f"  reason:  {visible(request.reason) or '-'}",
        f"  rules:   {visible(', '.join(request.rule_ids)) or '-'}",
    ]
    return "\n".join(lines) + "\n"


def _write(out: TextIO, text: str) -> None:
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):  # a closed or broken stream: the answer still decides
        pass


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _LineReader:
    """Reads one line with a timeout, without leaving a stray read that eats a later answer.

    A real file descriptor on POSIX is waited on with ``select``: nothing is read until a line is there.
    Anything else (a ``StringIO``, Windows) is read in a worker thread; a read still in flight after a
    timeout is reused by the next prompt, and a line that arrived before that prompt was shown (a late
    answer to the previous one) is dropped rather than taken as the new answer.
    """

    def __init__(self) -> None:
        self._inflight: Future[tuple[float, str]] | None = None
        self._lock = threading.Lock()

    def readline(self, stream: TextIO, timeout: float, *, since: float) -> str | None:
        """The next line (``""`` at end of input), or ``None`` when ``timeout`` passes first."""
        fd = _fileno(stream)
        if fd is not None:
            ready, _, _ = select.select([fd], [], [], max(timeout, 0))
            return stream.readline() if ready else None
        deadline = time.monotonic() + timeout
        while True:
            future = self._read_future(stream)
            try:
                at, line = future.result(timeout=max(deadline - time.monotonic(), 0))
            except TimeoutError:
                return None
            with self._lock:
                if self._inflight is future:
                    self._inflight = None
            if at >= since or line == "":
                return line
            # a late answer to an earlier prompt: drop it and read again

    def _read_future(self, stream: TextIO) -> Future[tuple[float, str]]:
        with self._lock:
            if self._inflight is not None:
                return self._inflight
            future: Future[tuple[float, str]] = Future()
            self._inflight = future

        def read() -> None:
            try:
                line = stream.readline()
            except (OSError, ValueError):
                line = ""
            future.set_result((time.monotonic(), line))

        threading.Thread(target=read, name="agentguard-console", daemon=True).start()
        return future


def _fileno(stream: TextIO) -> int | None:
    if os.name != "posix":
        return None
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):
        return None
    return fd if _isatty(stream) else None
