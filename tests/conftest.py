from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentguard.testing import CapturingGuard
from approval_queues import Queue
from postgres_server import PostgresServer


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


# --- the approvals queue on both backends -------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """A real PostgreSQL on 127.0.0.1 (tests/postgres_server.py), started once per session when asked."""
    server = PostgresServer(log_dir=request.config.rootpath / "test-output" / "components")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL (with its password) of a new, empty database on the session's PostgreSQL."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.components)])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Queue:
    """The same approvals queue semantics, once on a SQLite file and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return Queue("sqlite", path=tmp_path / "approvals.db")
    return Queue("postgresql", url=request.getfixturevalue("postgres_url"))
