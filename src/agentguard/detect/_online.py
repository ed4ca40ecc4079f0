"""The guard's side of detection: build events from live calls, run the run's session, emit signals.

Called from the tool wrapper (before and after each call, and on a policy decision), from the OpenAI
instrumentation (each model response) and from ``@guarded`` (the end of the run). Every entry point
catches its own errors and reports them through :func:`agentguard._safe.report`: a detector bug
never reaches the agent. Signals become ``agentguard.signal`` span events on the causing span, a
count in ``agentguard.signals`` (labels: category and severity) and entries in ``run.signals``.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from opentelemetry import trace

from .. import _safe
from ..telemetry import semconv as sc
from ..telemetry import to_text
from ._engine import DetectorSet, Session
from ._events import (
    MAX_DIFF_SOURCE_BYTES,
    FileChange,
    LLMTurn,
    PolicyEvent,
    RunEnd,
    RunStart,
    ToolCall,
    ToolResult,
    change_from_arguments,
    change_from_diff,
    make_diff,
)
from ._signal import Signal

if TYPE_CHECKING:
    from opentelemetry._logs import Logger

    from ..action import Action, Decision
    from ..guard import Guard, RunState

MAX_RUN_SIGNALS: Final = 1024
_default: DetectorSet | None = None
_default_lock = threading.Lock()


class LiveDetection:
    """A run's session plus the lock that serialises it and the file contents read before writes."""

    __slots__ = ("lock", "pending", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.pending: dict[int, tuple[str, tuple[str, str] | None]] = {}
        """Per action in flight: its span id and, for a file write, the file's content before it."""


def default_detectors() -> DetectorSet:
    """The built-in detector set (shared: detector state lives in each run's session)."""
    global _default  # noqa: PLW0603 - built once, behind a lock
    ds = _default
    if ds is None:
        with _default_lock:
            if _default is None:
                _default = DetectorSet()
            ds = _default
    return ds


def detector_set(guard: Guard) -> DetectorSet | None:
    """The set ``guard`` runs (``None``: detection off); normalised once by the guard."""
    return guard.detector_set


def span_id(span: trace.Span) -> str:
    return f"{span.get_span_context().span_id:016x}"


def _live(run: RunState) -> LiveDetection | None:
    live = run.detection
    if live is not None or run.detection_off:
        return live
    with run._lock:
        if run.detection is None and not run.detection_off:
            ds = run.guard.detector_set
            if ds is None:
                run.detection_off = True
                return None
            session = ds.session()
            scope = run.scope
            session.feed(
                RunStart(
                    span_id=span_id(run.span),
                    task=run.task,
                    scope_root=scope.root if scope is not None else None,
                    scope_write=scope.write if scope is not None else (),
                    scope_hosts=scope.hosts if scope is not None else (),
                )
            )
            run.detection = LiveDetection(session)
    return run.detection


def emit(run: RunState, span: trace.Span, signals: Sequence[Signal]) -> None:
    """Record signals: span events on ``span``, one ``gen_ai.evaluation.result`` log record each
    (in ``span``'s context), the signals counter, and ``run.signals``."""
    recording = span.is_recording()
    guard = run.guard
    counter = guard.instruments.signals
    for sig in signals:
        if recording:
            span.add_event(sc.EVENT_SIGNAL, signal_attributes(sig))
            _evaluation(guard.logger, span, sig)
        counter.add(1, {sc.SIGNAL_CATEGORY: sig.category, sc.SIGNAL_SEVERITY: sig.severity})
        if len(run.signals) < MAX_RUN_SIGNALS:
            run.signals.append(sig)


def _evaluation(logger: Logger, span: trace.Span, sig: Signal) -> None:
    try:
        logger.emit(
            event_name=sc.EVENT_EVALUATION_RESULT,
            context=trace.set_span_in_context(span),
            body=sig.message,
            attributes=evaluation_attributes(sig),
        )
    except Exception as exc:
        _safe.report("detect.evaluation_log", exc)


def evaluation_attributes(sig: Signal) -> dict[str, Any]:
    """A signal as a ``gen_ai.evaluation.result``: its code as the name, its severity as the score
    label, its confidence as the score value, its message as the explanation."""
    return {
        sc.GEN_AI_EVALUATION_NAME: sig.code,
        sc.GEN_AI_EVALUATION_SCORE_LABEL: sig.severity,
        sc.GEN_AI_EVALUATION_SCORE_VALUE: float(sig.confidence),
        sc.GEN_AI_EVALUATION_EXPLANATION: sig.message,
        sc.SIGNAL_CATEGORY: sig.category,
    }


def signal_attributes(sig: Signal) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        sc.SIGNAL_CODE: sig.code,
        sc.SIGNAL_CATEGORY: sig.category,
        sc.SIGNAL_SEVERITY: sig.severity,
        sc.SIGNAL_CONFIDENCE: float(sig.confidence),
        sc.SIGNAL_MESSAGE: sig.message,
        sc.SIGNAL_EVIDENCE: sig.evidence.excerpt,
        sc.SIGNAL_SPAN_IDS: list(sig.evidence.span_ids),
        sc.SIGNAL_SOURCE: sig.source,
    }
    attrs.update(sig.attributes)
    return attrs


def _feed(live: LiveDetection, run: RunState, span: trace.Span, ev: Any) -> None:
    with live.lock:
        found = live.session.feed(ev)
    if found:
        emit(run, span, found)


# -- entry points ------------------------------------------------------------------------------------
def on_tool_call(run: RunState, action: Action, span: trace.Span) -> None:
    """Before a tool call: run the call detectors; for a file write, remember the file's content."""
    try:
        live = _live(run)
        if live is None:
            return
        old = None
        if action.kind == "file_write":
            # a relative path is relative to the action's cwd, else the scope root (as the policy reads it)
            base = action.cwd or (run.scope.root if run.scope is not None else None)
            old = _read_small(action.path, base) if action.path else None
            if old is None:
                with live.lock:
                    if live.session.quiet_write(action):
                        return  # an ordinary write of a new file: nothing to look at before it runs
        sid = span_id(span)
        with live.lock:
            if len(live.pending) < 256:
                live.pending[id(action)] = (sid, old)
            found = live.session.feed(ToolCall(span_id=sid, action=action))
        if found:
            emit(run, span, found)
    except Exception as exc:
        _safe.report("detect.tool_call", exc)


def on_decision(run: RunState, action: Action, decision: Decision, span: trace.Span) -> None:
    try:
        live = _live(run)
        if live is None:
            return
        ev = PolicyEvent(
            span_id=span_id(span),
            action=action,
            outcome=decision.outcome,
            rule_ids=tuple(decision.rule_ids),
            reason=decision.reason,
        )
        _feed(live, run, span, ev)
    except Exception as exc:
        _safe.report("detect.decision", exc)


def on_tool_result(
    run: RunState, guard: Guard, action: Action, span: trace.Span, result: Any, error: BaseException | None
) -> None:
    """After a tool call (before its span ends): the file diff, then the result detectors."""
    try:
        live = _live(run)
        if live is None:
            return
        change: FileChange | None = None
        with live.lock:
            pending = live.pending.pop(id(action), None)
            if pending is None and action.kind == "file_write" and live.session.quiet_write_result(action):
                return
        sid, before = pending or (span_id(span), None)
        if action.kind == "file_write" and error is None:
            change = _change(action, before)
            if change is not None and change.diff and guard.capture_content and span.is_recording():
                span.set_attribute(sc.FILE_DIFF, change.diff)
        err = f"{type(error).__name__}: {error}" if error is not None else None
        ev = ToolResult(span_id=sid, action=action, result=result, error=err, change=change)
        _feed(live, run, span, ev)
    except Exception as exc:
        _safe.report("detect.tool_result", exc)


def on_llm_turn(
    run: RunState,
    span: trace.Span,
    text: str,
    tool_calls: Sequence[tuple[str, str, str | None]],
    refusal: bool,
) -> None:
    try:
        live = _live(run)
        if live is None:
            return
        calls = tuple((name, arguments or "") for name, _, arguments in tool_calls)
        _feed(
            live,
            run,
            span,
            LLMTurn(span_id=span_id(span), text=text or "", tool_calls=calls, refusal=refusal),
        )
    except Exception as exc:
        _safe.report("detect.llm_turn", exc)


def on_run_end(run: RunState, result: Any, error: BaseException | None) -> None:
    """At the end of a run (before its span ends): the final message and the run-level detectors."""
    try:
        final = result if isinstance(result, str) else None
        span = run.span
        if final is not None and run.guard.capture_content and span.is_recording():
            message = [{"role": "assistant", "parts": [{"type": "text", "content": final}]}]
            span.set_attribute(sc.GEN_AI_OUTPUT_MESSAGES, to_text(message))
        live = _live(run)
        if live is None:
            return
        err = f"{type(error).__name__}: {error}" if error is not None else None
        _feed(live, run, span, RunEnd(span_id=span_id(span), final=final, error=err))
    except Exception as exc:
        _safe.report("detect.run_end", exc)


# -- files -------------------------------------------------------------------------------------------
def _fs_path(path: str, cwd: str | None) -> str:
    p = os.path.expanduser(path) if path[:1] == "~" else path
    if cwd and not os.path.isabs(p):
        p = os.path.join(cwd, p)
    return p


def _read_small(path: str, cwd: str | None) -> tuple[str, str] | None:
    """(file-system path, text) of an existing small text file, else ``None``."""
    fs = _fs_path(path, cwd)
    if not os.access(fs, os.R_OK):  # no exception for the common case: a new file
        return None
    try:
        st = os.stat(fs)
    except (OSError, ValueError):
        return None
    if st.st_size > MAX_DIFF_SOURCE_BYTES or not stat.S_ISREG(st.st_mode):
        return None
    try:
        with open(fs, encoding="utf-8") as f:
            return fs, f.read()
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _change(action: Action, before: tuple[str, str] | None) -> FileChange | None:
    path = action.path or ""
    if before is not None:
        fs, old = before
        try:
            with open(fs, encoding="utf-8") as f:
                new = f.read(MAX_DIFF_SOURCE_BYTES * 4)
        except (OSError, UnicodeDecodeError, ValueError):
            new = None
        if new is not None and new != old:
            return change_from_diff(path, make_diff(path, old, new))
        content = action.content
        if new == old and content is not None and content != old:
            # the write did not land (denied, or the tool wrote nothing): judge what was attempted
            return change_from_diff(path, make_diff(path, old, content))
    return change_from_arguments(action)
