"""``agentguard monitor``'s metrics scraped by a real Prometheus, and the monitor's Grafana dashboard.

A monitor process (``--prometheus-port 0``) reviews guarded runs exported by the SDK's OTLP/HTTP
exporter, in two waves a few scrapes apart (so ``increase()`` and ``rate()`` see a change);
Prometheus scrapes it every second. PromQL then returns ``agentguard_monitor_sessions_total`` by
state, the ``agentguard_monitor_review_latency_seconds`` histogram with the monitor's explicit
buckets, ``agentguard_monitor_coverage`` and ``agentguard_monitor_findings_total`` by category,
severity and reviewer; and every query of ``integrations/grafana/agentguard-monitor-dashboard.json``
returns data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Prometheus
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentguard as ag
from agentguard.fleet._telemetry import LATENCY_BUCKETS

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "integrations" / "grafana" / "agentguard-monitor-dashboard.json"
WAVE = 4
"""Guarded runs per wave; every second one runs a decoded command (a critical finding)."""
PENDING: dict[str, str] = {}
"""Panel queries allowed to be empty, with why (none)."""


class Fleet:
    def __init__(self, prometheus: Prometheus, instance: str) -> None:
        self.prometheus = prometheus
        self.sel = f'instance="{instance}"'


def _wave(endpoint: str, n: int) -> None:
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint + "/v1/traces", timeout=30)))
    guard = ag.Guard(tracer_provider=tp)

    @ag.tool(kind="shell", guard=guard)
    def run(command: str) -> str:
        return "ok"

    @ag.guarded(guard=guard, task="fix the parser test", name="fleet-agent")
    def agent(i: int) -> None:
        run("echo cm0gLXJmIH4= | base64 -d | sh" if i % 2 == 0 else "pytest -q")

    for i in range(n):
        agent(i)
    tp.shutdown()


def _reviewed(fleet: Fleet) -> float:
    result = fleet.prometheus.query(
        f'sum(agentguard_monitor_sessions_total{{{fleet.sel},agentguard_monitor_state="reviewed"}})'
    )
    return float(result[0]["value"][1]) if result else 0.0


def _until(fleet: Fleet, reviewed: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while _reviewed(fleet) < reviewed:
        if time.monotonic() > deadline:
            raise AssertionError(f"Prometheus never saw {reviewed} reviewed sessions")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def fleet(prometheus: Prometheus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    state = tmp_path_factory.mktemp("monitor-prometheus")
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentguard", "monitor", "--port", "0", "--prometheus-port", "0",
         "--state", str(state), "--settle", "0.2"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "; metrics on http://" in line, line
        otlp = line.split("OTLP/HTTP on ", 1)[1].split(" ", 1)[0]
        instance = line.split("; metrics on http://", 1)[1].split("/metrics", 1)[0]
        prometheus.scrape(instance)
        f = Fleet(prometheus, instance)
        prometheus.wait_for(f"agentguard_monitor_coverage{{{f.sel}}}")
        _wave(otlp, WAVE)
        _until(f, WAVE)
        time.sleep(3)  # a few scrapes of the first wave before the second
        _wave(otlp, WAVE)
        _until(f, 2 * WAVE)
        time.sleep(3)
        yield f
    finally:
        proc.terminate()
        proc.wait(30)


def _by(result: list[dict[str, Any]], label: str) -> dict[str, float]:
    return {r["metric"].get(label, ""): float(r["value"][1]) for r in result}


def test_sessions_coverage_and_findings_series(fleet: Fleet) -> None:
    q, sel = fleet.prometheus.query, fleet.sel
    states = _by(q(f"agentguard_monitor_sessions_total{{{sel}}}"), "agentguard_monitor_state")
    assert states == {"seen": 2 * WAVE, "reviewed": 2 * WAVE}  # no judges: no "judged" series
    assert _by(q(f"agentguard_monitor_coverage{{{sel}}}"), "") == {"": 1.0}
    found = q(f"agentguard_monitor_findings_total{{{sel}}}")
    labels = {
        (r["metric"]["agentguard_signal_category"], r["metric"]["agentguard_signal_severity"],
         r["metric"]["agentguard_monitor_reviewer"]): float(r["value"][1])
        for r in found
    }  # fmt: skip
    assert labels[("circumvention", "critical", "rules")] == WAVE  # one per decoded command
    assert all(not k.startswith("gen_ai_conversation") for r in found for k in r["metric"])  # low cardinality


def test_review_latency_is_a_histogram_with_the_explicit_buckets(fleet: Fleet) -> None:
    q, sel = fleet.prometheus.query, fleet.sel
    buckets = _by(q(f"agentguard_monitor_review_latency_seconds_bucket{{{sel}}}"), "le")
    assert sorted(float(le) for le in buckets) == sorted([*LATENCY_BUCKETS, float("inf")])
    assert buckets["+Inf"] == 2 * WAVE
    counts = [buckets[le] for le in sorted(buckets, key=float)]
    assert counts == sorted(counts)  # cumulative
    assert _by(q(f"agentguard_monitor_review_latency_seconds_count{{{sel}}}"), "") == {"": 2 * WAVE}
    (total,) = _by(q(f"agentguard_monitor_review_latency_seconds_sum{{{sel}}}"), "").values()
    assert 0 < total < 2 * WAVE * 60  # seconds, from session end to verdict
    p95 = q(
        f"histogram_quantile(0.95, sum by (le) (agentguard_monitor_review_latency_seconds_bucket{{{sel}}}))"
    )
    assert 0 < float(p95[0]["value"][1]) <= 60


def queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel.get("targets", [])
    ]


def concrete(expr: str) -> str:
    """Grafana's range variables replaced by fixed windows (the fleet ran seconds ago)."""
    return expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$__interval", "15s")


def test_the_monitor_dashboard_covers_its_metrics() -> None:
    exprs = " ".join(expr for _, expr in queries())
    for metric in (
        "agentguard_monitor_sessions_total",
        "agentguard_monitor_review_latency_seconds_bucket",
        "agentguard_monitor_coverage",
        "agentguard_monitor_findings_total",
    ):
        assert metric in exprs
    assert set(PENDING) <= {expr for _, expr in queries()}


def test_every_monitor_dashboard_query_returns_data(fleet: Fleet) -> None:
    results = {expr: fleet.prometheus.query(concrete(expr)) for _, expr in queries()}
    empty = sorted(
        f"[{title}] {expr}" for title, expr in queries() if not results[expr] and expr not in PENDING
    )
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
    nonzero = [title for title, expr in queries() if any(float(r["value"][1]) > 0 for r in results[expr])]
    assert "Findings by severity" in nonzero and "Reviewed within 5 s" in nonzero  # the second wave counted
