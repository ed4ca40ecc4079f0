"""The ``agentguard`` command line (STUB: being written)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError
