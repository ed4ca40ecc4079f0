"""The demo's summary: its numbers read back from the store with the dashboard's own queries.

Nothing here is counted while the demo runs, so the terminal, ``agentguard runs``, ``agentguard
report`` and the dashboard cannot disagree: they all read the same rows the same way.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..cli import OUTCOME_SGR, SEVERITY_SGR, format_usd, plural, use_color
from ._run import DemoResult, _Style


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
    from ..dashboard import DashboardApi, open_source, signal_list

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
