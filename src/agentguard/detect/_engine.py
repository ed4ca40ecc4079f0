"""The detector set and its per-run session: events in, signals out, with bounded state.

A :class:`Detector` is a small class with a ``category`` and any of the hooks ``on_start``,
``on_call``, ``on_policy``, ``on_result``, ``on_llm`` and ``on_end``; each returns signals (or
``None``). ``call_kinds``/``result_kinds`` name the action kinds its tool hooks want, so an ordinary
action only reaches the detectors that care about its kind. One instance lives per run (or per
scanned session): its fields are its state, and it keeps them bounded.

:class:`DetectorSet` is what ``Guard(detectors=...)`` takes: ``DetectorSet()`` is the built-in set,
``DetectorSet([MyDetector, ...])`` a custom one. ``session()`` starts one run's :class:`Session`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .._lazyre import lazy_compile
from ..action import ACTION_KINDS, Action
from ._events import Event, LLMTurn, PolicyEvent, RunEnd, RunStart, ToolCall, ToolResult
from ._files import classify
from ._signal import Evidence, Severity, Signal, excerpt

if TYPE_CHECKING:
    from ..normalise import Facts

MAX_SIGNALS_PER_SESSION = 512
_MAX_PATHS = 4096
# Anything a built-in detector looks for in written content (a new file without any of these, at an
# ordinary path, cannot raise a signal).
_CONTENT_HINT = lazy_compile(
    r"assert|expect|skip|xfail|ignore|Disabled|exit|outcome|report|__eq__|__ne__|verify|check|valid"
    r"|import|require|pass|\.\.\.|TODO|FIXME|todo!|unimplemented|[Nn]ot ?[Ii]mplemented|deselect|cov|fail"
)
_NONE: list[Signal] = []  # never mutated: the empty answer of feed()
_HOOKS = ("on_start", "on_call", "on_policy", "on_result", "on_llm", "on_end")


class Detector:
    """Base class of detectors: override the hooks you need (each returns signals or ``None``)."""

    category: ClassVar[str] = ""
    call_kinds: ClassVar[frozenset[str]] = ACTION_KINDS
    result_kinds: ClassVar[frozenset[str]] = ACTION_KINDS
    denial_call_kinds: ClassVar[frozenset[str]] = frozenset()
    """Kinds whose ``on_call`` is wanted only once the run has seen a denial."""
    gated: ClassVar[bool] = False
    """File writes reach this detector only when they can matter (see :meth:`Session.interesting`):
    the path is a test, test configuration, lockfile or guard file, the file existed before, the
    content has a hint any built-in detector looks for, or the run saw a denial. Keeps ordinary
    writes cheap; the built-in detectors set it, custom ones get every write by default."""

    def enabled(self, ev: RunStart) -> bool:
        """Whether the detector applies to this run at all (decided at its start)."""
        return True

    def on_start(self, ev: RunStart, s: Session) -> Iterable[Signal] | None:
        return None

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        return None

    def on_policy(self, ev: PolicyEvent, s: Session) -> Iterable[Signal] | None:
        return None

    def on_result(self, ev: ToolResult, s: Session) -> Iterable[Signal] | None:
        return None

    def on_llm(self, ev: LLMTurn, s: Session) -> Iterable[Signal] | None:
        return None

    def on_end(self, ev: RunEnd, s: Session) -> Iterable[Signal] | None:
        return None


DetectorFactory = Callable[[], Detector]


class DetectorSet:
    """The detectors a guard runs (``None`` given to :class:`~agentguard.Guard` means this, built in)."""

    def __init__(self, detectors: Sequence[DetectorFactory] | None = None) -> None:
        if detectors is None:
            from ._builtin import BUILTIN

            detectors = BUILTIN
        self.factories: tuple[DetectorFactory, ...] = tuple(detectors)
        self._overrides: list[frozenset[str]] = []
        self._plans: dict[Any, dict[str, dict[str, list[int]]]] = {}
        """Dispatch plans by (enabled detectors, denied), shared by this set's sessions."""
        conditional: list[int] = []
        for i, factory in enumerate(self.factories):
            cls = factory if isinstance(factory, type) else type(factory())
            self._overrides.append(
                frozenset(h for h in _HOOKS if getattr(cls, h, None) is not getattr(Detector, h))
            )
            if getattr(cls, "enabled", None) is not Detector.enabled:
                conditional.append(i)
        self._conditional = tuple(conditional)
        """The detectors whose :meth:`Detector.enabled` can say no (the others always apply)."""

    def session(self) -> Session:
        return Session([f() for f in self.factories], self._overrides, self._plans, self._conditional)

    def __len__(self) -> int:
        return len(self.factories)


class Session:
    """One run's detectors and the context they share. Not thread-safe: callers serialise ``feed``."""

    def __init__(
        self,
        detectors: Sequence[Detector],
        overrides: Sequence[frozenset[str]],
        plans: dict[Any, dict[str, dict[str, list[int]]]] | None = None,
        conditional: Sequence[int] | None = None,
    ) -> None:
        self.detectors = tuple(detectors)
        self.task: str | None = None
        self.root: str | None = None
        self.scope_write: tuple[str, ...] = ()
        self.scope_hosts: tuple[str, ...] = ()
        self.signals: list[Signal] = []
        self.dropped = 0
        self.last_text = ""
        """The last non-empty assistant text (the final message when the agent returns none)."""
        self.llm_turns = 0
        self.refusals = 0
        self.tool_calls = 0
        self.denials: deque[PolicyEvent] = deque(maxlen=16)
        self.started = False
        self.watch_literals = False
        """Set by a detector that must see every write's content (reward hacking's expected values)."""
        # the dispatch tables, filled by _wire
        self._start: list[Callable[..., Any]]
        self._policy: list[Callable[..., Any]]
        self._llm: list[Callable[..., Any]]
        self._end: list[Callable[..., Any]]
        self._call: dict[str, list[Callable[..., Any]]]
        self._result: dict[str, list[Callable[..., Any]]]
        self._write_call: list[Callable[..., Any]]
        self._write_result: list[Callable[..., Any]]
        """Hooks of gated detectors for file writes that matter (the always-called ones are in
        ``_call``/``_result``)."""
        self.paths: set[str] = set()
        """Every path a tool call named (bounded)."""
        self.writes = 0
        """File-write calls so far (a cheap state-change clock)."""
        self.written: list[str] = []
        """Paths written by file-write calls since the last :meth:`take_written` (bounded)."""
        self._overrides = tuple(overrides)
        self._plans = plans if plans is not None else {}
        self._conditional = (
            tuple(conditional)
            if conditional is not None
            else tuple(i for i, d in enumerate(self.detectors) if not _always_enabled(d))
        )
        self._all = (True,) * len(self.detectors)
        # wired for a run without a declared scope (the common case); RunStart rewires if it differs
        self._enabled = self._enabled_for(_PLAIN_START)
        self._wire(self._enabled)

    def _enabled_for(self, ev: RunStart) -> tuple[bool, ...]:
        """Which detectors apply to the run ``ev`` starts (by position)."""
        if not self._conditional:
            return self._all
        flags = list(self._all)
        dets = self.detectors
        for i in self._conditional:
            flags[i] = bool(dets[i].enabled(ev))
        return tuple(flags)

    def _wire(self, enabled: tuple[bool, ...], denied: bool = False) -> None:
        """Bind the hooks of the ``enabled`` detectors into the dispatch tables."""
        key = (enabled, denied)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _plan(self.detectors, self._overrides, key[0], denied)
        dets = self.detectors
        self._call = {k: [dets[i].on_call for i in idx] for k, idx in plan["call"].items()}
        self._result = {k: [dets[i].on_result for i in idx] for k, idx in plan["result"].items()}
        self._write_call = [dets[i].on_call for i in plan["write_call"][""]]
        self._write_result = [dets[i].on_result for i in plan["write_result"][""]]
        self._start = [dets[i].on_start for i in plan["start"][""]]
        self._policy = [dets[i].on_policy for i in plan["policy"][""]]
        self._llm = [dets[i].on_llm for i in plan["llm"][""]]
        self._end = [dets[i].on_end for i in plan["end"][""]]

    # -- feeding -----------------------------------------------------------------------------------
    def feed(self, ev: Event) -> list[Signal]:
        """Run the detectors that want ``ev``; returns the new signals (also kept on ``signals``)."""
        hooks: Sequence[Callable[..., Any]]
        match ev:
            case ToolCall():
                self.tool_calls += 1
                action = ev.action
                kind = action.kind
                path = action.path
                if path is not None and len(self.paths) < _MAX_PATHS:
                    self.paths.add(path)
                hooks = self._call[kind]
                if kind == "file_write":
                    self.writes += 1
                    if path is not None and len(self.written) < _MAX_PATHS:
                        self.written.append(path)
                    if self._write_call and (self.denials or classify(path or "").special):
                        hooks = [*hooks, *self._write_call]
            case ToolResult():
                kind = ev.action.kind
                hooks = self._result[kind]
                if kind == "file_write" and self._write_result and self.interesting(ev):
                    hooks = [*hooks, *self._write_result]
            case LLMTurn():
                self.llm_turns += 1
                if ev.refusal:
                    self.refusals += 1
                hooks = self._llm
            case PolicyEvent():
                if ev.outcome == "deny":
                    if not self.denials:
                        self._wire(self._enabled, denied=True)
                    self.denials.append(ev)
                hooks = self._policy
            case RunStart():
                self.started = True
                self.task = ev.task
                self.root = ev.scope_root
                self.scope_write = ev.scope_write
                self.scope_hosts = ev.scope_hosts
                enabled = self._enabled_for(ev)
                if enabled != self._enabled:
                    self._enabled = enabled
                    self._wire(enabled, denied=bool(self.denials))
                hooks = self._start
            case _:
                hooks = self._end
        out: list[Signal] | None = None
        for hook in hooks:
            found = hook(ev, self)
            if found:
                if out is None:
                    out = []
                out.extend(found)
        if isinstance(ev, LLMTurn) and ev.text.strip():
            self.last_text = ev.text
        if not out:
            return _NONE
        room = MAX_SIGNALS_PER_SESSION - len(self.signals)
        if room < len(out):
            self.dropped += len(out) - max(room, 0)
            out = out[: max(room, 0)]
        self.signals.extend(out)
        return out

    def quiet_write(self, action: Action) -> bool:
        """For a file write about to run: do the bookkeeping ``feed`` would, and say whether no hook
        needs the call (then the caller skips building the event)."""
        if self._call["file_write"] or self.denials:
            return False
        path = action.path
        if path is not None and classify(path).special:
            return False
        self.tool_calls += 1
        self.writes += 1
        if path is not None:
            if len(self.paths) < _MAX_PATHS:
                self.paths.add(path)
            if len(self.written) < _MAX_PATHS:
                self.written.append(path)
        return True

    def quiet_write_result(self, action: Action) -> bool:
        """For a finished write of a new file: whether no hook needs its result."""
        if self._result["file_write"] or self.denials or self.watch_literals:
            return False
        if action.path is not None and classify(action.path).special:
            return False
        content = action.content
        return not (content and _CONTENT_HINT.search(content)) and "old_string" not in action.arguments

    def interesting(self, ev: ToolResult) -> bool:
        """Whether a file write can matter to a gated detector (see :attr:`Detector.gated`)."""
        change = ev.change
        if change is None or ev.error is not None:
            return False
        if change.old is not None or self.denials or self.watch_literals:
            return True
        if classify(change.path or ev.action.path or "").special:
            return True
        return bool(change.new and _CONTENT_HINT.search(change.new))

    def take_written(self) -> list[str]:
        """The paths file-write calls named since the last call (and forget them)."""
        out, self.written = self.written, []
        return out

    # -- helpers for detectors ---------------------------------------------------------------------
    def facts(self, action: Action) -> Facts:
        """The action's normalised facts against the run's scope root (computed once per action)."""
        from ..policy import facts_of

        return facts_of(action, self.root)

    def relative(self, path: str, cwd: str | None = None) -> str:
        """``path`` relative to the scope root when inside it (POSIX), else as given, normalised."""
        p = path.replace("\\", "/")
        root = self.root
        if os.path.isabs(p):
            if root:
                r = os.path.normpath(root)
                if p == r or p.startswith(r.rstrip("/") + "/"):
                    return os.path.relpath(p, r)
            return os.path.normpath(p)
        return os.path.normpath(p) if p else p


_PLAIN_START = RunStart(span_id="")


def _always_enabled(detector: Detector) -> bool:
    return getattr(type(detector), "enabled", None) is Detector.enabled and "enabled" not in getattr(
        detector, "__dict__", ()
    )


def _plan(
    detectors: Sequence[Detector],
    overrides: Sequence[frozenset[str]],
    enabled: tuple[bool, ...],
    denied: bool,
) -> dict[str, dict[str, list[int]]]:
    """Which detector (by index) each hook and kind goes to."""
    plan: dict[str, dict[str, list[int]]] = {
        "call": {k: [] for k in ACTION_KINDS},
        "result": {k: [] for k in ACTION_KINDS},
        **{name: {"": []} for name in ("write_call", "write_result", "start", "policy", "llm", "end")},
    }
    for i, (det, hooks, on) in enumerate(zip(detectors, overrides, enabled, strict=True)):
        if not on:
            continue
        for hook in ("start", "policy", "llm", "end"):
            if f"on_{hook}" in hooks:
                plan[hook][""].append(i)
        for kind in ACTION_KINDS:
            gated = det.gated and kind == "file_write"
            if "on_call" in hooks and (kind in det.call_kinds or (denied and kind in det.denial_call_kinds)):
                (plan["write_call"][""] if gated else plan["call"][kind]).append(i)
            if "on_result" in hooks and kind in det.result_kinds:
                (plan["write_result"][""] if gated else plan["result"][kind]).append(i)
    return plan


def contains_any(text: str, literals: Sequence[str]) -> bool:
    """Whether any of ``literals`` occurs in ``text`` (a loop: cheaper than ``any()`` over a generator,
    for the literal prefilters that keep regexes off text they cannot match)."""
    for literal in literals:  # noqa: SIM110 - a loop, not any(generator): see above
        if literal in text:
            return True
    return False


def signal(
    code: str,
    severity: Severity,
    message: str,
    *,
    span_ids: Iterable[str | None],
    confidence: float = 0.8,
    text: str | None = None,
) -> Signal:
    """A detector signal with evidence (``text`` becomes the redacted excerpt)."""
    ids = tuple(dict.fromkeys(i for i in span_ids if i))
    return Signal(
        code=code,
        severity=severity,
        confidence=confidence,
        message=message,
        evidence=Evidence(span_ids=ids, excerpt=excerpt(text)),
    )
