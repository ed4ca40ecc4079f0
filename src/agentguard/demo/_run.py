"""``agentguard demo``: a guarded coding agent misbehaving on a sample repository, end to end.

The agent is the user's kind of loop (the real ``openai`` SDK, tools that really read and write
files and run pytest and git), talking to :class:`~agentguard.demo.ScriptedServer`, which plays the
scenario in :mod:`agentguard.demo._scenario` deterministically; with ``live=True`` the same loop
talks to a real OpenAI-compatible model instead. Everything goes through the public API:
``configure()`` into the local store, ``instrument_openai()``, ``@tool``, ``@guarded`` with a policy
and an approver. A span processor prints the run as it happens; afterwards a summary, the report
file, and the command that opens the dashboard.
"""

from __future__ import annotations

import json
import math
import os
import shlex
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

from .. import guarded
from .. import semconv as sc
from ..approval import ApprovalRequest, ApprovalResult, CallbackApprover
from ..cli._common import OUTCOME_SGR, SEVERITY_SGR, format_usd, paint, plural, use_color
from ..decision import Decision
from ..export import configure
from ..instrumentation.openai import instrument_openai, uninstrument_openai
from ..policy import Policy
from ..rules import budget, destructive_commands, no_agent_spawn, protect, secrets
from ..run import RunState
from ..scope import Scope
from ..tools import tool
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


@dataclass
class DemoSummary:
    """The demo's numbers, read back from its store with the dashboard's own queries."""

    runs: int
    llm_calls: int
    priced_calls: int
    cost_usd: float
    decisions: dict[str, int]
    denials: list[tuple[str, str]]
    approvals: list[tuple[bool, str, float]]
    signals: list[tuple[str, str, str]]
    refusals: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "llm_calls": self.llm_calls,
            "priced_llm_calls": self.priced_calls,
            "cost_usd": self.cost_usd,
            "decisions": dict(self.decisions),
            "denials": [{"rules": r, "reason": why} for r, why in self.denials],
            "approvals": [{"granted": g, "by": by, "wait_s": w} for g, by, w in self.approvals],
            "signals": [{"severity": sv, "code": c, "message": m} for sv, c, m in self.signals],
            "refusals": self.refusals,
        }


def summarize(result: DemoResult) -> DemoSummary:
    """The numbers of ``result``'s runs, from the store, as the dashboard and the report count them."""
    from ..dashboard import DashboardApi, open_source
    from ..dashboard._queries import signal_list

    source = open_source(store=result.store)
    try:
        api, range_s = DashboardApi(source), result.range_s
        overview, decisions = api.panel("overview", range_s), api.panel("decisions", range_s)
        approvals, cost_panel = api.panel("approvals", range_s), api.panel("cost", range_s)
        signals = signal_list(source, range_s)
    finally:
        source.close()
    return DemoSummary(
        runs=int(overview["runs"]),
        llm_calls=int(overview["llm_calls"]),
        priced_calls=sum(int(m["priced"]) for m in cost_panel["by_model"]),
        cost_usd=float(overview["cost_usd"]),
        decisions={k: int(v) for k, v in overview["decisions"].items()},
        denials=[
            (", ".join(r["rules"]) or "default", str(r["reason"] or ""))
            for r in reversed(decisions["recent"])
            if r["decision"] == "deny"
        ],
        approvals=[
            (bool(a["granted"]), str(a["by"] or "approver"), float(a["wait_s"])) for a in approvals["recent"]
        ],
        signals=[(s["severity"], s["code"], s["message"]) for s in signals],
        refusals=int(overview["refusals"]),
    )


def _command(*argv: str) -> str:
    """``agentguard ARGS`` as the user can type it here: the venv's script when it is not on PATH."""
    script = Path(sys.executable).parent / "agentguard"
    on_path = shutil.which("agentguard")
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        prog = "agentguard"
    elif script.is_file():
        prog = os.path.relpath(script) if not os.path.relpath(script).startswith("..") else str(script)
    else:
        prog = f"{Path(sys.executable).name} -m agentguard"
    return " ".join([prog, *(shlex.quote(a) for a in argv)])


def print_summary(result: DemoResult, out: TextIO = sys.stdout, color: bool | None = None) -> DemoSummary:
    """The readable summary after the run: runs, decisions, approvals, signals, cost, next steps."""
    s = _Style(color if color is not None else use_color(None, out))
    summary = summarize(result)
    from ..cli import main as cli

    print(s("\n━━ runs", "1"), file=out)
    out.flush()
    cli(["runs", "--no-color", "--store", str(result.store), "--limit", str(max(1, summary.runs))])
    sys.stdout.flush()
    d = summary.decisions
    granted = sum(1 for g, _, _ in summary.approvals if g)
    refused = len(summary.approvals) - granted
    print(s("\n━━ policy decisions", "1"), file=out)
    asked = plural(d["ask"], "asked", "asked")
    if summary.approvals:
        asked += f" ({granted:,} approved, {refused:,} refused by the approver)"
    total = plural(sum(d.values()), "decision")
    print(f"  {total}: {d['allow']:,} allowed, {asked}, {d['deny']:,} denied", file=out)
    for rules, reason in summary.denials:
        print(s(f"  DENY  {rules}: {reason}", OUTCOME_SGR["deny"]), file=out)
    for granted_, by, wait in summary.approvals:
        verdict = "approved" if granted_ else "refused"
        print(s(f"  ASK   {verdict} by {by} after {wait:.1f} s", OUTCOME_SGR["ask"]), file=out)
    print(s("\n━━ signals", "1"), file=out)
    if not summary.signals:
        print("  none", file=out)
    for severity, code, message in summary.signals:
        print(s(f"  {severity.upper():8} {code}: {message}", SEVERITY_SGR.get(severity, "0")), file=out)
    print(s("\n━━ cost", "1"), file=out)
    calls = plural(summary.llm_calls, "LLM call")
    if summary.priced_calls:
        print(f"  {format_usd(summary.cost_usd)} for {summary.priced_calls:,} of {calls} "
              "(genai-prices; cached input at the cache-read rate)", file=out)  # fmt: skip
    else:
        print(f"  unknown: no price for the model of {calls} (never a guessed one)", file=out)
    print(s("\n━━ next", "1"), file=out)
    print(f"  store:     {result.store}", file=out)
    if result.report is not None:
        print(f"  report:    {result.report} (open it in a browser; it works offline)", file=out)
    if result.kept_workdir:
        print(f"  workspace: {result.workdir / 'textstats'}", file=out)
    else:
        print("  workspace: removed (agentguard demo --keep-workdir keeps it)", file=out)
    print(f"  scan:      {_command('scan', str(result.store))}", file=out)
    print(s(f"  dashboard: {_command('dashboard', '--store', str(result.store))}", "1;36"), file=out)
    print(f"\n(demo took {result.seconds:.1f} s)", file=out)
    return summary
