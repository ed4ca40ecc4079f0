"""The panels' data: one function per panel, aggregated in SQL over the store's ``spans`` and ``runs``.

Everything that grows with the number of runs is grouped in SQLite (time buckets, ``GROUP BY``,
``LIMIT``); Python only shapes the few rows that come back, so a store of 10,000 runs answers in a
fraction of a second. Attributes and events are JSON columns, read with ``json_extract`` and
``json_each``. Each function returns a JSON-ready dict; the page (and the static report) draw them.

Time series share one :class:`Window`: the selected range cut into about 60 buckets of a round size.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from ..telemetry import semconv as sc
from ._source import Source

# Detector signal attributes, as in agentguard.semconv (the names are fixed by the event schema).
SIGNAL_CODE: Final = "agentguard.signal.code"
SIGNAL_CATEGORY: Final = "agentguard.signal.category"
SIGNAL_SEVERITY: Final = "agentguard.signal.severity"
SIGNAL_MESSAGE: Final = "agentguard.signal.message"
SIGNAL_CONFIDENCE: Final = "agentguard.signal.confidence"
SEVERITIES: Final = ("info", "low", "medium", "high", "critical")
OUTCOMES: Final = ("allow", "ask", "deny")
_SEV_CASE: Final = (
    "CASE {x} WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 "
    "WHEN 'low' THEN 2 WHEN 'info' THEN 1 ELSE 0 END"
)
_BUCKET_SIZES_S: Final = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800, 2592000,
)  # fmt: skip
_TARGET_BUCKETS: Final = 60
_NS: Final = 1_000_000_000


def attr(key: str, column: str = "s.attributes") -> str:
    """SQL for one span attribute (keys contain dots, so the JSON path quotes them)."""
    return f"json_extract({column}, '$.\"{key}\"')"


def ev_attr(key: str) -> str:
    """SQL for one attribute of the event ``e`` (a row of ``json_each(s.events)``)."""
    return f"json_extract(e.value, '$.attributes.\"{key}\"')"


EV_NAME: Final = "json_extract(e.value, '$.name')"
# A decision that went to an approver counts as ``ask`` (the event's own outcome is the answer).
EV_OUTCOME: Final = (
    f"CASE WHEN {ev_attr(sc.APPROVAL_GRANTED)} IS NOT NULL THEN 'ask' ELSE {ev_attr(sc.POLICY_DECISION)} END"
)
EVENTS_FROM: Final = "FROM spans AS s, json_each(s.events) AS e"
EVENTS_WHERE: Final = "s.events != '[]' AND s.start_ns >= :t0"


@dataclass(frozen=True, slots=True)
class Window:
    """The selected time range (``range_s == 0``: everything) and its buckets."""

    t0: int
    t1: int
    bucket_ns: int
    range_s: int

    @property
    def count(self) -> int:
        return max(1, (self.t1 - self.t0) // self.bucket_ns + 1)

    def params(self) -> dict[str, int]:
        return {"t0": self.t0, "b": self.bucket_ns}

    def axis(self) -> dict[str, Any]:
        return {"t0_ms": self.t0 // 1_000_000, "bucket_ms": self.bucket_ns // 1_000_000, "n": self.count}

    def series(self, rows: Sequence[sqlite3.Row], keys: Sequence[str] = ()) -> dict[str, list[float]]:
        """``{key: [value per bucket]}`` from rows of ``(b, k, v)``; ``keys`` come first, always present."""
        out: dict[str, list[float]] = {k: [0.0] * self.count for k in keys}
        for row in rows:
            b, k, v = row[0], row[1], row[2]
            if b is None or not 0 <= int(b) < self.count:
                continue
            key = "(none)" if k is None else str(k)
            out.setdefault(key, [0.0] * self.count)[int(b)] += float(v or 0)
        return out


def make_window(source: Source, range_s: int, now_ns: int | None = None) -> Window:
    """The window for the last ``range_s`` seconds, or (``0``) for all the data in the store."""
    now = now_ns if now_ns is not None else time.time_ns()
    if range_s > 0:
        t0, t1 = now - range_s * _NS, now
    else:
        rows = source.query("SELECT min(start_ns), max(coalesce(end_ns, start_ns)) FROM spans")
        lo, hi = (rows[0][0], rows[0][1]) if rows else (None, None)
        if isinstance(lo, int) and isinstance(hi, int):
            t0, t1 = lo, hi
        else:
            t0, t1 = now - 3600 * _NS, now
    span_s = max(1, (t1 - t0) / _NS)
    size = next((s for s in _BUCKET_SIZES_S if span_s / s <= _TARGET_BUCKETS), _BUCKET_SIZES_S[-1])
    bucket = size * _NS
    return Window(t0=t0 // bucket * bucket, t1=t1, bucket_ns=bucket, range_s=range_s)


def _f(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _i(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _ms(ns: Any) -> int | None:
    return int(ns) // 1_000_000 if isinstance(ns, int) else None


def _list(value: Any) -> list[str]:
    """A JSON array column value (text) as a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return [str(v) for v in decoded] if isinstance(decoded, list) else [str(decoded)]
    return [str(value)]


# --- overview ------------------------------------------------------------------------------------
def overview(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    (r,) = source.query(
        "SELECT count(*), coalesce(sum(status = 'error'), 0) FROM runs WHERE start_ns >= :t0", p
    ) or [(0, 0)]
    (s,) = source.query(
        f"""SELECT
            coalesce(sum(operation = 'chat'), 0),
            coalesce(sum(operation = 'execute_tool'), 0),
            coalesce(sum(CASE WHEN operation = 'chat' THEN {attr(sc.REFUSAL)} = 1 END), 0),
            coalesce(sum(CASE WHEN operation = 'chat' THEN {attr(sc.COST_USD)} END), 0),
            coalesce(sum(CASE WHEN operation = 'chat' THEN {attr(sc.GEN_AI_USAGE_INPUT_TOKENS)} END), 0),
            coalesce(sum(CASE WHEN operation = 'chat' THEN {attr(sc.GEN_AI_USAGE_OUTPUT_TOKENS)} END), 0),
            count(*)
        FROM spans AS s WHERE start_ns >= :t0""",
        p,
    ) or [(0, 0, 0, 0, 0, 0, 0)]
    events = source.query(
        f"""SELECT {EV_NAME}, {EV_OUTCOME}, count(*) {EVENTS_FROM}
        WHERE {EVENTS_WHERE} AND {EV_NAME} IN ('{sc.EVENT_POLICY_DECISION}', '{sc.EVENT_SIGNAL}')
        GROUP BY 1, 2""",
        p,
    )
    decisions = dict.fromkeys(OUTCOMES, 0)
    signals = 0
    for name, outcome, n in events:
        if name == sc.EVENT_SIGNAL:
            signals += int(n)
        elif outcome in decisions:
            decisions[outcome] += int(n)
    llm_calls = _i(s[0])
    return {
        "runs": _i(r[0]),
        "run_errors": _i(r[1]),
        "spans": _i(s[6]),
        "llm_calls": llm_calls,
        "tool_calls": _i(s[1]),
        "refusals": _i(s[2]),
        "refusal_rate": _i(s[2]) / llm_calls if llm_calls else None,
        "cost_usd": _f(s[3]),
        "input_tokens": _i(s[4]),
        "output_tokens": _i(s[5]),
        "decisions": decisions,
        "signals": signals,
    }


# --- refusal rate --------------------------------------------------------------------------------
def refusals(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    refused = f"({attr(sc.REFUSAL)} = 1)"
    rows = source.query(
        f"""SELECT (s.start_ns - :t0) / :b, 'calls', count(*) FROM spans AS s
        WHERE s.operation = 'chat' AND s.start_ns >= :t0 GROUP BY 1
        UNION ALL
        SELECT (s.start_ns - :t0) / :b, 'refusals', sum({refused}) FROM spans AS s
        WHERE s.operation = 'chat' AND s.start_ns >= :t0 GROUP BY 1""",
        p,
    )
    series = w.series(rows, ("calls", "refusals"))
    rate = [(r / c if c else None) for r, c in zip(series["refusals"], series["calls"], strict=True)]
    agents = source.query(
        f"""SELECT coalesce(r.name, '(outside a run)'), count(*), sum({refused})
        FROM spans AS s LEFT JOIN runs AS r ON r.run_id = s.run_id
        WHERE s.operation = 'chat' AND s.start_ns >= :t0
        GROUP BY 1 ORDER BY 3 * 1.0 / count(*) DESC, 2 DESC LIMIT 12""",
        p,
    )
    sources = source.query(
        f"""SELECT coalesce({attr(sc.REFUSAL_SOURCE)}, 'unknown'), count(*) FROM spans AS s
        WHERE s.operation = 'chat' AND s.start_ns >= :t0 AND {refused} GROUP BY 1 ORDER BY 2 DESC""",
        p,
    )
    calls, refusals_ = sum(series["calls"]), sum(series["refusals"])
    return {
        "axis": w.axis(),
        "rate": rate,
        "calls": series["calls"],
        "refusals": series["refusals"],
        "total_calls": int(calls),
        "total_refusals": int(refusals_),
        "overall_rate": refusals_ / calls if calls else None,
        "by_agent": [
            {"agent": a, "calls": _i(n), "refusals": _i(k), "rate": _i(k) / _i(n) if n else 0.0}
            for a, n, k in agents
        ],
        "by_source": [{"source": src, "n": _i(n)} for src, n in sources],
    }


# --- cost ---------------------------------------------------------------------------------------
def cost(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    usd = attr(sc.COST_USD)
    rows = source.query(
        f"""SELECT (s.start_ns - :t0) / :b, 'cost', sum({usd}) FROM spans AS s
        WHERE s.operation = 'chat' AND s.start_ns >= :t0 GROUP BY 1""",
        p,
    )
    model = f"coalesce({attr(sc.GEN_AI_RESPONSE_MODEL)}, {attr(sc.GEN_AI_REQUEST_MODEL)}, 'unknown')"
    models = source.query(
        f"""SELECT {model}, count(*), coalesce(sum({usd}), 0), count({usd}),
            coalesce(sum({attr(sc.GEN_AI_USAGE_INPUT_TOKENS)}), 0),
            coalesce(sum({attr(sc.GEN_AI_USAGE_OUTPUT_TOKENS)}), 0)
        FROM spans AS s WHERE s.operation = 'chat' AND s.start_ns >= :t0
        GROUP BY 1 ORDER BY 3 DESC, 2 DESC LIMIT 10""",
        p,
    )
    (tok,) = source.query(
        f"""SELECT coalesce(sum({attr(sc.GEN_AI_USAGE_INPUT_TOKENS)}), 0),
            coalesce(sum({attr(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)}), 0),
            coalesce(sum({attr(sc.GEN_AI_USAGE_OUTPUT_TOKENS)}), 0),
            coalesce(sum({attr(sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)}), 0)
        FROM spans AS s WHERE s.operation = 'chat' AND s.start_ns >= :t0""",
        p,
    ) or [(0, 0, 0, 0)]
    recent = source.query(
        """SELECT run_id, name, start_ns, cost_usd FROM runs WHERE start_ns >= :t0
        ORDER BY start_ns DESC LIMIT 40""",
        p,
    )
    top = source.query(
        """SELECT run_id, name, task, start_ns, cost_usd, input_tokens, output_tokens FROM runs
        WHERE start_ns >= :t0 AND cost_usd IS NOT NULL ORDER BY cost_usd DESC LIMIT 5""",
        p,
    )
    (agg,) = source.query(
        "SELECT count(cost_usd), coalesce(sum(cost_usd), 0), max(cost_usd) FROM runs WHERE start_ns >= :t0",
        p,
    ) or [(0, 0, None)]
    input_, cached, output, reasoning = (_i(x) for x in tok)
    series = w.series(rows, ("cost",))
    return {
        "axis": w.axis(),
        "cost": series["cost"],
        "total_usd": sum(series["cost"]),
        "runs_with_cost": _i(agg[0]),
        "avg_run_usd": _f(agg[1]) / _i(agg[0]) if agg[0] else None,
        "max_run_usd": agg[2],
        "by_model": [
            {"model": m, "calls": _i(n), "usd": _f(c), "priced": _i(k), "input": _i(i), "output": _i(o)}
            for m, n, c, k, i, o in models
        ],
        "tokens": [
            {"type": "input (uncached)", "n": max(0, input_ - cached)},
            {"type": "input (cache read)", "n": cached},
            {"type": "output", "n": max(0, output - reasoning)},
            {"type": "output (reasoning)", "n": reasoning},
        ],
        "per_run": [
            {"run_id": rid, "name": n, "t_ms": _ms(t), "usd": c} for rid, n, t, c in reversed(recent)
        ],
        "top_runs": [
            {"run_id": rid, "name": n, "task": task, "t_ms": _ms(t), "usd": _f(c), "input": i, "output": o}
            for rid, n, task, t, c, i, o in top
        ],
    }


# --- tool calls ---------------------------------------------------------------------------------
def tools(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    kind = f"coalesce({attr(sc.TOOL_KIND)}, 'other')"
    tool_where = "s.operation = 'execute_tool' AND s.start_ns >= :t0"
    rows = source.query(
        f"SELECT (s.start_ns - :t0) / :b, {kind}, count(*) FROM spans AS s WHERE {tool_where} GROUP BY 1, 2",
        p,
    )
    kinds = source.query(
        f"""SELECT {kind}, count(*), sum(s.status_code = 'ERROR') FROM spans AS s WHERE {tool_where}
        GROUP BY 1 ORDER BY 2 DESC""",
        p,
    )
    by_tool = source.query(
        f"""SELECT coalesce({attr(sc.GEN_AI_TOOL_NAME)}, s.name), {kind}, count(*),
            sum(s.status_code = 'ERROR'), avg(s.end_ns - s.start_ns)
        FROM spans AS s WHERE {tool_where} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 12""",
        p,
    )
    errors = source.query(
        f"""SELECT coalesce({attr(sc.GEN_AI_TOOL_NAME)}, s.name),
            coalesce({attr(sc.ERROR_TYPE)}, 'error'), count(*), max(s.status_message)
        FROM spans AS s WHERE {tool_where} AND s.status_code = 'ERROR'
        GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8""",
        p,
    )
    total = sum(_i(n) for _, n, _ in kinds)
    return {
        "axis": w.axis(),
        "by_kind_series": w.series(rows),
        "total": total,
        "total_errors": sum(_i(e) for _, _, e in kinds),
        "by_kind": [{"kind": k, "n": _i(n), "errors": _i(e)} for k, n, e in kinds],
        "by_tool": [
            {"tool": t, "kind": k, "n": _i(n), "errors": _i(e), "avg_ms": _f(d) / 1e6 if d else None}
            for t, k, n, e, d in by_tool
        ],
        "errors": [{"tool": t, "error": et, "n": _i(n), "message": m} for t, et, n, m in errors],
    }


# --- policy decisions ---------------------------------------------------------------------------
_DECISIONS_WHERE: Final = f"{EVENTS_WHERE} AND {EV_NAME} = '{sc.EVENT_POLICY_DECISION}'"


def decisions(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    outcome = EV_OUTCOME
    rows = source.query(
        f"SELECT (s.start_ns - :t0) / :b, {outcome}, count(*) {EVENTS_FROM}"
        f" WHERE {_DECISIONS_WHERE} GROUP BY 1, 2",
        p,
    )
    grouped = source.query(
        f"""SELECT {ev_attr(sc.POLICY_RULE_IDS)}, {outcome}, count(*),
            sum({ev_attr(sc.POLICY_MODE)} = 'shadow')
        {EVENTS_FROM} WHERE {_DECISIONS_WHERE} GROUP BY 1, 2""",
        p,
    )
    rules: dict[str, dict[str, int]] = {}
    shadow = 0
    for rule_ids, out, n, sh in grouped:
        shadow += _i(sh)
        for rule in _list(rule_ids) or ["default"]:
            counts = rules.setdefault(rule, dict.fromkeys(OUTCOMES, 0))
            if out in counts:
                counts[out] += _i(n)
    top = sorted(rules.items(), key=lambda kv: (-(kv[1]["deny"] + kv[1]["ask"]), -sum(kv[1].values())))
    recent = source.query(
        f"""SELECT json_extract(e.value, '$.timestamp_ns'), s.run_id, r.name,
            {attr(sc.GEN_AI_TOOL_NAME)}, s.name, {outcome}, {ev_attr(sc.POLICY_RULE_IDS)},
            {ev_attr(sc.POLICY_REASON)}, {ev_attr(sc.POLICY_MODE)}
        {EVENTS_FROM} LEFT JOIN runs AS r ON r.run_id = s.run_id
        WHERE {_DECISIONS_WHERE} AND {outcome} != 'allow'
        ORDER BY s.start_ns DESC LIMIT 8""",
        p,
    )
    series = w.series(rows, OUTCOMES)
    return {
        "axis": w.axis(),
        "series": {o: series.get(o, [0.0] * w.count) for o in OUTCOMES},
        "totals": {o: int(sum(series.get(o, []))) for o in OUTCOMES},
        "shadow": shadow,
        "top_rules": [{"rule": rule, **counts} for rule, counts in top[:10]],
        "recent": [
            {
                "t_ms": _ms(t),
                "run_id": rid,
                "agent": agent,
                "tool": tool or span_name,
                "decision": out,
                "rules": _list(rule_ids),
                "reason": reason,
                "mode": mode,
            }
            for t, rid, agent, tool, span_name, out, rule_ids, reason, mode in recent
        ],
    }


# --- approvals ----------------------------------------------------------------------------------
_WAIT_BUCKETS: Final = ((1.0, "< 1 s"), (5.0, "1–5 s"), (30.0, "5–30 s"), (120.0, "30 s–2 min"))


def approvals(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    answered = source.query(
        f"""SELECT json_extract(e.value, '$.timestamp_ns'), s.run_id, r.name,
            coalesce({attr(sc.GEN_AI_TOOL_NAME)}, s.name), {ev_attr(sc.APPROVAL_GRANTED)},
            {ev_attr(sc.APPROVAL_BY)}, {ev_attr(sc.APPROVAL_WAIT_S)}, {ev_attr(sc.APPROVAL_SCOPE)},
            {ev_attr(sc.POLICY_REASON)}
        {EVENTS_FROM} LEFT JOIN runs AS r ON r.run_id = s.run_id
        WHERE {_DECISIONS_WHERE} AND {ev_attr(sc.APPROVAL_GRANTED)} IS NOT NULL
        ORDER BY s.start_ns DESC LIMIT 5000""",
        p,
    )
    (asks,) = source.query(
        f"SELECT count(*) {EVENTS_FROM} WHERE {_DECISIONS_WHERE} AND {EV_OUTCOME} = 'ask'",
        p,
    ) or [(0,)]
    waits = sorted(_f(row[6]) for row in answered)
    granted = sum(1 for row in answered if row[4] in (1, True))
    by: dict[str, int] = {}
    for row in answered:
        by[str(row[5] or "unknown")] = by.get(str(row[5] or "unknown"), 0) + 1
    labels = [label for _, label in _WAIT_BUCKETS] + ["> 2 min"]
    counts = [0] * len(labels)
    for wait in waits:
        counts[next((i for i, (le, _) in enumerate(_WAIT_BUCKETS) if wait < le), len(_WAIT_BUCKETS))] += 1
    hist = [{"label": label, "n": n} for label, n in zip(labels, counts, strict=True)]
    pending = _pending(source)
    return {
        "asked": _i(asks[0]),
        "granted": granted,
        "denied": len(answered) - granted,
        "pending": pending,
        "pending_count": len(pending),
        "approvals_db": str(source.approvals_path) if source.approvals_path else None,
        "wait": {
            "count": len(waits),
            "p50_s": _quantile(waits, 0.5),
            "p95_s": _quantile(waits, 0.95),
            "max_s": waits[-1] if waits else None,
            "mean_s": sum(waits) / len(waits) if waits else None,
        },
        "wait_hist": hist,
        "by": [{"by": k, "n": v} for k, v in sorted(by.items(), key=lambda kv: -kv[1])[:6]],
        "recent": [
            {
                "t_ms": _ms(t),
                "run_id": rid,
                "agent": agent,
                "tool": tool,
                "granted": g in (1, True),
                "by": who,
                "wait_s": _f(wait),
                "scope": scope,
                "reason": reason,
            }
            for t, rid, agent, tool, g, who, wait, scope, reason in answered[:8]
        ],
    }


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def _still_pending(row: sqlite3.Row, now: float, status: Any) -> bool:
    try:
        return bool(status(row, now) == "pending")
    except (IndexError, KeyError):  # a queue written before waiters were recorded: expiry only
        expires = row["expires"]
        return not (isinstance(expires, int | float) and expires <= now)


def _pending(source: Source) -> list[dict[str, Any]]:
    """Pending requests of the durable approval queue next to the store, read-only (if there is one)."""
    path = source.approvals_path
    if path is None:
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return []
    from ..approval import request_status

    conn.row_factory = sqlite3.Row
    now = time.time()
    try:
        # unanswered requests whose waiter gave up (expired) or is gone (orphaned) are not pending
        rows = [
            (r["id"], r["tool"], r["kind"], r["summary"], r["reason"], r["agent"], r["run_id"], r["created"],
             r["expires"])
            for r in conn.execute("SELECT * FROM requests WHERE status = 'pending' ORDER BY created")
            if _still_pending(r, now, request_status)
        ][:20]  # fmt: skip
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [
        {
            "id": rid,
            "tool": tool,
            "kind": kind,
            "summary": summary,
            "reason": reason,
            "agent": agent,
            "run_id": run_id,
            "t_ms": int(created * 1000) if isinstance(created, int | float) else None,
            "waiting_s": now - created if isinstance(created, int | float) else None,
            "expires_ms": int(expires * 1000) if isinstance(expires, int | float) else None,
        }
        for rid, tool, kind, summary, reason, agent, run_id, created, expires in rows
    ]


# --- scope violations ---------------------------------------------------------------------------
def scope(source: Source, w: Window) -> dict[str, Any]:
    """Actions that left the declared scope: one violation per span (tool call), however many
    decisions and signals it carries (a denied write outside the scope is one violation, not a
    denial plus a ``scope_creep`` signal). ``by_rule`` counts each rule or signal code once per span."""
    p = w.params()
    rule_ids, matched = ev_attr(sc.POLICY_RULE_IDS), ev_attr(sc.POLICY_MATCHED)
    is_decision = (
        f"({EV_NAME} = '{sc.EVENT_POLICY_DECISION}' AND {ev_attr(sc.POLICY_DECISION)} != 'allow'"
        f" AND ({rule_ids} LIKE '%\"scope.%' OR {matched} LIKE '%\"scope.%'))"
    )
    is_signal = f"({EV_NAME} = '{sc.EVENT_SIGNAL}' AND {ev_attr(SIGNAL_CATEGORY)} = 'scope_creep')"
    where = f"{EVENTS_WHERE} AND ({is_decision} OR {is_signal})"
    rows = source.query(
        f"""SELECT (s.start_ns - :t0) / :b, 'violations', count(DISTINCT s.trace_id || s.span_id)
        {EVENTS_FROM} WHERE {where} GROUP BY 1""",
        p,
    )
    (runs_row,) = source.query(f"SELECT count(DISTINCT s.run_id) {EVENTS_FROM} WHERE {where}", p) or [(0,)]
    recent = source.query(
        f"""SELECT s.trace_id || s.span_id, json_extract(e.value, '$.timestamp_ns'), s.run_id, r.name,
            coalesce({attr(sc.GEN_AI_TOOL_NAME)}, s.name), {EV_NAME}, {ev_attr(sc.POLICY_DECISION)},
            {rule_ids}, {matched}, {ev_attr(sc.POLICY_FACTS)}, {ev_attr(sc.POLICY_REASON)},
            {ev_attr(SIGNAL_CODE)}, {ev_attr(SIGNAL_MESSAGE)}, {ev_attr(sc.POLICY_MODE)}
        {EVENTS_FROM} LEFT JOIN runs AS r ON r.run_id = s.run_id
        WHERE {where} ORDER BY s.start_ns DESC, e.key LIMIT 2000""",
        p,
    )
    (outside,) = source.query(
        f"SELECT count(*) FROM spans AS s WHERE s.start_ns >= :t0 AND {attr(sc.SCOPE_IN_SCOPE)} = 0", p
    ) or [(0,)]
    by_rule: dict[str, set[str]] = {}
    items: dict[str, dict[str, Any]] = {}
    for key, t, rid, agent, tool, name, out, rids, mids, facts, reason, code, message, mode in recent:
        rules = [r for r in _list(rids) + _list(mids) if r.startswith("scope.")] or [code or "scope"]
        for rule in dict.fromkeys(rules):
            by_rule.setdefault(rule, set()).add(str(key))
        item = items.get(str(key))
        is_decision_row = name != sc.EVENT_SIGNAL
        if item is None:
            if len(items) >= 10:
                continue
            item = items[str(key)] = {
                "t_ms": _ms(t),
                "run_id": rid,
                "agent": agent,
                "tool": tool,
                "kind": "decision" if is_decision_row else "signal",
                "decision": None,
                "mode": None,
                "rule": rules[0],
                "facts": None,
                "reason": None,
                "signals": [],
            }
        if is_decision_row and item["decision"] is None:  # the decision describes the call best
            item.update(kind="decision", decision=out, mode=mode, rule=rules[0], facts=facts, reason=reason)
        elif not is_decision_row:
            item["signals"].append(code)
            if item["reason"] is None:
                item["reason"] = message
    series = w.series(rows, ("violations",))
    return {
        "axis": w.axis(),
        "series": series["violations"],
        "total": int(sum(series["violations"])),  # a span falls in exactly one bucket
        "runs": _i(runs_row[0]),
        "out_of_scope_spans": _i(outside[0]),
        "by_rule": [
            {"rule": k, "n": len(v)} for k, v in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        "recent": list(items.values()),
    }


# --- signals -------------------------------------------------------------------------------------
_SIGNALS_WHERE: Final = f"{EVENTS_WHERE} AND {EV_NAME} = '{sc.EVENT_SIGNAL}'"


def signals(source: Source, w: Window) -> dict[str, Any]:
    p = w.params()
    severity = f"coalesce({ev_attr(SIGNAL_SEVERITY)}, 'info')"
    category = f"coalesce({ev_attr(SIGNAL_CATEGORY)}, 'other')"
    rows = source.query(
        f"SELECT (s.start_ns - :t0) / :b, {severity}, count(*) {EVENTS_FROM}"
        f" WHERE {_SIGNALS_WHERE} GROUP BY 1, 2",
        p,
    )
    categories = source.query(
        f"""SELECT {category}, count(*), max({_SEV_CASE.format(x=severity)}), count(DISTINCT s.run_id)
        {EVENTS_FROM} WHERE {_SIGNALS_WHERE} GROUP BY 1 ORDER BY 3 DESC, 2 DESC""",
        p,
    )
    codes = source.query(
        f"""SELECT {ev_attr(SIGNAL_CODE)}, {category}, max({_SEV_CASE.format(x=severity)}), count(*)
        {EVENTS_FROM} WHERE {_SIGNALS_WHERE} GROUP BY 1, 2 ORDER BY 3 DESC, 4 DESC LIMIT 10""",
        p,
    )
    series = w.series(rows, SEVERITIES)
    return {
        "axis": w.axis(),
        "by_severity_series": {k: series[k] for k in SEVERITIES},
        "total": int(sum(sum(v) for v in series.values())),
        "by_severity": [{"severity": k, "n": int(sum(series[k]))} for k in reversed(SEVERITIES)],
        "by_category": [
            {"category": c, "n": _i(n), "severity": _sev_name(sv), "runs": _i(runs)}
            for c, n, sv, runs in categories
        ],
        "top_codes": [
            {"code": code or "(no code)", "category": c, "severity": _sev_name(sv), "n": _i(n)}
            for code, c, sv, n in codes
        ],
    }


def signal_list(source: Source, range_s: int = 0, *, limit: int = 200) -> list[dict[str, Any]]:
    """Each signal of the range, in the order raised: severity, code, category, message, run."""
    w = make_window(source, range_s)
    rows = source.query(
        f"""SELECT coalesce({ev_attr(SIGNAL_SEVERITY)}, 'info'), {ev_attr(SIGNAL_CODE)},
            coalesce({ev_attr(SIGNAL_CATEGORY)}, 'other'), {ev_attr(SIGNAL_MESSAGE)}, s.run_id
        {EVENTS_FROM} WHERE {_SIGNALS_WHERE}
        ORDER BY coalesce(json_extract(e.value, '$.timestamp_ns'), s.start_ns), e.key LIMIT :limit""",
        {**w.params(), "limit": limit},
    )
    return [
        {
            "severity": str(sv),
            "code": str(code or "(no code)"),
            "category": str(cat),
            "message": str(msg or ""),
            "run_id": rid,
        }
        for sv, code, cat, msg, rid in rows
    ]


def _sev_name(rank: Any) -> str | None:
    r = _i(rank)
    return SEVERITIES[r - 1] if 1 <= r <= len(SEVERITIES) else None


# --- triage ---------------------------------------------------------------------------------------
def triage(source: Source, w: Window, *, offset: int = 0, limit: int = 25, q: str = "") -> dict[str, Any]:
    """Runs ordered by their highest signal severity, then signals, denials, errors and recency."""
    params: dict[str, Any] = {**w.params(), "limit": limit, "offset": offset}
    filter_sql = ""
    if q:
        params["q"] = f"%{q}%"
        filter_sql = " AND (r.name LIKE :q OR r.task LIKE :q OR r.run_id LIKE :q)"
    is_signal = f"({EV_NAME} = '{sc.EVENT_SIGNAL}')"
    outcome = EV_OUTCOME
    is_decision = f"({EV_NAME} = '{sc.EVENT_POLICY_DECISION}')"
    rows = source.query(
        f"""WITH ev AS (
            SELECT s.run_id AS run_id,
                max({_SEV_CASE.format(x=ev_attr(SIGNAL_SEVERITY))} * {is_signal}) AS sev,
                sum({is_signal}) AS signals,
                sum({is_decision} AND {outcome} = 'deny') AS denies,
                sum({is_decision} AND {outcome} = 'ask') AS asks
            {EVENTS_FROM} WHERE {EVENTS_WHERE} AND s.run_id IS NOT NULL GROUP BY s.run_id
        ), err AS (
            SELECT run_id, count(*) AS errors FROM spans
            WHERE status_code = 'ERROR' AND start_ns >= :t0 AND run_id IS NOT NULL GROUP BY run_id
        )
        SELECT r.run_id, r.name, r.task, r.start_ns, r.end_ns, r.status, r.cost_usd, r.llm_calls,
            r.tool_calls, r.refusals, coalesce(ev.sev, 0) AS sev, coalesce(ev.signals, 0) AS signals,
            coalesce(ev.denies, 0) AS denies, coalesce(ev.asks, 0) AS asks, coalesce(err.errors, 0) AS errors
        FROM runs AS r LEFT JOIN ev ON ev.run_id = r.run_id LEFT JOIN err ON err.run_id = r.run_id
        WHERE r.start_ns >= :t0{filter_sql}
        ORDER BY sev DESC, signals DESC, denies DESC, errors DESC, r.refusals DESC, r.start_ns DESC
        LIMIT :limit OFFSET :offset""",
        params,
    )
    (total,) = source.query(
        f"SELECT count(*) FROM runs AS r WHERE r.start_ns >= :t0{filter_sql}", params
    ) or [(0,)]
    return {
        "total": _i(total[0]),
        "offset": offset,
        "limit": limit,
        "q": q,
        "items": [
            {
                "run_id": r["run_id"],
                "name": r["name"],
                "task": r["task"],
                "t_ms": _ms(r["start_ns"]),
                "duration_s": (r["end_ns"] - r["start_ns"]) / 1e9 if r["end_ns"] else None,
                "status": r["status"],
                "cost_usd": r["cost_usd"],
                "llm_calls": r["llm_calls"],
                "tool_calls": r["tool_calls"],
                "refusals": r["refusals"],
                "severity": _sev_name(r["sev"]),
                "signals": _i(r["signals"]),
                "denies": _i(r["denies"]),
                "asks": _i(r["asks"]),
                "errors": _i(r["errors"]),
            }
            for r in rows
        ],
    }
