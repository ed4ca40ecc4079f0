"""A guarded OpenAI Agents SDK agent against agentguard's scripted OpenAI-compatible server.

Run it with `.venv/bin/python examples/openai_agents_guarded.py` (needs `agentguard[openai-agents]`).
The scripted model asks to write outside the workspace's `src/`, is told why it was denied, writes
inside `src/` instead and finishes; the trace goes to the local store (`agentguard runs` lists it).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_trace_processors
from openai import AsyncOpenAI

import agentguard as ag
from agentguard.demo import ScriptedServer, Step
from agentguard.integrations.openai_agents import guard, processor

WORKDIR = Path(tempfile.mkdtemp(prefix="agentguard-agents-"))


@function_tool
def write_file(path: str, content: str) -> str:
    """Write a text file in the workspace."""
    target = WORKDIR / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content)} bytes to {path}"


SCRIPT = [
    Step(tool_calls=[("write_file", {"path": "/etc/motd", "content": "hello"})]),
    Step(tool_calls=[("write_file", {"path": "src/motd.txt", "content": "hello"})]),
    Step(text="Wrote src/motd.txt (writing /etc/motd was outside the workspace)."),
]


def main() -> int:
    # spans into the local store (.agentguard/), or over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
    telemetry = ag.configure(service_name="agentguard-openai-agents")
    ag.instrument_openai()
    set_trace_processors([processor()])  # agentguard's processor only: no export to the vendor's endpoint
    policy = ag.Policy(scope=ag.Scope(root=str(WORKDIR), write=["src/**"], read=["**"]))
    with ScriptedServer(SCRIPT) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="unused")
        model = OpenAIChatCompletionsModel(model="gpt-4o-mini-2024-07-18", openai_client=client)
        agent = guard(Agent(name="motd-writer", tools=[write_file], model=model), policy=policy)
        result = Runner.run_sync(agent, "Put a message of the day in place.")
        for message in server.requests[-1]["messages"]:  # the last request carries the whole conversation
            if message.get("role") == "tool":
                print("tool result the model read:", str(message["content"])[:100])
    telemetry.shutdown()
    print("final output:", result.final_output)
    print("files written:", sorted(str(p.relative_to(WORKDIR)) for p in WORKDIR.rglob("*") if p.is_file()))
    from agentguard.cli import main as cli

    return cli(["runs", "--store", str(telemetry.store_path), "--limit", "3"])


if __name__ == "__main__":
    sys.exit(main())
