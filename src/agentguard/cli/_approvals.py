"""``agentguard approvals``: answer the requests a :class:`~agentguard.QueueApprover` is waiting on.

::

    $ agentguard approvals list
    ID            AGE  AGENT  TOOL  SUMMARY       REASON
    3f9c0a1b2c4d   4s  fixer  run   rm -rf build  destructive command
    $ agentguard approvals approve 3f9c0a1b2c4d --scope run
    approved 3f9c0a1b2c4d for the run (grant g5d0e1f2a3b4c)
    $ agentguard approvals grants
    $ agentguard approvals revoke g5d0e1f2a3b4c

    $ agentguard approvals history --limit 20   # every request and its answer, newest first

The queue is ``--store PATH``, else ``$AGENTGUARD_APPROVALS_DB``, else ``.agentguard/approvals.db``
(``--db`` is the old spelling of ``--store`` and still works).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from ._common import Align, CommandError, can_encode, render_table, truncate

if TYPE_CHECKING:
    from ..approval import ApprovalRequest, ApprovalStore

HELP = "List and answer pending approval requests; list and revoke grants."

_SCOPE_TEXT = {"once": "once", "run": "for the run", "always": "always"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    db_help = "the approvals queue (default: $AGENTGUARD_APPROVALS_DB, else .agentguard/approvals.db)"
    parser.add_argument("--store", dest="db", metavar="PATH", help=db_help)
    parser.add_argument("--db", dest="db", help=argparse.SUPPRESS)  # the old spelling of --store
    parser.set_defaults(json=False)  # plain `agentguard approvals` lists
    sub = parser.add_subparsers(dest="approvals_command", metavar="ACTION")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--store", dest="db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
        p.add_argument("--db", dest="db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = add("list", "Pending requests, oldest first (the default).")
    p.add_argument("--json", action="store_true", help="print them as a JSON array")
    p = add("approve", "Approve a pending request.")
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--scope",
        choices=("once", "run", "always"),
        default="once",
        help="once (default), every identical action in the run, or always",
    )
    p.add_argument("--by", metavar="NAME", help="who approves (default: your user name)")
    p.add_argument("--reason", metavar="TEXT", default="", help="why")
    p = add("deny", "Deny a pending request.")
    p.add_argument("id", metavar="ID")
    p.add_argument("--reason", metavar="TEXT", default="", help="why (shown to the agent)")
    p.add_argument("--by", metavar="NAME", help="who denies (default: your user name)")
    p = add("grants", "Standing grants (run and always), newest first.")
    p.add_argument("--all", action="store_true", help="include revoked grants")
    p.add_argument("--json", action="store_true", help="print them as a JSON array")
    p = add("revoke", "Revoke a grant: identical actions are asked about again.")
    p.add_argument("grant", metavar="GRANT")
    p.add_argument("--by", metavar="NAME", help="who revokes (default: your user name)")
    p = add("history", "Every request and its answer, newest first.")
    p.add_argument("--limit", metavar="N", type=int, default=50, help="at most N (default 50)")
    p.add_argument("--json", action="store_true", help="print them as a JSON array")


def run(args: argparse.Namespace) -> int:
    from ..approval import AlreadyAnsweredError, ApprovalError, ApprovalStore, UnknownIdError, default_db_path

    action = args.approvals_command or "list"
    path = args.db or default_db_path()
    try:
        store = ApprovalStore(path, create=False)
    except FileNotFoundError:
        if action in ("list", "grants", "history"):
            print("[]" if getattr(args, "json", False) else f"Nothing yet: no approvals queue at {path}.")
            return 0
        raise CommandError(f"no approvals queue at {path} (pass --store PATH)") from None
    except (ApprovalError, sqlite3.Error) as exc:
        raise CommandError(f"cannot open the approvals queue at {path}: {exc}") from None
    try:
        with store:
            return _COMMANDS[action](store, args)
    except (UnknownIdError, AlreadyAnsweredError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    except (ApprovalError, sqlite3.Error) as exc:
        raise CommandError(f"approvals queue at {path}: {exc}") from None


def _list(store: ApprovalStore, args: argparse.Namespace) -> int:
    pending = store.pending()
    if args.json:
        print(json.dumps([_request_dict(r) for r in pending], indent=2))
        return 0
    if not pending:
        print(f"No pending approval requests in {store.path}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            r.id,
            _age(now - r.created),
            truncate(r.agent, 16, ellipsis) if r.agent else unknown,
            truncate(r.tool, 16, ellipsis),
            truncate(r.summary, 48, ellipsis),
            truncate(r.reason, 40, ellipsis) if r.reason else unknown,
        ]
        for r in pending
    ]
    align: tuple[Align, ...] = ("<", ">", "<", "<", "<", "<")
    print(render_table(("ID", "AGE", "AGENT", "TOOL", "SUMMARY", "REASON"), rows, align))
    return 0


def _approve(store: ApprovalStore, args: argparse.Namespace) -> int:
    record = store.answer(args.id, True, by=args.by or _user(), scope=args.scope, reason=args.reason)
    grant = f" (grant {record.grant_id})" if record.grant_id else ""
    print(f"approved {args.id} {_SCOPE_TEXT[args.scope]}{grant}")
    return 0


def _deny(store: ApprovalStore, args: argparse.Namespace) -> int:
    store.answer(args.id, False, by=args.by or _user(), reason=args.reason)
    print(f"denied {args.id}")
    return 0


def _grants(store: ApprovalStore, args: argparse.Namespace) -> int:
    grants = store.grants(include_revoked=args.all)
    if args.json:
        print(json.dumps([g.to_dict() for g in grants], indent=2))
        return 0
    if not grants:
        print(f"No grants in {store.path}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            g.id,
            g.scope + (" (revoked)" if g.revoked is not None else ""),
            g.run_id or unknown,
            _age(now - g.created),
            truncate(g.by, 16, ellipsis),
            truncate(g.tool, 16, ellipsis),
            truncate(g.summary, 48, ellipsis),
        ]
        for g in grants
    ]
    align: tuple[Align, ...] = ("<", "<", "<", ">", "<", "<", "<")
    print(render_table(("GRANT", "SCOPE", "RUN", "AGE", "BY", "TOOL", "SUMMARY"), rows, align))
    return 0


def _revoke(store: ApprovalStore, args: argparse.Namespace) -> int:
    store.revoke(args.grant, by=args.by or _user())
    print(f"revoked {args.grant}")
    return 0


def _history(store: ApprovalStore, args: argparse.Namespace) -> int:
    records = store.history(limit=max(args.limit, 1))
    if args.json:
        print(json.dumps([r.to_dict() for r in records], indent=2))
        return 0
    if not records:
        print(f"No approval requests in {store.path}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            r.request.id,
            _age(now - r.request.created),
            r.status + (f" ({r.scope})" if r.status == "granted" and r.scope != "once" else ""),
            truncate(r.by, 16, ellipsis) if r.by else unknown,
            truncate(r.request.tool, 16, ellipsis),
            truncate(r.request.summary, 48, ellipsis),
        ]
        for r in records
    ]
    align: tuple[Align, ...] = ("<", ">", "<", "<", "<", "<")
    print(render_table(("ID", "AGE", "STATUS", "BY", "TOOL", "SUMMARY"), rows, align))
    return 0


_COMMANDS = {
    "list": _list,
    "approve": _approve,
    "deny": _deny,
    "grants": _grants,
    "revoke": _revoke,
    "history": _history,
}


def _request_dict(request: ApprovalRequest) -> dict[str, object]:
    data = asdict(request)
    data["rule_ids"] = list(data["rule_ids"])
    return data


def _glyphs() -> tuple[str, str]:
    fancy = can_encode("—…")
    return ("—", "…") if fancy else ("-", "...")


def _age(seconds: float) -> str:
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds // 3600:.0f}h"
    return f"{seconds // 86400:.0f}d"


def _user() -> str:
    import getpass

    try:
        return getpass.getuser() or "cli"
    except Exception:  # no user name in this environment
        return "cli"
