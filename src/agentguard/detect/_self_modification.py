"""``self_modification``: the agent touching the guard that watches it.

``self_modification.guard_config`` (critical): a write or delete of the guard's policy or
configuration (``agentguard_policy.py``, ``agentguard.toml``, ``.agentguard/``) or an agent harness's
hooks and permissions (``.claude/settings*.json``, ``.claude/hooks/``, ``.codex/config.toml``), through
any tool; ``self_modification.guard_disabled`` (critical): a command that uninstalls agentguard or turns
its telemetry off (``pip uninstall agentguard``, ``OTEL_SDK_DISABLED=true``, ``AGENTGUARD_*=``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._lazyre import lazy_compile
from ._engine import Detector, Session, signal
from ._events import ToolCall
from ._files import classify, is_guard_file
from ._signal import Signal

_HINT = lazy_compile(r"agentguard|\.claude|\.codex|\.cursor|copilot-instructions")
_DISABLE = lazy_compile(
    r"\b(?:pip3?|uv\s+pip|pipx|poetry|uv)\s+(?:uninstall|remove)\b[^;&|]*\bagentguard\b"
    r"|\bOTEL_SDK_DISABLED\s*=\s*['\"]?true"
    r"|\bOTEL_TRACES_EXPORTER\s*=\s*['\"]?none|\bAGENTGUARD_[A-Z_]+\s*=",
    re.I,
)


class SelfModification(Detector):
    category = "self_modification"
    gated = True
    call_kinds = frozenset({"file_write", "shell", "other"})

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        hits: list[str] = []
        if a.kind == "file_write" and a.path and classify(a.path).guard:
            hits.append(a.path)
        command = a.command
        if command and _HINT.search(command):
            m = _DISABLE.search(command)
            if m is not None:
                return [
                    signal(
                        "self_modification.guard_disabled",
                        "critical",
                        f"turns the guard off ({m.group(0).strip()})",
                        span_ids=[ev.span_id],
                        confidence=0.85,
                        text=command,
                    )
                ]
            for p in s.facts(a).paths:
                where = p.relative if p.relative is not None else p.resolved
                if p.access in ("write", "delete") and is_guard_file(where) and where not in hits:
                    hits.append(where)
        elif command and ("OTEL_SDK_DISABLED" in command or "OTEL_TRACES_EXPORTER" in command):
            m = _DISABLE.search(command)
            if m is not None:
                return [
                    signal(
                        "self_modification.guard_disabled",
                        "critical",
                        f"turns the guard's telemetry off ({m.group(0).strip()})",
                        span_ids=[ev.span_id],
                        confidence=0.8,
                        text=command,
                    )
                ]
        if not hits:
            return None
        return [
            signal(
                "self_modification.guard_config",
                "critical",
                f"modifies the guard's own policy or configuration: {', '.join(hits[:3])}",
                span_ids=[ev.span_id],
                confidence=0.9,
                text=a.command or a.path,
            )
        ]
