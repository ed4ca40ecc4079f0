from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentguard.testing import CapturingGuard


@pytest.fixture
def cap() -> Iterator[CapturingGuard]:
    """A guard with in-memory span and metric exporters, fresh for each test."""
    c = CapturingGuard()
    yield c
    c.shutdown()


@pytest.fixture
def cap_unsampled() -> Iterator[CapturingGuard]:
    """The same, but every span is sampled out (metrics must still be recorded)."""
    c = CapturingGuard(sampled=False)
    yield c
    c.shutdown()
