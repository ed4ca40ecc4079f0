"""Hook decisions into the local store, so an agent's sessions reach ``agentguard runs`` and the dashboard.

Each decided call is an ``execute_tool {tool}`` span carrying the ``agentguard.policy.decision`` event,
under an ``invoke_agent {agent}`` span whose ``agentguard.run.id`` is ``{agent}:{session_id}``: every
call of one session is one run (its start is the session's first call, its ``tool_calls`` the calls so
far). Spans go through a private OpenTelemetry SDK provider into
:class:`~agentguard.export.LocalStoreSpanExporter`, exported as each span ends; no global provider is
set. The store is ``$AGENTGUARD_STORE``, else ``.agentguard/agentguard.db`` under the project.

Recording happens after the answer is printed and never changes it: any failure is swallowed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._hook_engine import Verdict
    from ._hook_protocols import HookCall

_BUSY_MS = 1000


def store_path(project: str) -> str:
    env = os.environ.get("AGENTGUARD_STORE")
    return env if env else os.path.join(project, ".agentguard", "agentguard.db")


def _previous(path: str, run_id: str) -> tuple[int | None, int]:
    """The stored run's start and tool-call count (``None, 0`` for a new run or no store)."""
    if not os.path.exists(path):
        return None, 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=_BUSY_MS / 1000)
    except sqlite3.Error:
        return None, 0
    try:
        row = conn.execute("SELECT start_ns, tool_calls FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    except sqlite3.Error:
        return None, 0
    finally:
        conn.close()
    if row is None:
        return None, 0
    return (int(row[0]) if row[0] is not None else None), int(row[1] or 0)


def record(agent: str, call: HookCall, verdict: Verdict, project: str, *, path: str | None = None) -> None:
    """Store one decided call (never raises)."""
    with contextlib.suppress(Exception):
        _record(agent, call, verdict, project, path or store_path(project))


def _record(agent: str, call: HookCall, verdict: Verdict, project: str, path: str) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from ..action import Decision
    from ..export import LocalStoreSpanExporter
    from ..telemetry import semconv as sc

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    session = call.session_id or "unknown-session"
    run_id = f"{agent}:{session}"
    first_ns, calls = _previous(path, run_id)
    now = time.time_ns()
    exporter = LocalStoreSpanExporter(path, busy_timeout_s=_BUSY_MS / 1000)
    provider = TracerProvider(resource=Resource.create({"service.name": f"agentguard-hook-{agent}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agentguard.hook")
    decision = verdict.decision or Decision.deny(verdict.reason, rule_id="hook.error")
    action = verdict.action
    try:
        run_span = tracer.start_span(
            f"{sc.OP_INVOKE_AGENT} {agent}",
            start_time=min(first_ns, now) if first_ns is not None else now,
            attributes={
                sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT,
                sc.GEN_AI_AGENT_NAME: agent,
                sc.GEN_AI_CONVERSATION_ID: session,
                sc.RUN_ID: run_id,
                sc.RUN_TOOL_CALLS: calls + 1,
                sc.SCOPE_ROOT: project,
            },
        )
        with trace.use_span(run_span, end_on_exit=True):
            attributes: dict[str, str] = {
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                sc.GEN_AI_TOOL_NAME: call.tool[:256],
                sc.GEN_AI_CONVERSATION_ID: session,
                sc.POLICY_DECISION: verdict.decided,
            }
            if action is not None:
                attributes[sc.TOOL_KIND] = action.kind
            if call.call_id is not None:
                attributes[sc.GEN_AI_TOOL_CALL_ID] = call.call_id[:256]
            with tracer.start_as_current_span(
                f"{sc.OP_EXECUTE_TOOL} {call.tool[:256]}", attributes=attributes
            ) as span:
                span.add_event(sc.EVENT_POLICY_DECISION, decision.event_attributes())
    finally:
        provider.shutdown()
