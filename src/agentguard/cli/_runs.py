"""``agentguard runs``: the most recent guarded runs in the local store, newest first.

::

    $ agentguard runs --limit 2
    STARTED              NAME   TASK          DURATION     COST  TOKENS IN/OUT  LLM  TOOLS  REFUSALS  STATUS
    2026-05-02 14:03:11  fixer  fix parser…      12.4s  $0.0031    5,210 / 812    4      6         0  ok
    2026-05-02 13:58:40  fixer  fix parser…       3.1s        —        0 / 0      0      1         0  error
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import TYPE_CHECKING

from ._common import Align, CommandError, can_encode, format_usd, paint, render_table, truncate, use_color

if TYPE_CHECKING:
    from ..export.store import RunRecord

HELP = "List recent guarded runs from the local store."

_HEADERS = (
    "STARTED",
    "NAME",
    "TASK",
    "DURATION",
    "COST",
    "TOKENS IN/OUT",
    "LLM",
    "TOOLS",
    "REFUSALS",
    "STATUS",
)
_ALIGN: tuple[Align, ...] = ("<", "<", "<", ">", ">", ">", ">", ">", ">", "<")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="the local store (default: $AGENTGUARD_STORE, else .agentguard/agentguard.db)",
    )
    parser.add_argument(
        "--limit", metavar="N", type=_positive_int, default=20, help="show at most N runs (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="print the runs as a JSON array")


def run(args: argparse.Namespace) -> int:
    from ..export.store import LocalStore, SchemaError, default_store_path

    path = args.store or default_store_path()
    try:
        with LocalStore(path) as store:
            runs = store.runs(limit=args.limit)
            total = store.count_runs() if len(runs) == args.limit else len(runs)
            lost = store.lost_spans()
    except FileNotFoundError:
        from ._dashboard import missing_store_message

        raise CommandError(missing_store_message(path)) from None
    except (SchemaError, sqlite3.Error) as exc:
        raise CommandError(f"cannot read the store at {path}: {exc}") from None

    if lost:
        print(
            f"warning: {lost:,} spans could not be written to {path} (the store was locked, full or "
            "unwritable, or a queue overflowed); these runs may be incomplete",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps([r.to_dict() for r in runs], indent=2))
        return 0
    if not runs:
        print(f"No runs recorded yet in {path}: wrap your agent with @agentguard.guarded to record one.")
        return 0
    unknown = "—" if can_encode("—…") else "-"
    ellipsis = "…" if unknown == "—" else "..."
    rows = [_row(r, unknown, ellipsis) for r in runs]
    color = use_color(args)
    for line in render_table(_HEADERS, rows, _ALIGN).split("\n"):
        # STATUS is the last column: a failed run is red on a terminal
        print(
            line[: -len("error")] + paint("error", "31", True) if color and line.endswith(" error") else line
        )
    if total > len(runs):
        print(f"({len(runs)} of {total} runs; --limit N for more)")
    return 0


def _row(r: RunRecord, unknown: str, ellipsis: str) -> list[str]:
    return [
        r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
        truncate(r.name, 24, ellipsis),
        truncate(r.task, 40, ellipsis) if r.task else unknown,
        _duration(r.duration_s, unknown),
        _cost(r.cost_usd, unknown),
        f"{_count(r.input_tokens, unknown)} / {_count(r.output_tokens, unknown)}",
        _count(r.llm_calls, unknown),
        _count(r.tool_calls, unknown),
        _count(r.refusals, unknown),
        r.status,
    ]


def _duration(seconds: float | None, unknown: str) -> str:
    if seconds is None:
        return unknown
    if seconds < 0.001:
        return "<1ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _cost(usd: float | None, unknown: str) -> str:
    return unknown if usd is None else format_usd(usd)


def _count(value: int | None, unknown: str) -> str:
    return unknown if value is None else f"{value:,}"
