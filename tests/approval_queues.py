"""One approvals queue, on SQLite or on PostgreSQL: what the tests that run on both backends are given
(the ``queue`` fixture in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentguard.approval import ApprovalStore, QueueApprover


@dataclass(frozen=True)
class Queue:
    """One approvals queue, on SQLite (``path``) or PostgreSQL (``url``), for tests run on both."""

    backend: str
    path: Path | None = None
    url: str | None = None

    def open(self, **options: Any) -> ApprovalStore:
        return ApprovalStore(self.path, url=self.url, **options)

    def approver(self, **options: Any) -> QueueApprover:
        return QueueApprover(self.path, url=self.url, **options)

    @property
    def argv(self) -> list[str]:
        """How ``agentguard approvals`` is pointed at it."""
        return ["--url", self.url] if self.url is not None else ["--store", str(self.path)]
