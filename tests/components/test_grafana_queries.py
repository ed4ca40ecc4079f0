"""Every PromQL query of the Grafana dashboard returns data from a real Prometheus scraping a real run.

The run is the demo scenario (see ``test_dashboard_browser.py``): the real ``openai`` SDK against
``ScriptedServer``, real tools, a real policy with an approver, the online detectors; its metrics are
served by ``opentelemetry-exporter-prometheus`` (``agentguard.configure(prometheus_port=0)``) and
scraped every second by the session's Prometheus.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Prometheus
from test_dashboard_browser import ROOT, scenario_command, scenario_env

DASHBOARD = ROOT / "integrations" / "grafana" / "agentguard-dashboard.json"
PANEL_TITLES = (
    "Refusal rate",
    "Cost",
    "Tool calls",
    "Policy decisions",
    "Approvals",
    "Scope violations",
    "Signals",
    "Triage",
)
# Queries allowed to return nothing, and why: none. The test fails if any panel query is empty.
PENDING: dict[str, str] = {}
"""Panel queries allowed to be empty, with why (none: every panel query must return data)."""


def queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel.get("targets", [])
    ]


def concrete(expr: str) -> str:
    """Grafana's range variables replaced by fixed windows (the run happened seconds ago)."""
    return expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$__interval", "15s")


@pytest.fixture(scope="module")
def scraped_run(prometheus: Prometheus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    tmp = tmp_path_factory.mktemp("grafana-run")
    proc = subprocess.Popen(
        scenario_command(tmp, tmp / "agentguard.db", prometheus_port=0),
        env=scenario_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        output = []
        for line in proc.stdout:
            output.append(line)
            if line.startswith("READY "):
                break
        else:
            pytest.fail("the scenario run ended before serving metrics:\n" + "".join(output))
        port = int(line.split()[1])
        prometheus.scrape(f"127.0.0.1:{port}")
        prometheus.wait_for("agentguard_runs_total", timeout=60)
        time.sleep(4)  # a few more scrapes, so increase()/rate() have two samples in their window
        yield prometheus
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_dashboard_has_the_local_dashboards_panels() -> None:
    titles = [p["title"] for p in json.loads(DASHBOARD.read_text())["panels"]]
    for title in PANEL_TITLES:
        assert title in titles
    assert set(PENDING) <= {expr for _, expr in queries()}


def test_every_query_returns_data(scraped_run: Prometheus) -> None:
    results: dict[str, list[dict[str, Any]]] = {}
    for _, expr in queries():
        results[expr] = scraped_run.query(concrete(expr))
    empty = sorted(
        f"[{title}] {expr}" for title, expr in queries() if not results[expr] and expr not in PENDING
    )
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
    now_with_data = sorted(expr for expr in PENDING if results[expr])
    assert now_with_data == [], (
        "pending queries that return data now (remove them from PENDING):\n" + "\n".join(now_with_data)
    )


def test_the_collector_config_wires_traces_and_metrics() -> None:
    text = (ROOT / "integrations" / "otel-collector" / "config.yaml").read_text()
    for needle in ("otlp:", "file/traces:", "format: json", "prometheus:", "otlphttp/traces:"):
        assert needle in text
    assert Path(ROOT / "integrations" / "README.md").is_file()
