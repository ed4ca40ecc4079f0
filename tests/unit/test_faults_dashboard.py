"""The dashboard server under hostile clients: bad numbers, silent connections, a flood of them."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentguard.dashboard import DashboardApi, DashboardServer, StoreSource
from agentguard.dashboard._server import _int


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DashboardServer]:
    api = DashboardApi(StoreSource(tmp_path / "agentguard.db"))
    with DashboardServer(api, workers=2, backlog=1, request_timeout_s=0.5) as running:
        yield running


@pytest.mark.parametrize(
    "query",
    ["range=1e23", "range=100000000000000000000000", "range=-5", "range=3.5", "range=0x10", "offset=-1",
     "limit=0", "limit=99999999999999999999", "range=%E2%91%A0"],
)  # fmt: skip
def test_numbers_out_of_range_or_not_integers_are_a_400_with_a_reason(
    server: DashboardServer, query: str
) -> None:
    path = "api/triage?" if query.startswith(("offset", "limit")) else "api/panel/overview?"
    status, body = get(server.url + path + query)
    assert status == 400
    assert "must be" in json.loads(body)["error"]


def test_valid_ranges_still_answer(server: DashboardServer) -> None:
    assert get(server.url + "api/panel/overview?range=3600")[0] == 200
    assert get(server.url + "api/triage?range=0&offset=0&limit=5")[0] == 200


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_any_query_value_is_a_number_in_range_or_refused(text: str) -> None:
    try:
        value = _int({"range": [text]}, "range", 0, low=0, high=10**9)
    except ValueError:
        return
    assert 0 <= value <= 10**9


def test_a_silent_connection_is_closed_after_the_request_timeout(server: DashboardServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        started = time.monotonic()
        assert conn.recv(1024) == b""  # the server hung up without an answer
        assert time.monotonic() - started < 3


def test_connections_beyond_the_pool_get_503_and_the_server_recovers(server: DashboardServer) -> None:
    # Two workers and one waiting slot: three silent clients fill them, the fourth is turned away.
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as extra:
            assert extra.recv(1024).startswith(b"HTTP/1.0 503")
    finally:
        for conn in silent:
            conn.close()
    deadline = time.monotonic() + 5
    while get(server.url + "api/meta")[0] != 200:
        assert time.monotonic() < deadline, "the server never recovered"
        time.sleep(0.1)
