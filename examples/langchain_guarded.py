"""A LangChain `create_agent` agent with AgentguardMiddleware, against agentguard's scripted server.

Run it with `.venv/bin/python examples/langchain_guarded.py` (needs `agentguard[langchain]` and
`langchain-openai`). The scripted model first asks to run a destructive command (denied: the model
reads why), then asks to deploy, which the policy asks a human about: with a checkpointer the graph is
interrupted, and resuming it with `Command(resume=True)` approves the call.
"""

from __future__ import annotations

import sys

from langchain.agents import create_agent
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

import agentguard as ag
from agentguard.demo import ScriptedServer, Step
from agentguard.integrations.langchain import AgentguardMiddleware


@tool
def run(command: str) -> str:
    """Run a shell command (this example only pretends to)."""
    return f"ran: {command}"


@tool
def deploy(target: str) -> str:
    """Deploy the service."""
    return f"deployed to {target}"


def ask_deploys(action: ag.Action, run: ag.RunState | None) -> ag.Decision | None:
    """Deploys need a human."""
    return ag.Decision.ask("deploys need a human") if action.tool == "deploy" else None


SCRIPT = [
    Step(tool_calls=[("run", {"command": "rm -rf ~"})]),
    Step(tool_calls=[("deploy", {"target": "staging"})]),
    Step(text="Deployed to staging."),
]


def main() -> int:
    telemetry = ag.configure(service_name="agentguard-langchain")
    ag.instrument_openai()
    policy = ag.Policy(rules=[ag.rules.destructive_commands(), ask_deploys])
    with ScriptedServer(SCRIPT) as server:
        model = ChatOpenAI(model="gpt-4o-mini-2024-07-18", base_url=server.base_url, api_key="unused")  # type: ignore[arg-type]
        agent = create_agent(
            model,
            [run, deploy],
            middleware=[AgentguardMiddleware(policy=policy)],
            checkpointer=InMemorySaver(),
        )
        config: RunnableConfig = {"configurable": {"thread_id": "example"}}

        @ag.guarded(name="deployer", task="deploy to staging")
        def session() -> str:
            first = agent.invoke({"messages": [{"role": "user", "content": "clean up, then deploy"}]}, config)
            for pending in first.get("__interrupt__", ()):
                print("interrupted for approval:", pending.value["tool"], "-", pending.value["reason"])
            result = agent.invoke(Command(resume=True), config)
            for message in result["messages"]:
                if message.type == "tool":
                    print(f"tool result the model read ({message.name}):", str(message.content)[:90])
            return str(result["messages"][-1].content)

        print("final answer:", session())
    telemetry.shutdown()
    from agentguard.cli import main as cli

    return cli(["runs", "--store", str(telemetry.store_path), "--limit", "1"])


if __name__ == "__main__":
    sys.exit(main())
