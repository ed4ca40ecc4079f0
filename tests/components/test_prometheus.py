"""agentguard's metrics, served by ``opentelemetry-exporter-prometheus``, scraped by a real Prometheus.

A guarded agent makes real LLM calls (local llama.cpp server) and tool calls; Prometheus scrapes the
process every second and PromQL queries return the token-usage, cost, LLM-call and tool-call series.
Names follow the exporter's translation: dots become underscores, counters get ``_total``, histograms
``_bucket``/``_sum``/``_count``, and the ``s`` unit becomes ``_seconds`` (annotation units such as
``{token}`` are dropped).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from harness import LLMServer, Prometheus, free_port
from openai import OpenAI
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, start_http_server

import agentguard

pytestmark = pytest.mark.components

# made-up prices in USD per million tokens: the local model is in no price table, and an unknown
# model has no cost at all
INPUT_PRICE, OUTPUT_PRICE = 100.0, 200.0


class Scraped:
    """A guard whose metrics Prometheus scrapes from a fresh registry on a free port."""

    def __init__(self, prometheus: Prometheus, model: str) -> None:
        from agentguard.spend import Price, PriceBook  # here, not at import: a missing name fails one test

        self.registry = CollectorRegistry()  # not the global REGISTRY: nothing else leaks in
        self.meter_provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=self.registry)])
        self.tracer_provider = TracerProvider()
        self.guard = agentguard.Guard(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            prices=PriceBook(overrides={model: Price(input=INPUT_PRICE, output=OUTPUT_PRICE)}),
        )
        self.port = free_port()
        self.server, self.thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self.instance = f"127.0.0.1:{self.port}"
        prometheus.scrape(self.instance)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
        self.meter_provider.shutdown()
        self.tracer_provider.shutdown()


@pytest.fixture
def scraped(prometheus: Prometheus, llm_server: LLMServer) -> Iterator[Scraped]:
    s = Scraped(prometheus, llm_server.model)
    try:
        yield s
    finally:
        s.close()


@agentguard.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@agentguard.tool(kind="file_read")
def read_file(path: str) -> str:
    """Read a file (a fake one)."""
    return f"contents of {path}"


ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two integers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"],
        },
    },
}


def values(result: list[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], float]:
    """Series labels (without job/instance) -> value."""
    return {
        tuple(
            sorted((k, v) for k, v in r["metric"].items() if k not in ("job", "instance", "__name__"))
        ): float(r["value"][1])
        for r in result
    }


def test_token_cost_and_tool_series_reach_prometheus(
    scraped: Scraped, prometheus: Prometheus, llm_server: LLMServer, instrumented_openai: None
) -> None:
    client = OpenAI(base_url=llm_server.base_url, api_key="local", max_retries=0, timeout=120)

    @agentguard.guarded(guard=scraped.guard, name="metered")
    def agent() -> None:
        client.chat.completions.create(
            model=llm_server.model, messages=[{"role": "user", "content": "Say hi."}], max_tokens=8
        )
        r = client.chat.completions.create(
            model=llm_server.model,
            messages=[{"role": "user", "content": "What is 2 + 3? Use the add tool."}],
            tools=[ADD],
            tool_choice={"type": "function", "function": {"name": "add"}},
            max_tokens=48,
        )
        for call in r.choices[0].message.tool_calls or []:
            add(**json.loads(call.function.arguments))
        read_file("README.md")
        read_file("pyproject.toml")

    agent()
    client.close()
    sel = f'{{instance="{scraped.instance}"}}'

    # the run counter is recorded when the run ends: once a scrape has it, every later sample of the
    # other series is complete (one scrape reads them all at once)
    runs = prometheus.wait_for(f"agentguard_runs_total{sel}")
    assert [
        (r["metric"]["gen_ai_agent_name"], r["metric"]["agentguard_outcome"], r["value"][1]) for r in runs
    ] == [("metered", "ok", "1")]

    # token usage histogram: one series per token type, two calls each
    tokens = values(prometheus.query(f"gen_ai_client_token_usage_count{sel}"))
    by_type = {dict(k)["gen_ai_token_type"]: v for k, v in tokens.items()}
    assert by_type == {"input": 2.0, "output": 2.0}
    token_sum = values(prometheus.query(f"sum by (gen_ai_token_type) (gen_ai_client_token_usage_sum{sel})"))
    assert all(v > 0 for v in token_sum.values()) and len(token_sum) == 2
    assert prometheus.query(f"gen_ai_client_token_usage_bucket{sel}")
    assert prometheus.query(f"gen_ai_client_operation_duration_seconds_count{sel}")

    # cost: the override prices every call, so the counter is positive and matches the tokens
    (cost,) = values(prometheus.query(f"sum(agentguard_cost_total{sel})")).values()
    by_type_sum = {dict(k)["gen_ai_token_type"]: v for k, v in token_sum.items()}
    expected = (by_type_sum["input"] * INPUT_PRICE + by_type_sum["output"] * OUTPUT_PRICE) / 1e6
    assert cost == pytest.approx(expected, rel=1e-6)

    # calls by kind and tool: low-cardinality labels only
    llm_calls = values(prometheus.query(f"sum(agentguard_llm_calls_total{sel})"))
    assert list(llm_calls.values()) == [2.0]
    tool_calls = values(
        prometheus.wait_for(f"sum by (agentguard_tool_kind) (agentguard_tool_calls_total{sel})")
    )
    assert {dict(k)["agentguard_tool_kind"]: v for k, v in tool_calls.items()} == {
        "other": 1.0,
        "file_read": 2.0,
    }


def series(result: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(agent, repository) -> value."""
    return {
        (r["metric"]["gen_ai_agent_name"], r["metric"]["vcs_repository_name"]): float(r["value"][1])
        for r in result
    }


def test_the_monitors_fleet_trends_reach_prometheus(prometheus: Prometheus, tmp_path: Any) -> None:
    """The monitor's agentguard.fleet.* gauges per agent and repository, scraped by a real Prometheus."""
    from test_dashboard_browser import _fleet_journal

    from agentguard.fleet import Monitor, MonitorConfig

    state = tmp_path / "monitor"
    _fleet_journal(state)  # two agents over eight days; coder's pass rate spikes on test-only edits
    registry = CollectorRegistry()
    meter_provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    instance = f"127.0.0.1:{port}"
    monitor = Monitor(
        MonitorConfig(state_dir=state, port=None, trends_every_s=0.1), meter_provider=meter_provider
    )
    try:
        with monitor:
            prometheus.scrape(instance)
            sel = f'{{instance="{instance}"}}'
            spikes = series(prometheus.wait_for(f"agentguard_fleet_pass_rate_spikes{sel}"))
            rates = series(prometheus.wait_for(f"agentguard_fleet_test_pass_rate{sel}"))
            share = series(prometheus.query(f"agentguard_fleet_change_source_share{sel}"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        meter_provider.shutdown()
    coder, fixer = ("coder", "parser"), ("fixer", "web")
    assert spikes == {coder: 1.0, fixer: 0.0}
    assert rates[coder] == 1.0 and 0.0 <= rates[fixer] <= 1.0
    assert share[coder] == 0.0 and share[fixer] == 1.0
