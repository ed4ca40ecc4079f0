"""``agentguard demo``: watch a guarded coding agent misbehave on a sample repository, end to end.

::

    $ agentguard demo                      # scripted agent, no key, no model, about ten seconds
    $ agentguard demo --live --base-url http://127.0.0.1:8000/v1 --model smollm2   # a real model

It writes the run to the local store and ``report.html``, prints a summary, and the command that
opens the dashboard.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HELP = "Run a guarded coding agent on a sample repository: policy, approvals, signals, cost, report."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="PATH", default=None,
                        help="the local store to write (default .agentguard/agentguard.db)")  # fmt: skip
    parser.add_argument("--report", metavar="FILE", default="report.html",
                        help="write the HTML report here (default report.html; '' for none)")  # fmt: skip
    parser.add_argument("--workdir", metavar="DIR", default=None, help="where the sample repository goes")
    parser.add_argument(
        "--live", action="store_true", help="drive the same loop with a real model (--base-url, --model)"
    )
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint for --live")
    parser.add_argument("--model", default=None, help="model name for --live")
    parser.add_argument("--no-color", action="store_true", help="plain output")


def run(args: argparse.Namespace) -> int:
    from ..demo._run import print_summary, run_demo
    from ..export.store import default_store_path

    store = Path(args.store) if args.store else default_store_path()
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
    color = False if args.no_color else None
    result = run_demo(
        store=store,
        report=Path(args.report) if args.report else None,
        workdir=Path(args.workdir) if args.workdir else None,
        live=args.live,
        base_url=base_url,
        model=args.model or os.environ.get("AGENTGUARD_MODEL"),
        color=color,
    )
    print_summary(result, color=color)
    return 0
