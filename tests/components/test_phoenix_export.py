"""Guarded runs exported with the real OTLP/HTTP exporter land in a real Arize Phoenix.

The spans are read back through Phoenix's REST API (``GET /v1/projects/{project}/spans``): what a user
sees in the backend is the same tree, names and attributes agentguard produced.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from harness import LLMServer, Phoenix
from openai import OpenAI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import agentguard
from agentguard.telemetry import semconv as sc

pytestmark = pytest.mark.components


class Exported:
    """A guard whose spans go to Phoenix over OTLP/HTTP, in a project of its own."""

    def __init__(self, phoenix: Phoenix) -> None:
        self.phoenix = phoenix
        self.project = f"agentguard-test-{uuid.uuid4().hex[:12]}"
        resource = Resource.create(
            {"service.name": "agentguard-tests", "openinference.project.name": self.project}
        )
        self.provider = TracerProvider(resource=resource)
        # the batch processor users run, with a queue that cannot overflow in a test
        self.provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=phoenix.traces_endpoint, timeout=30), max_queue_size=4096
            )
        )
        self.guard = agentguard.Guard(tracer_provider=self.provider)

    def spans(self, count: int) -> dict[str, dict[str, Any]]:
        """Flush, then wait until Phoenix holds ``count`` spans; keyed by span name (names are unique)."""
        assert self.provider.force_flush(30_000), "the OTLP exporter did not flush"
        spans = self.phoenix.wait_for_spans(self.project, count)
        assert len(spans) == count, [s["name"] for s in spans]
        by_name = {s["name"]: s for s in spans}
        assert len(by_name) == count, "span names are unique in these runs"
        return by_name


@pytest.fixture
def exported(phoenix: Phoenix) -> Iterator[Exported]:
    e = Exported(phoenix)
    try:
        yield e
    finally:
        e.provider.shutdown()


def span_id(span: dict[str, Any]) -> str:
    return str(span["context"]["span_id"])


def assert_child(span: dict[str, Any], parent: dict[str, Any]) -> None:
    assert span["parent_id"] == span_id(parent), f"{span['name']} is not a child of {parent['name']}"
    assert span["context"]["trace_id"] == parent["context"]["trace_id"]


@agentguard.tool(kind="file_read")
def read_file(path: str) -> str:
    """Read a file (a fake one)."""
    return f"contents of {path}"


@agentguard.tool(kind="shell", name="run")
def run_command(command: str) -> str:
    """Run a shell command (always fails here)."""
    raise RuntimeError(f"{command}: command not found")


def test_guarded_run_lands_in_phoenix_with_tree_names_and_attributes(exported: Exported) -> None:
    @agentguard.guarded(guard=exported.guard, name="fixer", task="fix the failing parser test")
    def agent() -> str:
        text = read_file("src/parser.py")
        with contextlib.suppress(RuntimeError):  # the agent recovers; the tool span records the error
            run_command("pytest -q")
        return text

    agent()

    spans = exported.spans(3)
    root, read, run = spans["invoke_agent fixer"], spans["execute_tool read_file"], spans["execute_tool run"]
    assert root["parent_id"] is None
    assert_child(read, root)
    assert_child(run, root)

    r = root["attributes"]
    assert r[sc.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert r[sc.GEN_AI_AGENT_NAME] == "fixer"
    assert r[sc.TASK] == "fix the failing parser test"
    assert len(r[sc.RUN_ID]) == 32
    assert sc.GEN_AI_CONVERSATION_ID not in r  # no conversation named: the run id is not one
    assert r[sc.RUN_TOOL_CALLS] == 2
    assert r[sc.RUN_LLM_CALLS] == 0
    assert root["status_code"] != "ERROR"

    assert read["attributes"][sc.GEN_AI_TOOL_NAME] == "read_file"
    assert read["attributes"][sc.TOOL_KIND] == "file_read"
    assert read["attributes"][sc.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert read["status_code"] != "ERROR"
    assert run["attributes"][sc.TOOL_KIND] == "shell"
    assert run["status_code"] == "ERROR"
    assert run["attributes"].get(sc.ERROR_TYPE) == "RuntimeError"


def test_failed_run_is_an_error_span_in_phoenix(exported: Exported) -> None:
    @agentguard.guarded(guard=exported.guard, name="crasher")
    def agent() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        agent()

    (root,) = exported.spans(1).values()
    assert root["name"] == "invoke_agent crasher"
    assert root["status_code"] == "ERROR"


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


@agentguard.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_llm_run_with_tool_call_lands_in_phoenix(
    exported: Exported, llm_server: LLMServer, instrumented_openai: None
) -> None:
    client = OpenAI(base_url=llm_server.base_url, api_key="local", max_retries=0, timeout=120)

    @agentguard.guarded(guard=exported.guard, name="calculator")
    def agent() -> int:
        r = client.chat.completions.create(
            model=llm_server.model,
            messages=[{"role": "user", "content": "What is 2 + 3? Use the add tool."}],
            tools=[ADD],
            tool_choice={"type": "function", "function": {"name": "add"}},
            max_tokens=48,
        )
        (call,) = r.choices[0].message.tool_calls or []
        return int(add(**json.loads(call.function.arguments)))

    agent()
    client.close()

    spans = exported.spans(3)
    root = spans["invoke_agent calculator"]
    chat = spans[f"chat {llm_server.model}"]
    tool = spans["execute_tool add"]
    assert_child(chat, root)
    assert_child(tool, root)

    c = chat["attributes"]
    assert c[sc.GEN_AI_OPERATION_NAME] == "chat"
    assert c[sc.GEN_AI_REQUEST_MODEL] == llm_server.model
    assert c[sc.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert c[sc.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert list(c[sc.GEN_AI_RESPONSE_FINISH_REASONS]) == ["tool_calls"]
    (event,) = [e for e in chat["events"] if e["name"] == sc.EVENT_TOOL_CALL]
    assert event["attributes"][sc.GEN_AI_TOOL_NAME] == "add"
    assert tool["attributes"][sc.GEN_AI_TOOL_CALL_ID] == event["attributes"][sc.GEN_AI_TOOL_CALL_ID]

    r = root["attributes"]
    assert r[sc.RUN_LLM_CALLS] == 1
    assert r[sc.RUN_TOOL_CALLS] == 1
    assert r[sc.RUN_INPUT_TOKENS] == c[sc.GEN_AI_USAGE_INPUT_TOKENS]
