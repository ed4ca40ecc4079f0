"""Quick start: a guarded tool-using agent on the real `openai` SDK, traced into the local store.

Run it with `.venv/bin/python examples/quickstart.py` (`make demo` or `make venv` creates `.venv`).
With no `OPENAI_BASE_URL`, it starts agentguard's scripted OpenAI-compatible server on 127.0.0.1, so no
key or model is needed; set `OPENAI_BASE_URL`/`OPENAI_API_KEY`/`AGENTGUARD_MODEL` to use a real
endpoint instead. It records into `.agentguard/agentguard.db` and ends by listing the run, as
`.venv/bin/agentguard runs` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from openai import OpenAI

import agentguard as ag
from agentguard.demo import ScriptedServer, Step

WORKDIR = Path(tempfile.mkdtemp(prefix="agentguard-quickstart-"))


@ag.tool(kind="file_write")
def write_file(path: str, content: str) -> str:
    """Write a text file in the workspace."""
    target = WORKDIR / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    return f"wrote {len(content)} bytes to {path}"


@ag.tool(kind="shell")
def run(command: str) -> str:
    """Run a shell command in the workspace."""
    done = subprocess.run(
        command, shell=True, cwd=WORKDIR, capture_output=True, text=True, timeout=60, check=False
    )
    return f"exit {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"


def _schema(name: str, description: str, **params: str) -> dict[str, Any]:
    properties = {p: {"type": t} for p, t in params.items()}
    parameters = {"type": "object", "properties": properties, "required": list(params)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


TOOLS = [
    _schema("write_file", "Write a text file.", path="string", content="string"),
    _schema("run", "Run a shell command.", command="string"),
]
REGISTRY = {"write_file": write_file, "run": run}


@ag.guarded(task="add a greeting module and check it runs")
def agent(client: OpenAI, model: str, goal: str) -> str:
    messages: list[Any] = [{"role": "user", "content": goal}]
    for _ in range(8):
        reply = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append({"role": "assistant", "content": message.content or "",
                         "tool_calls": [c.model_dump() for c in message.tool_calls]})  # fmt: skip
        for call in message.tool_calls:
            result = REGISTRY[call.function.name](**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    return "gave up after 8 turns"


SCRIPT = [
    Step(tool_calls=[("write_file", {"path": "greet.py", "content": "print('hello from the agent')\n"})]),
    Step(tool_calls=[("run", {"command": f"{sys.executable} greet.py"})]),
    Step(text="Added greet.py; running it prints the greeting."),
]


def main() -> int:
    telemetry = ag.configure(service_name="agentguard-quickstart")
    ag.instrument_openai()
    base_url = os.environ.get("OPENAI_BASE_URL")
    server = None if base_url else ScriptedServer(SCRIPT)
    try:
        client = OpenAI(
            base_url=base_url or server.base_url, api_key=os.environ.get("OPENAI_API_KEY", "local")
        )  # type: ignore[union-attr]
        model = os.environ.get("AGENTGUARD_MODEL", "gpt-4o-mini")
        answer = agent(client, model, "Add greet.py that prints a greeting, then run it.")
    finally:
        if server is not None:
            server.close()
        telemetry.shutdown()
    print(f"agent answered: {answer}")
    shutil.rmtree(WORKDIR, ignore_errors=True)  # the scratch workspace; the trace is in the store
    print(f"spans stored in: {telemetry.store_path}\n")
    from agentguard.cli import main as cli

    return cli(["runs", "--store", str(telemetry.store_path), "--limit", "5"])


if __name__ == "__main__":
    sys.exit(main())
