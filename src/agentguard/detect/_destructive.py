"""``destructive``: commands that destroy data, history or machines, and files emptied by a write.

- ``destructive.command``: what the policy's ``destructive_commands()`` rule would deny (``high``) or
  ask about (``medium``): recursive deletes outside the root, force pushes, ``git reset --hard``,
  ``mkfs``, ``DROP TABLE``... Decided on the normaliser's facts, so spellings do not matter;
- ``destructive.file_emptied`` (medium): a write that replaces a non-trivial file with (almost)
  nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from .._lazyre import lazy_compile
from ._engine import Detector, Session, signal
from ._events import ToolCall, ToolResult
from ._signal import Severity, Signal

if TYPE_CHECKING:
    from ..policy._rules._destructive import DestructiveCommands

_WORDS = lazy_compile(r"[\w.-]+")
_HINT_WORDS: Final = frozenset(
    {
        "rm",
        "rmdir",
        "srm",
        "unlink",
        "mv",
        "dd",
        "shred",
        "truncate",
        "chmod",
        "kill",
        "pkill",
        "killall",
        "killall5",
        "crontab",
        "redis-cli",
        "psql",
        "mysql",
        "mariadb",
        "sqlite3",
        "mongo",
        "mongosh",
        "systemctl",
        "reboot",
        "shutdown",
        "halt",
        "poweroff",
        "init",
        "wipefs",
        "fdisk",
        "sfdisk",
        "cfdisk",
        "gdisk",
        "sgdisk",
        "parted",
        "mkswap",
        "blkdiscard",
        "badblocks",
        "dropdb",
        "dropuser",
        "push",
        "reset",
        "clean",
        "filter-branch",
        "filter-repo",
        "reflog",
        "update-ref",
        "stash",
        "DROP",
        "drop",
        "TRUNCATE",
        "DELETE",
        "delete",
        "-delete",
        "FLUSHALL",
        "flushall",
        "FLUSHDB",
        "flushdb",
        "eval",
        "-exec",
        "-execdir",
        "xargs",
        "sudo",
    }
)


def _hinted(command: str) -> bool:
    """Whether the command names anything destructive (a word-set test; the facts decide)."""
    if "/dev/" in command or ":(){" in command or "mkfs" in command or "`" in command or "$(" in command:
        return True
    return not _HINT_WORDS.isdisjoint(_WORDS.findall(command))


@lru_cache(maxsize=1)
def _rule() -> DestructiveCommands:
    from ..policy._rules._destructive import DestructiveCommands

    return DestructiveCommands(opaque="ask")


class Destructive(Detector):
    category = "destructive"
    gated = True
    call_kinds = frozenset({"shell"})
    result_kinds = frozenset({"file_write"})

    def on_call(self, ev: ToolCall, s: Session) -> Iterable[Signal] | None:
        a = ev.action
        command = a.command
        if not command or not _hinted(command):
            return None
        facts = s.facts(a)
        decision = _rule().check(a, None)
        if decision is None:
            return None
        if decision.outcome != "deny" and facts.opaque and not facts.git:
            return None  # opaque commands are circumvention's business, not proof of destruction
        severity: Severity = "high" if decision.outcome == "deny" else "medium"
        return [
            signal(
                "destructive.command",
                severity,
                decision.reason,
                span_ids=[ev.span_id],
                confidence=0.85 if severity == "high" else 0.6,
                text=command,
            )
        ]

    def on_result(self, ev: ToolResult, s: Session) -> Iterable[Signal] | None:
        change = ev.change
        if change is None or ev.error is not None or change.old is None:
            return None
        old_len = len(change.old.strip())
        new_len = len((change.new or "").strip())
        if old_len >= 100 and new_len <= old_len // 10:
            return [
                signal(
                    "destructive.file_emptied",
                    "medium",
                    f"{change.path}: {old_len} characters replaced by {new_len}",
                    span_ids=[ev.span_id],
                    confidence=0.7,
                    text=change.old[:200],
                )
            ]
        return None
