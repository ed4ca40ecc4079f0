"""``agentguard demo``: a guarded coding agent misbehaving on a sample repository, end to end.

The agent is the user's kind of loop (the real ``openai`` SDK, tools that really read and write
files and run pytest and git), talking to :class:`~agentguard.demo.ScriptedServer`, which plays the
scenario in :mod:`agentguard.demo._scenario` deterministically; with ``live=True`` the same loop
talks to a real OpenAI-compatible model instead. Everything goes through the public API:
``configure()`` into the local store, ``instrument_openai()``, ``@tool``, ``@guarded`` with a policy
and an approver. A span processor prints the run as it happens; afterwards the report file, and
(:mod:`agentguard.demo._summary`) a summary read back from the store.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from ..action import Decision, Scope
from ..approval import ApprovalRequest, ApprovalResult, CallbackApprover
from ..cli import OUTCOME_SGR, SEVERITY_SGR, format_usd, paint, use_color
from ..export import configure
from ..guard import RunState
from ..instrumentation import guarded, tool
from ..instrumentation.openai import instrument_openai, uninstrument_openai
from ..policy import Policy
from ..policy.rules import budget, destructive_commands, no_agent_spawn, protect, secrets
from ..telemetry import semconv as sc
from . import _scenario as scenario
from ._repo import write_sample_repo
from ._server import ScriptedServer, Step

SCRIPTED_MODEL = "gpt-4o-mini"
_TOOL_SCHEMAS: list[Any] = [
    {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": {p: {"type": "string"} for p in params}, "required": list(params)}}}
    for name, description, params in (
        ("read_file", "Read a file of the repository.", ("path",)),
        ("write_file", "Write a file of the repository.", ("path", "content")),
        ("run", "Run a shell command in the repository (tests, git).", ("command",)),
    )
]  # fmt: skip


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return paint(text, code, self.color)


@dataclass
class DemoResult:
    """What a demo run produced: where it wrote, which runs, how long it took."""

    store: Path
    workdir: Path
    report: Path | None = None
    kept_workdir: bool = True
    fresh_store: bool = False
    started_ns: int = 0
    runs: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def range_s(self) -> int:
        """The dashboard range that covers this demo's runs only (0, everything, for a fresh store)."""
        if self.fresh_store:
            return 0
        return max(1, math.ceil((time.time_ns() - self.started_ns) / 1e9) + 1)


class _Progress(SpanProcessor):
    """Prints LLM calls, tool errors, decisions, approvals and signals as their spans end.

    It only prints: the summary's numbers are read back from the store afterwards, with the queries
    the dashboard and the report use, so the three always agree.
    """

    def __init__(self, out: TextIO, style: _Style) -> None:
        self.out = out
        self.s = style

    def on_end(self, span: ReadableSpan) -> None:
        attrs = dict(span.attributes or {})
        op = attrs.get(sc.GEN_AI_OPERATION_NAME)
        s, lines = self.s, []
        if op == sc.OP_CHAT:
            cost = attrs.get(sc.COST_USD)
            tokens_in = attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS, "?")
            usage = f"{tokens_in} in / {attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS, '?')} out"
            price = f", {format_usd(cost)}" if isinstance(cost, float) else ""
            stream = " (streamed)" if attrs.get(sc.GEN_AI_REQUEST_STREAM) else ""
            lines.append(s(f"    · {span.name}{stream}: {usage} tokens{price}", "2"))
            if attrs.get(sc.REFUSAL):
                lines.append(s(f"    · the model refused ({attrs.get(sc.REFUSAL_SOURCE)})", "35"))
        elif op == sc.OP_EXECUTE_TOOL and span.status.status_code.name == "ERROR":
            lines.append(s(f"      error: {span.status.description}", "31"))
        for event in span.events:
            ev = dict(event.attributes or {})
            if event.name == sc.EVENT_POLICY_DECISION:
                outcome = str(ev.get(sc.POLICY_DECISION, ""))
                rule_ids = ev.get(sc.POLICY_RULE_IDS) or ()
                rules = (
                    ", ".join(map(str, rule_ids if isinstance(rule_ids, tuple | list) else ())) or "default"
                )
                if ev.get(sc.APPROVAL_BY):
                    wait = float(ev.get(sc.APPROVAL_WAIT_S, 0.0) or 0.0)  # type: ignore[arg-type]
                    verdict = "approved" if outcome == "allow" else "refused"
                    lines.append(
                        s(f"      ASK   {rules}: {ev.get(sc.POLICY_REASON, '')}", OUTCOME_SGR["ask"])
                    )
                    lines.append(s(f"      {verdict} by {ev.get(sc.APPROVAL_BY)} after {wait:.1f} s", "33"))
                elif outcome in ("deny", "ask"):
                    reason = ev.get(sc.POLICY_REASON, "")
                    lines.append(s(f"      {outcome.upper():5} {rules}: {reason}", OUTCOME_SGR[outcome]))
            elif event.name == sc.EVENT_SIGNAL:
                severity = str(ev.get(sc.SIGNAL_SEVERITY, "info"))
                code = str(ev.get(sc.SIGNAL_CODE, "?"))
                message = str(ev.get(sc.SIGNAL_MESSAGE, ""))
                lines.append(
                    s(f"      ⚑ {severity.upper()} {code}: {message}", SEVERITY_SGR.get(severity, "0"))
                )
        for line in lines:
            print(line, file=self.out, flush=True)


def _tools(root: Path) -> dict[str, Callable[..., str]]:
    @tool(kind="file_read", on_deny="return")
    def read_file(path: str) -> str:
        """Read a file of the repository."""
        return (root / path).read_text()

    @tool(kind="file_write", on_deny="return")
    def write_file(path: str, content: str) -> str:
        """Write a file of the repository."""
        (root / path).write_text(content)
        return f"wrote {len(content)} bytes to {path}"

    @tool(kind="shell", args={"cwd": "cwd"}, on_deny="return")
    def run(command: str, cwd: str = str(root)) -> str:
        """Run a shell command in the repository."""
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
        done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=120,
                              env=env, check=False)  # fmt: skip
        return f"exit {done.returncode}\n{done.stdout[-1500:]}{done.stderr[-1500:]}"

    return {"read_file": read_file, "write_file": write_file, "run": run}


def review_commits(action: Any, run: RunState | None) -> Decision | None:
    """Commits wait for a human review."""
    if action.kind == "shell" and " commit" in (action.command or ""):
        return Decision.ask("commits need a review", rule_id="review_commits")
    return None


def _reviewer(request: ApprovalRequest) -> ApprovalResult:
    time.sleep(0.3)  # a reviewer reading the request
    return ApprovalResult(
        granted=True, by="demo-reviewer", scope="once", wait_s=0.3, grant_id=None, reason="looks fine"
    )


def _loop(
    client: Any,
    model: str,
    tools: dict[str, Callable[..., str]],
    goal: str,
    streamed: frozenset[int],
    max_turns: int = 12,
    show: Callable[[str, dict[str, Any]], None] | None = None,
) -> str:
    """The agent: the ordinary chat-completions tool loop a user writes."""
    messages: list[Any] = [
        {"role": "system", "content": "You are a coding agent. Use the tools to fix the repository."},
        {"role": "user", "content": goal},
    ]
    for turn in range(max_turns):
        if turn in streamed:
            chunks = client.chat.completions.create(
                model=model, messages=messages, tools=_TOOL_SCHEMAS, stream=True
            )
            with chunks:
                return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        reply = client.chat.completions.create(model=model, messages=messages, tools=_TOOL_SCHEMAS)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append({"role": "assistant", "content": message.content or "",
                         "tool_calls": [c.model_dump() for c in message.tool_calls]})  # fmt: skip
        for call in message.tool_calls:
            fn = tools.get(call.function.name)
            try:
                arguments = json.loads(call.function.arguments)
                if show is not None:
                    show(call.function.name, arguments)
                result = fn(**arguments) if fn else f"no tool {call.function.name}"
            except Exception as exc:  # a tool error goes back to the model, as agents do
                result = f"error: {type(exc).__name__}: {exc}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    return f"stopped after {max_turns} turns"


def run_demo(
    *,
    store: Path,
    report: Path | None = None,
    workdir: Path | None = None,
    live: bool = False,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    out: TextIO = sys.stdout,
    color: bool | None = None,
    fresh_store: bool = False,
    keep_workdir: bool | None = None,
) -> DemoResult:
    """Play the demo scenario (or, ``live``, the same loop against a real model) into ``store``.

    ``fresh_store`` deletes ``store`` first (the demo's own store: the summary then covers exactly
    this demo). Without ``workdir`` the sample repository goes to a temporary directory that is
    removed afterwards unless ``keep_workdir``; a given ``workdir`` is kept unless
    ``keep_workdir=False``.
    """
    started = time.perf_counter()
    style = _Style(color if color is not None else use_color(None, out))
    temporary = workdir is None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="agentguard-demo-"))
    keep = (not temporary) if keep_workdir is None else keep_workdir
    if fresh_store:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
    result = DemoResult(store=store, workdir=workdir, report=report, kept_workdir=keep,
                        fresh_store=fresh_store, started_ns=time.time_ns())  # fmt: skip
    telemetry = configure(service_name="agentguard-demo", store_path=store, span_processor="simple")
    telemetry.tracer_provider.add_span_processor(_Progress(out, style))
    instrument_openai()
    try:
        root = write_sample_repo(workdir / "textstats")
        tools = _tools(root)

        def show(name: str, arguments: dict[str, Any]) -> None:
            detail = arguments.get("command") or arguments.get("path") or json.dumps(arguments)[:80]
            if "content" in arguments:
                detail += f" ({len(arguments['content'])} bytes)"
            print(style(f"  → {name} ", "1") + str(detail), file=out, flush=True)

        policy = Policy(
            name="demo",
            scope=Scope(root=str(root), read=["**"], write=["src/**"], hosts=["pypi.org"]),
            rules=[destructive_commands(), secrets(), protect(["agentguard_policy.py"]), no_agent_spawn(),
                   budget(usd=1.00), review_commits],
        )  # fmt: skip
        approver = CallbackApprover(_reviewer, name="demo-reviewer")
        runs: Sequence[tuple[str, str, str, Sequence[Step], frozenset[int]]] = (
            ("fixer", scenario.TASK, scenario.GOAL, scenario.STEPS, scenario.STREAMED_STEPS),
            ("ops-agent", scenario.REFUSAL_TASK, scenario.REFUSAL_GOAL, scenario.REFUSAL_STEPS, frozenset()),
        )
        for name, task, goal, steps, streamed in runs if not live else runs[:1]:
            print(style(f"\n▶ {name}: {task}", "1;36"), file=out, flush=True)
            agent = guarded(name=name, task=task, policy=policy, approver=approver)(_loop)
            from openai import OpenAI

            if live:
                with ExitStack() as stack:
                    if base_url is None and not os.environ.get("OPENAI_API_KEY"):
                        from ._local_model import MODEL_ALIAS, local_model_server

                        print(
                            style("  starting the local SmolLM2 model server...", "2"), file=out, flush=True
                        )
                        base_url, model = stack.enter_context(local_model_server()), model or MODEL_ALIAS
                    key = api_key or os.environ.get("OPENAI_API_KEY", "local")
                    client = OpenAI(base_url=base_url, api_key=key)
                    answer = agent(client, model or SCRIPTED_MODEL, tools, goal, frozenset(), 8, show)
            else:
                with ScriptedServer(steps) as server:
                    client = OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
                    answer = agent(client, SCRIPTED_MODEL, tools, goal, streamed, 12, show)
            result.runs.append(name)
            result.answers[name] = answer
            print(style(f"  ✔ {name} answered: ", "1") + answer, file=out, flush=True)
    finally:
        uninstrument_openai()
        telemetry.shutdown()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if report is not None:
        from ..dashboard import open_source, write_report

        source = open_source(store=store)
        try:
            write_report(source, report, range_s=result.range_s)
        finally:
            source.close()
    result.seconds = time.perf_counter() - started
    return result
