"""``agentguard demo``: watch a guarded coding agent misbehave on a sample repository, end to end.

::

    $ agentguard demo                      # scripted agent, no key, no model, about ten seconds
    $ agentguard demo --live --base-url http://127.0.0.1:8000/v1 --model smollm2   # a real model

It writes the runs to the demo's own store (``.agentguard/demo.db``, replaced at every demo so the
summary, ``runs``, ``scan``, the report and the dashboard all show this demo and nothing else; with
``--store PATH`` it adds to that store and reports only this demo's runs) and ``report.html``, prints
a summary (``--json``: the same numbers as JSON), and the commands that scan the runs and open the
dashboard. The sample repository goes to a temporary directory, removed afterwards
(``--keep-workdir`` keeps it; ``--workdir DIR`` puts it in DIR and keeps it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

from ._common import use_color

HELP = "Run a guarded coding agent on a sample repository: policy, approvals, signals, cost, report."
DEFAULT_STORE = Path(".agentguard") / "demo.db"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH",
        default=None,
        help=f"add the runs to this store (default: {DEFAULT_STORE}, replaced each time)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        default="report.html",
        help="write the HTML report here (default report.html; '' for none)",
    )
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        default=None,
        help="put the sample repository in DIR and keep it (default: a temporary directory)",
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep the temporary sample repository")
    parser.add_argument(
        "--live", action="store_true", help="drive the same loop with a real model (--base-url, --model)"
    )
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint for --live")
    parser.add_argument("--model", default=None, help="model name for --live")
    parser.add_argument("--json", action="store_true", help="print only the summary, as JSON")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..demo import print_summary, summarize
    from ..demo._run import run_demo

    store = Path(args.store) if args.store else DEFAULT_STORE
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
    color = use_color(args)
    quiet = io.StringIO()
    result = run_demo(
        store=store,
        report=Path(args.report) if args.report else None,
        workdir=Path(args.workdir) if args.workdir else None,
        live=args.live,
        base_url=base_url,
        model=args.model or os.environ.get("AGENTGUARD_MODEL"),
        out=quiet if args.json else sys.stdout,
        color=False if args.json else color,
        fresh_store=args.store is None,
        keep_workdir=True if args.keep_workdir else None,
    )
    if args.json:
        data = summarize(result).to_dict()
        data.update(
            store=str(result.store),
            report=str(result.report) if result.report else None,
            workdir=str(result.workdir) if result.kept_workdir else None,
            seconds=round(result.seconds, 3),
        )
        print(json.dumps(data, indent=2))
        return 0
    print_summary(result, color=color)
    return 0
