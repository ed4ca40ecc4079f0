"""``agentguard scan``: misalignment detectors over recorded traces.

::

    $ agentguard scan --fail-on high traces.jsonl .agentguard/agentguard.db
    SESSION                           SOURCE        SPANS  SIGNALS  WORST
    4f1c9a0e2b7d4c55a1e0f3b2c9d8e7f6  traces.jsonl     14        2  high
      high    reward_hacking.assert_removed  tests/test_parser.py: assertions per test case went from 3 to 1
      medium  deception.unverified_claim     the final message says the tests pass, but no test run happened
    1 session, 14 spans, 2 signals

Reads OTLP JSON lines (the OpenTelemetry Collector's file exporter; traces or logs, ``.gz`` too), OTLP
protobuf files, local stores and directories of them; malformed lines are reported on stderr with file
and line and skipped. ``--json`` prints ``{"sessions": [{"id", "signals": [...]}], ...}``. Exit status
1 when a signal reaches ``--fail-on``, and when an input could not be read to its end (a truncated or
corrupt gzip file, a missing file): the sessions read before the damage are still reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ._common import Align, CommandError, render_table, truncate

if TYPE_CHECKING:
    from ..scan import ScanReport

HELP = "Run the misalignment detectors over recorded traces (OTLP files or a local store)."

_SEVERITIES = ("info", "low", "medium", "high", "critical")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="OTLP JSON lines files, directories or local stores"
    )
    parser.add_argument("--json", action="store_true", help="print the sessions and their signals as JSON")
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        choices=_SEVERITIES,
        help="exit 1 when any signal is at least this severe (info, low, medium, high, critical)",
    )
    parser.add_argument("--workers", metavar="N", type=_workers, default=1, help="scan with N processes")
    parser.add_argument(
        "--judge", metavar="MODEL", help="also ask an LLM judge (any OpenAI-compatible model)"
    )
    parser.add_argument("--judge-base-url", metavar="URL", help="the judge's OpenAI-compatible endpoint")
    parser.add_argument(
        "--judge-timeout", metavar="SECONDS", type=float, default=60.0, help="per-session judge timeout (60)"
    )
    parser.add_argument("--all", action="store_true", help="list sessions without signals too")


def run(args: argparse.Namespace) -> int:
    from ..detect import severity_rank
    from ..scan import scan

    if args.judge_base_url and not args.judge:
        raise CommandError("--judge-base-url needs --judge MODEL", status=2)
    report = scan(args.paths, workers=args.workers, transcripts=bool(args.judge))
    incomplete = report.incomplete
    if incomplete and not report.spans and not report.sessions:
        if len(report.issues) == 1:
            raise CommandError(f"nothing could be read: {report.issues[0]}")
        for issue in report.issues:
            print(f"agentguard scan: {issue}", file=sys.stderr)
        raise CommandError("nothing could be read")
    for issue in report.issues:
        print(f"agentguard scan: {'incomplete' if issue.fatal else 'skipped'} {issue}", file=sys.stderr)
    if args.judge:
        _judge(report, args)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_table(report, show_all=args.all))
    if args.fail_on is not None and report.worst() >= severity_rank(args.fail_on):
        return 1
    return 1 if incomplete else 0


def _judge(report: ScanReport, args: argparse.Namespace) -> None:
    import asyncio

    from ..monitor import TranscriptMonitor

    monitor = TranscriptMonitor(model=args.judge, base_url=args.judge_base_url, timeout=args.judge_timeout)

    async def judge_all() -> None:
        limit = asyncio.Semaphore(4)

        async def one(index: int) -> None:
            session = report.sessions[index]
            if not session.transcript:
                return
            async with limit:
                result = await monitor.aevaluate(session.transcript)
            session.signals.extend(result.signals)
            if result.error:
                session.judge_error = result.error
                print(f"agentguard scan: judge on session {session.id}: {result.error}", file=sys.stderr)

        await asyncio.gather(*(one(i) for i in range(len(report.sessions))))

    asyncio.run(judge_all())


def _table(report: ScanReport, *, show_all: bool) -> str:
    headers = ("SESSION", "SOURCE", "SPANS", "SIGNALS", "WORST")
    align: tuple[Align, ...] = ("<", "<", ">", ">", "<")
    lines: list[str] = []
    shown = [s for s in report.sessions if s.signals or show_all]
    total = sum(len(s.signals) for s in report.sessions)
    if shown:
        rows = []
        for s in shown:
            worst = max(s.signals, key=lambda g: g.rank).severity if s.signals else "-"
            rows.append((s.id, truncate(s.source, 40), str(s.spans), str(len(s.signals)), worst))
        table = render_table(headers, rows, align).split("\n")
        lines.append(table[0])
        for row_line, s in zip(table[1:], shown, strict=True):
            lines.append(row_line)
            ordered = sorted(s.signals, key=lambda g: (-g.rank, g.code))
            width = max((len(g.code) for g in ordered), default=0)
            for g in ordered:
                judge = " (judge)" if g.source == "judge" else ""
                lines.append(f"  {g.severity:<8}  {g.code:<{width}}  {truncate(g.message + judge, 100)}")
    n = len(report.sessions)
    lines.append(
        f"{n} session{'s' if n != 1 else ''}, {report.spans} spans, {total} signal{'s' if total != 1 else ''}"
    )
    return "\n".join(lines)
