"""``agentguard triage``: the monitor's findings, their triage state, and a labelled export.

::

    $ agentguard triage list --state new
    ID  SESSION  SEVERITY  CODE                       REVIEWER  STATE  MESSAGE
    7   conv-12  critical  circumvention.decode_exec  rules     new    runs decoded text as code
    $ agentguard triage set 7 confirmed --note "agent piped base64 into sh"
    $ agentguard triage export --jsonl > labels.jsonl

States: ``new``, ``acknowledged``, ``false_positive``, ``confirmed``; every change is kept with who
made it (``--by``, default the user name) and when (``show ID`` prints the history). ``export``
writes one JSON line per triaged finding (``confirmed`` or ``false_positive``) with its label and the
session's spans as an OTLP JSON request, so a detector evaluation can replay the session and score
itself against the human labels.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ._common import CommandError, render_table, truncate

if TYPE_CHECKING:
    from ..fleet import Journal

HELP = "Triage the monitor's findings (list, show, set a state) and export the labels."

STATES = ("new", "acknowledged", "false_positive", "confirmed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir", metavar="DIR", default=".agentguard/monitor", help="the monitor's journal"
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="findings, newest last")
    ls.add_argument("--state", choices=STATES, help="only findings in this state")
    ls.add_argument("--session", metavar="ID", help="only this session's findings")
    ls.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    show = sub.add_parser("show", help="one finding and its triage history")
    show.add_argument("id", type=int)
    st = sub.add_parser("set", help="set a finding's triage state")
    st.add_argument("id", type=int)
    st.add_argument("state", choices=STATES)
    st.add_argument("--note", default="", help="why")
    st.add_argument("--by", default=None, help="who (default: the user name)")
    ex = sub.add_parser("export", help="labelled findings with their sessions' spans, as JSON lines")
    ex.add_argument("--jsonl", action="store_true", help="JSON lines (the only format; accepted for clarity)")
    ex.add_argument("--all", action="store_true", help="every finding, not only confirmed / false positive")


def _journal(args: argparse.Namespace) -> Journal:
    from ..fleet import Journal

    path = Path(args.state_dir) / "monitor.db"
    if not path.exists():
        raise CommandError(f"no monitor journal in {args.state_dir}")
    return Journal(path)


def run(args: argparse.Namespace) -> int:
    journal = _journal(args)
    try:
        if args.action == "list":
            found = journal.query_findings(session_id=args.session, state=args.state)
            if args.json:
                for f in found:
                    print(json.dumps(f.to_dict(), sort_keys=True))
                return 0
            rows = [
                [str(f.id), f.session_id, f.severity, f.code, f.reviewer, f.state, truncate(f.message, 70)]
                for f in found
            ]
            headers = ["ID", "SESSION", "SEVERITY", "CODE", "REVIEWER", "STATE", "MESSAGE"]
            print(render_table(headers, rows, ["<"] * len(headers)))
            return 0
        if args.action == "show":
            match = journal.query_findings(finding_id=args.id)
            if not match:
                raise CommandError(f"no finding {args.id}")
            print(json.dumps({**match[0].to_dict(), "history": journal.triage_history(args.id)}, indent=2))
            return 0
        if args.action == "set":
            try:
                f = journal.set_state(args.id, args.state, by=args.by or getpass.getuser(), note=args.note)
            except KeyError:
                raise CommandError(f"no finding {args.id}") from None
            print(f"finding {f.id}: {f.state}", file=sys.stderr)
            return 0
        return _export(journal, everything=args.all)
    finally:
        journal.close()


def _export(journal: Journal, *, everything: bool) -> int:
    from ..traces import encode_records

    labelled = [
        f for f in journal.query_findings() if everything or f.state in ("confirmed", "false_positive")
    ]
    by_session: dict[str, list[str]] = {}
    for f in labelled:
        by_session.setdefault(f.session_id, journal.session_traces(f.session_id))
    for f in labelled:
        spans = [s for group in journal.spans_by_trace(by_session[f.session_id]).values() for s in group]
        line = {
            "session_id": f.session_id,
            "finding_id": f.id,
            "code": f.code,
            "category": f.category,
            "severity": f.severity,
            "reviewer": f.reviewer,
            "label": f.state,
            "history": journal.triage_history(f.id) if f.id is not None else [],
            "otlp": encode_records(spans),
        }
        print(json.dumps(line, sort_keys=True, separators=(",", ":")))
    return 0
