"""``agentguard incident SESSION_ID``: an incident record from a reviewed session.

::

    $ agentguard incident conv-12 --format eu-ai-act --kind other > incident.json

Reads the monitor's journal (``--state-dir``): the session's findings, the policy decisions on its
spans, the affected services and agents, and the evidence spans under a hash chain
(``chain_head``). ``--format eu-ai-act`` adds the Article 73 reporting clock for the ``--kind`` of
serious incident the operator chooses (2, 10 or 15 days from detection); it is a date computation,
not legal advice.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import CommandError

HELP = "Write an incident record (JSON or EU AI Act Article 73 fields) for a reviewed session."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..fleet import REPORTING_DAYS

    parser.add_argument("session", metavar="SESSION_ID")
    parser.add_argument(
        "--state-dir", metavar="DIR", default=".agentguard/monitor", help="the monitor's journal"
    )
    parser.add_argument("--format", choices=("json", "eu-ai-act"), default="json")
    parser.add_argument(
        "--kind", choices=sorted(REPORTING_DAYS), default="other", help="kind of serious incident"
    )


def run(args: argparse.Namespace) -> int:
    from ..fleet import Journal, incident_record

    path = Path(args.state_dir) / "monitor.db"
    if not path.exists():
        raise CommandError(f"no monitor journal in {args.state_dir}")
    journal = Journal(path)
    try:
        record = incident_record(journal, args.session, fmt=args.format, kind=args.kind)
    except KeyError:
        raise CommandError(f"no reviewed session {args.session!r} in {args.state_dir}") from None
    finally:
        journal.close()
    print(json.dumps(record, indent=2, sort_keys=True))
    return 0
