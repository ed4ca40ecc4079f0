"""``agentguard report``: the dashboard's panels in one self-contained HTML file.

::

    $ agentguard report -o report.html
    wrote report.html: 42 runs, 3 signals, 5 denials (open it in any browser; it works offline)

The file embeds its data, script and style: nothing is fetched when it is opened, so it can be
attached to a ticket or kept as a CI artefact. A missing store is an error (exit 1), as for ``runs``.
``--json`` prints ``{"path", "runs", "signals", "decisions"}`` instead of the sentence.
"""

from __future__ import annotations

import argparse
import json

from ._common import CommandError, plural
from ._dashboard import add_source_arguments, open_source, parse_range

HELP = "Write the dashboard's panels into one self-contained HTML file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument(
        "-o", "--output", metavar="FILE", default="report.html", help="where to write (default report.html)"
    )
    parser.add_argument(
        "--range",
        metavar="RANGE",
        type=parse_range,
        default=0,
        help="only the last RANGE (15m, 24h, 7d, ...; default all)",
    )
    parser.add_argument(
        "--timelines",
        metavar="N",
        type=int,
        default=50,
        help="include the timelines of the N most severe runs (default 50)",
    )
    parser.add_argument("--json", action="store_true", help="print what was written as JSON")


def run(args: argparse.Namespace) -> int:
    from ..dashboard import DashboardApi, write_report

    source = open_source(args, must_exist=True)
    try:
        try:
            path = write_report(source, args.output, range_s=args.range, timelines=max(0, args.timelines))
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc}") from None
        overview = DashboardApi(source).panel("overview", args.range)
    finally:
        source.close()
    runs, signals, decisions = overview["runs"], overview["signals"], overview["decisions"]
    if args.json:
        print(json.dumps({"path": str(path), "runs": runs, "signals": signals, "decisions": decisions}))
        return 0
    print(
        f"wrote {path}: {plural(runs, 'run')}, {plural(signals, 'signal')}, "
        f"{plural(decisions['deny'], 'denial')} (open it in any browser; it works offline)"
    )
    return 0
