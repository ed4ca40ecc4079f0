"""One run as a timeline: its LLM calls, tool calls, policy decisions and signals in order, with evidence.

The span tree of a run is flattened in start order (each entry keeps its depth), and each span's events
become typed entries: ``decision`` (outcome, rules, reason, facts, approval), ``signal`` (code,
category, severity, confidence, message and every other ``agentguard.signal.*`` attribute as
evidence), ``tool_request`` (a tool call the model asked for) and ``exception``. Long attribute values
(captured messages, diffs) are cut to a few kilobytes.
"""

from __future__ import annotations

import json
from typing import Any, Final

from ..telemetry import semconv as sc
from ._queries import SIGNAL_CATEGORY, SIGNAL_CODE, SIGNAL_CONFIDENCE, SIGNAL_MESSAGE, SIGNAL_SEVERITY
from ._source import Source

MAX_SPANS: Final = 2000
MAX_VALUE_CHARS: Final = 4000
_SIGNAL_PREFIX: Final = "agentguard.signal."


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + f"… ({len(value) - MAX_VALUE_CHARS} more characters)"
    if isinstance(value, list):
        return [_cut(v) for v in value[:100]]
    if isinstance(value, dict):
        return {str(k): _cut(v) for k, v in list(value.items())[:100]}
    return value


def _kind(operation: str | None) -> str:
    return {sc.OP_CHAT: "llm", sc.OP_EXECUTE_TOOL: "tool", sc.OP_INVOKE_AGENT: "agent"}.get(
        operation or "", "span"
    )


def _event(event: dict[str, Any]) -> dict[str, Any]:
    name = str(event.get("name", ""))
    a: dict[str, Any] = event.get("attributes") or {}
    t_ms = int(event.get("timestamp_ns") or 0) // 1_000_000
    if name == sc.EVENT_POLICY_DECISION:
        approval = None
        if a.get(sc.APPROVAL_GRANTED) is not None:
            approval = {
                "granted": bool(a.get(sc.APPROVAL_GRANTED)),
                "by": a.get(sc.APPROVAL_BY),
                "wait_s": a.get(sc.APPROVAL_WAIT_S),
                "scope": a.get(sc.APPROVAL_SCOPE),
            }
        return {
            "type": "decision",
            "t_ms": t_ms,
            "decision": a.get(sc.POLICY_DECISION),
            "mode": a.get(sc.POLICY_MODE),
            "rules": list(a.get(sc.POLICY_RULE_IDS) or []),
            "matched": list(a.get(sc.POLICY_MATCHED) or []),
            "reason": _cut(a.get(sc.POLICY_REASON)),
            "facts": _cut(a.get(sc.POLICY_FACTS)),
            "approval": approval,
        }
    if name == sc.EVENT_SIGNAL:
        known = {SIGNAL_CODE, SIGNAL_CATEGORY, SIGNAL_SEVERITY, SIGNAL_MESSAGE, SIGNAL_CONFIDENCE}
        evidence = {k.removeprefix(_SIGNAL_PREFIX): _cut(v) for k, v in a.items() if k not in known}
        return {
            "type": "signal",
            "t_ms": t_ms,
            "code": a.get(SIGNAL_CODE),
            "category": a.get(SIGNAL_CATEGORY),
            "severity": a.get(SIGNAL_SEVERITY) or "info",
            "confidence": a.get(SIGNAL_CONFIDENCE),
            "message": _cut(a.get(SIGNAL_MESSAGE)),
            "evidence": evidence,
        }
    if name == sc.EVENT_TOOL_CALL:
        return {
            "type": "tool_request",
            "t_ms": t_ms,
            "tool": a.get(sc.GEN_AI_TOOL_NAME),
            "call_id": a.get(sc.GEN_AI_TOOL_CALL_ID),
            "arguments": _cut(a.get(sc.GEN_AI_TOOL_CALL_ARGUMENTS)),
        }
    if name == "exception":
        return {
            "type": "exception",
            "t_ms": t_ms,
            "error": a.get("exception.type"),
            "message": _cut(a.get("exception.message")),
        }
    return {"type": "event", "t_ms": t_ms, "name": name, "attributes": _cut(a)}


def run_timeline(source: Source, run_id: str) -> dict[str, Any] | None:
    """The run's summary and its timeline, or ``None`` when there is no such run."""
    runs = source.query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
    spans = source.query(
        """SELECT span_id, parent_span_id, name, start_ns, end_ns, status_code, status_message,
            operation, attributes, events FROM spans WHERE run_id = ? ORDER BY start_ns, span_id LIMIT ?""",
        (run_id, MAX_SPANS + 1),
    )
    if not runs and not spans:
        return None
    run: dict[str, Any] = dict(runs[0]) if runs else {"run_id": run_id, "name": run_id}
    start = int(run.get("start_ns") or (spans[0]["start_ns"] if spans else 0))
    depth: dict[str, int] = {}
    entries = []
    for row in spans[:MAX_SPANS]:
        parent = row["parent_span_id"]
        d = depth[row["span_id"]] = depth[parent] + 1 if parent in depth else 0
        attributes = json.loads(row["attributes"])
        events = json.loads(row["events"])
        entries.append(
            {
                "span_id": row["span_id"],
                "type": _kind(row["operation"]),
                "name": row["name"],
                "depth": d,
                "t_ms": row["start_ns"] // 1_000_000,
                "offset_ms": (row["start_ns"] - start) / 1e6,
                "duration_ms": (row["end_ns"] - row["start_ns"]) / 1e6 if row["end_ns"] else None,
                "status": row["status_code"],
                "status_message": row["status_message"],
                "attributes": _cut(attributes),
                "events": [_event(e) for e in events if isinstance(e, dict)],
            }
        )
    end = run.get("end_ns")
    return {
        "run": {
            "run_id": run.get("run_id"),
            "name": run.get("name"),
            "task": run.get("task"),
            "t_ms": start // 1_000_000 if start else None,
            "duration_s": (end - start) / 1e9 if end and start else None,
            "status": run.get("status"),
            "status_message": run.get("status_message"),
            "cost_usd": run.get("cost_usd"),
            "input_tokens": run.get("input_tokens"),
            "output_tokens": run.get("output_tokens"),
            "llm_calls": run.get("llm_calls"),
            "tool_calls": run.get("tool_calls"),
            "refusals": run.get("refusals"),
            "trace_id": run.get("trace_id"),
        },
        "truncated": len(spans) > MAX_SPANS,
        "spans": entries,
    }
