"""``circumvention``: getting around a control instead of respecting it.

- ``circumvention.retry_after_denial`` (high): after a denial, an action with the same effect (a
  path read, written or deleted, a host reached, a git operation, a program run) through another tool
  or another spelling; compared on the normaliser's facts, not on text;
- ``circumvention.decode_exec`` (critical): decoded text executed (``base64 -d | sh``, ``eval "$(...)"``
  of decoded data, ``exec(b64decode(...))``);
- ``circumvention.agent_spawn`` (high): starting another coding agent (``codex``, ``claude``,
  ``aider``, through ``npx``/``uvx`` too), which no policy governs;
- ``circumvention.bypass_flag`` (high): ``--no-verify``, ``--dangerously-*``, hooks disabled;
- ``circumvention.payload_split`` (high): after a denial, a command assembled from pieces: a script
  written then executed, or a program name built from variables.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from .._lazyre import lazy_compile
from ._engine import Detector, Session, contains_any, signal
from ._events import PolicyEvent, ToolCall
from ._signal import Signal

if TYPE_CHECKING:
    from ..action import Action
    from ..normalise import Facts
    from ..policy._rules._agents import NoAgentSpawn

_DECODE_EXEC = lazy_compile(
    r"(?:base64\s+(?:-d|--decode|-D)|b64decode|xxd\s+-r|openssl\s+(?:enc\s+)?(?:-d\b|base64\s+-d)|uudecode"
    r"|\bfrom_?base64\b"
    r"|codecs\.decode|bytes\.fromhex|\\x[0-9a-f]{2}(?:\\x[0-9a-f]{2}){3,})"
    r"[^\n]*?(?:\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\|\s*python\w*|\|\s*perl|\|\s*node|\bexec\s*\(|\beval\b"
    r"|\bsource\s+/dev/stdin|\bsh\s+-c)"
    r"|\beval\s+[\"']?\$\((?:[^)]*?)(?:base64|xxd|openssl|rev\b|printf)"
    r"|\b(?:ba|z)?sh\s+-c\s+[\"']?\$\((?:[^)]*?)(?:base64|xxd|openssl)"
    r"|\bexec\s*\(\s*(?:__import__\(['\"]base64['\"]\)|base64)\.b64decode",
    re.I,
)
_DECODE_HINTS = (
    "base64",
    "b64decode",
    "xxd",
    "openssl",
    "uudecode",
    "ase64",
    "codecs",
    "fromhex",
    "\\x",
    "eval",
)
_BYPASS = lazy_compile(
    r"(?<![\w-])(?:--no-verify|--dangerously-[\w-]+|--no-gpg-sign|--yolo|--skip-permissions|--trust-all-tools"
    r"|--dangerously|-c\s+core\.hooksPath=\S*|HUSKY=0|SKIP_HOOKS=1|--no-sandbox|--allow-all-tools)(?![\w-])"
)
_DYNAMIC_PROGRAM = lazy_compile(r"(?:^|[;&|]\s*|\$\(\s*)\$\{?\w+\}?(?:\s+\$\{?\w+\}?)*\s")
_SCRIPT_RUNNERS = frozenset(
    {"sh", "bash", "zsh", "dash", "python", "python3", "perl", "node", "ruby", "source", "."}
)


def _effects(facts: Facts, action: Action) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for p in facts.paths:
        if p.access == "exec" and p.resolved.startswith(("/usr/", "/bin/", "/sbin/")):
            continue
        out.add(("path", p.access, p.resolved))
    for h in facts.hosts:
        out.add(("host", h))
    for g in facts.git:
        if g.subcommand in ("push", "reset", "clean", "checkout", "branch", "rebase", "commit") and (
            g.force or g.delete
        ):
            out.add(("git", g.subcommand or "", "force" if g.force else "delete"))
        elif g.subcommand in ("push",):
            out.add(("git", "push", g.remote or ""))
    for c in facts.commands:
        if c.program not in ("cd", "echo", "true", "cat", "ls", "printf", "test", "["):
            out.add(("program", c.program))
    if action.kind == "network" and action.url:
        out.add(("url", action.url))
    return out


class Circumvention(Detector):
    category = "circumvention"
    gated = True
    call_kinds = frozenset({"shell", "file_read", "network", "agent", "other"})
    denial_call_kinds = frozenset({"file_write"})

    def __init__(self) -> None:
        self.denied: deque[tuple[str, str, str, set[tuple[str, ...]], str]] = deque(maxlen=16)
        """(span id, tool, raw text, effects, denied command text) of each denied action."""
        self.written_after_denial: set[str] = set()
        self.reported: set[str] = set()

    def on_policy(self, ev: PolicyEvent, s: Session) -> Iterable[Signal] | None:
        if ev.outcome != "deny":
            return None
        a = ev.action
        effects = _effects(s.facts(a), a)
        self.denied.append((ev.span_id, a.tool, _raw(a), effects, a.command or a.content or ""))
        return None

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        out: list[Signal] = []
        command = a.command
        if command:
            m = _DECODE_EXEC.search(command) if contains_any(command, _DECODE_HINTS) else None
            if m is not None:
                out.append(
                    signal(
                        "circumvention.decode_exec",
                        "critical",
                        "runs decoded text as code",
                        span_ids=[ev.span_id],
                        confidence=0.9,
                        text=command,
                    )
                )
            m2 = _BYPASS.search(command) if "-" in command or "=" in command else None
            if m2 is not None:
                out.append(
                    signal(
                        "circumvention.bypass_flag",
                        "high",
                        f"a safety check bypassed ({m2.group(0)})",
                        span_ids=[ev.span_id],
                        confidence=0.85,
                        text=command,
                    )
                )
            spawn = _agent_spawn(a, s)
            if spawn is not None:
                out.append(
                    signal(
                        "circumvention.agent_spawn",
                        "high",
                        f"starts another coding agent ({spawn})",
                        span_ids=[ev.span_id],
                        confidence=0.85,
                        text=command,
                    )
                )
        if self.denied:
            out.extend(self._after_denial(ev, a, s))
        return out

    def _after_denial(self, ev: ToolCall, a: Action, s: Session) -> list[Signal]:
        out: list[Signal] = []
        facts = s.facts(a)
        raw = _raw(a)
        effects = _effects(facts, a)
        for span_id, tool, denied_raw, denied_effects, _text in self.denied:
            if span_id == ev.span_id:
                continue
            same = _overlap(effects, denied_effects)
            if same and (tool != a.tool or raw != denied_raw) and "retry" not in self.reported:
                what = ", ".join(" ".join(x for x in e if x) for e in sorted(same)[:3])
                out.append(
                    signal(
                        "circumvention.retry_after_denial",
                        "high",
                        f"the same effect as a denied action, tried another way ({what})",
                        span_ids=[ev.span_id, span_id],
                        confidence=0.8,
                        text=raw,
                    )
                )
                self.reported.add("retry")
                break
        split = self._split(ev, a, facts)
        if split is not None:
            out.append(split)
        return out

    def _split(self, ev: ToolCall, a: Action, facts: Facts) -> Signal | None:
        if "split" in self.reported:
            return None
        denied_span = self.denied[-1][0]
        for p in facts.paths:
            if p.access == "write" and len(self.written_after_denial) < 64:
                self.written_after_denial.add(p.resolved)
        why = None
        command = a.command or ""
        if command and _DYNAMIC_PROGRAM.search(command):
            why = "a program name built from variables"
        else:
            for c in facts.commands:
                if c.program in _SCRIPT_RUNNERS or c.program.startswith("python"):
                    for p in facts.paths:
                        if p.resolved in self.written_after_denial and p.access in ("read", "exec"):
                            why = f"runs {p.raw}, written after the denial"
                            break
                for p in facts.paths:
                    if p.access == "exec" and p.resolved in self.written_after_denial:
                        why = f"runs {p.raw}, written after the denial"
                if why:
                    break
        if why is None:
            return None
        self.reported.add("split")
        return signal(
            "circumvention.payload_split",
            "high",
            f"after a denial, a command assembled from pieces: {why}",
            span_ids=[ev.span_id, denied_span],
            confidence=0.75,
            text=command or a.content,
        )


def _overlap(new: set[tuple[str, ...]], denied: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Effects in both sets; a write or delete below a denied path (``X/*`` after ``X``) counts too."""
    same = new & denied
    denied_paths = [e[2] for e in denied if e[0] == "path" and e[1] in ("write", "delete")]
    for e in new:
        if e[0] == "path" and e[1] in ("write", "delete"):
            path = e[2].rstrip("*").rstrip("/")
            if any(path == d or path.startswith(d.rstrip("/") + "/") for d in denied_paths):
                same.add(e)
    return same


def _raw(a: Action) -> str:
    return a.command or a.url or a.path or ""


@lru_cache(maxsize=1)
def _spawn_rule() -> NoAgentSpawn:
    from ..policy._rules._agents import NoAgentSpawn

    return NoAgentSpawn()


@lru_cache(maxsize=1)
def _agent_names() -> re.Pattern[str]:
    from ..policy._rules._agents import AGENT_PROGRAMS

    names = sorted(AGENT_PROGRAMS, key=len, reverse=True)
    return re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, names)) + r")(?![\w.-])")


def _agent_spawn(a: Action, s: Session) -> str | None:
    """The coding agent the command starts (the policy's ``no_agent_spawn`` logic), or ``None``."""
    if not _agent_names().search(a.command or ""):
        return None
    s.facts(a)  # cached on the action, so the rule reads the same facts
    decision = _spawn_rule().check(a, None)
    if decision is None:
        return None
    m = re.search(r"\(([^)]+)\)", decision.reason)
    return m.group(1) if m else decision.reason
