"""``agentguard approvals``: answer the requests a :class:`~agentguard.QueueApprover` is waiting on.

::

    $ agentguard approvals list
    ID            AGE  STATUS   AGENT  TOOL  REASON
    3f9c0a1b2c4d   4s  pending  fixer  run   destructive command

    3f9c0a1b2c4d  rm -rf build
    $ agentguard approvals show 3f9c0a1b2c4d
    $ agentguard approvals approve 3f9c0a1b2c4d --scope run
    approved 3f9c0a1b2c4d for the run (grant g5d0e1f2a3b4c)
    $ agentguard approvals grants
    $ agentguard approvals revoke g5d0e1f2a3b4c

The queue is ``--url postgresql://...`` (a queue in PostgreSQL that agents on other machines share;
``agentguard[postgres]``), or ``--store PATH`` (a SQLite file), else ``$AGENTGUARD_APPROVALS_URL``,
else ``$AGENTGUARD_APPROVALS_DB``, else ``.agentguard/approvals.db`` (``--db`` is the old spelling of
``--store`` and still works). The URL's password is never printed (``***`` where the URL is shown);
``PGPASSWORD`` or ``~/.pgpass`` keep it off the command line. ``history --limit N`` lists every request
and its answer, newest first.

What the agent sent is shown whole (wrapped to the terminal, never cut) and with every control or
invisible character written as an escape (``\x1b[8m`` cannot hide the rest of a command). A request
whose waiting agent is gone is listed as ``orphaned`` and cannot be approved; one whose waiter gave
up is ``expired`` in the history.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import textwrap
import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..approval import visible
from ._common import Align, CommandError, can_encode, render_table, truncate

if TYPE_CHECKING:
    from ..approval import ApprovalRequest, ApprovalStore

HELP = "List and answer pending approval requests; list and revoke grants."

_SCOPE_TEXT = {"once": "once", "run": "for the run", "always": "always"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    db_help = "the approvals queue file (default: $AGENTGUARD_APPROVALS_DB, else .agentguard/approvals.db)"
    url_help = "the approvals queue in PostgreSQL, postgresql://... (default: $AGENTGUARD_APPROVALS_URL)"
    parser.add_argument("--store", dest="db", metavar="PATH", help=db_help)
    parser.add_argument("--db", dest="db", help=argparse.SUPPRESS)  # the old spelling of --store
    parser.add_argument("--url", dest="url", metavar="URL", help=url_help)
    parser.set_defaults(json=False)  # plain `agentguard approvals` lists
    sub = parser.add_subparsers(dest="approvals_command", metavar="ACTION")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--store", dest="db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
        p.add_argument("--db", dest="db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.add_argument("--url", dest="url", metavar="URL", default=argparse.SUPPRESS, help=url_help)
        return p

    p = add(
        "list", "Open requests (pending or orphaned), oldest first, with their whole action (the default)."
    )
    p.add_argument("--json", action="store_true", help="print them as a JSON array")
    p = add("show", "One request in full: the whole action, its reason, rules, run and status.")
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="print it as a JSON object")
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
    from ..approval import (
        AlreadyAnsweredError,
        ApprovalError,
        ApprovalStore,
        UnknownIdError,
        default_db_path,
        default_url,
        redact_url,
    )

    action = args.approvals_command or "list"
    if args.url and args.db:
        raise CommandError("give --url or --store, not both")
    url = args.url or (None if args.db else default_url())
    path = None if url else args.db or default_db_path()
    where = redact_url(url) if url else str(path)
    try:
        store = ApprovalStore(path, url=url, create=False)
    except FileNotFoundError:
        if action in ("list", "grants", "history"):
            print("[]" if getattr(args, "json", False) else f"Nothing yet: no approvals queue at {where}.")
            return 0
        hint = "--url URL" if url else "--store PATH"
        raise CommandError(f"no approvals queue at {where} (pass {hint})") from None
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:  # a URL that is not one (its message masks the password)
        raise CommandError(str(exc)) from None
    except (ApprovalError, sqlite3.Error, OSError) as exc:
        raise CommandError(f"cannot open the approvals queue at {where}: {exc}") from None
    try:
        with store:
            return _COMMANDS[action](store, args)
    except (UnknownIdError, AlreadyAnsweredError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    except (ApprovalError, sqlite3.Error) as exc:
        raise CommandError(f"approvals queue at {where}: {exc}") from None


def _list(store: ApprovalStore, args: argparse.Namespace) -> int:
    records = store.open()
    if args.json:
        print(json.dumps([_request_dict(r.request) | {"status": r.status} for r in records], indent=2))
        return 0
    if not records:
        print(f"No pending approval requests in {store.location}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            visible(r.request.id),
            _age(now - r.request.created),
            r.status,
            truncate(visible(r.request.agent), 16, ellipsis) if r.request.agent else unknown,
            truncate(visible(r.request.tool), 16, ellipsis),
            truncate(visible(r.request.reason), 40, ellipsis) if r.request.reason else unknown,
        ]
        for r in records
    ]
    align: tuple[Align, ...] = ("<", ">", "<", "<", "<", "<")
    print(render_table(("ID", "AGE", "STATUS", "AGENT", "TOOL", "REASON"), rows, align))
    print()
    width = max(max(len(row[0]) for row in rows) + 2, 12)
    for r in records:
        print(_wrapped(r.request.summary, first=visible(r.request.id).ljust(width), indent=" " * width))
    if any(r.status == "orphaned" for r in records):
        print("\n(orphaned: the agent waiting for it is gone; it cannot be approved)")
    return 0


def _show(store: ApprovalStore, args: argparse.Namespace) -> int:
    record = store.get(args.id)
    request = record.request
    if args.json:
        data = record.to_dict()
        print(json.dumps(data, indent=2))
        return 0
    status = record.status + (f" ({record.scope})" if record.status == "granted" and record.scope else "")
    fields = [
        ("request", request.id),
        ("status", status + (f" by {record.by}" if record.by else "")),
        ("age", _age(time.time() - request.created)),
        ("agent", request.agent or "-"),
        ("run", request.run_id or "-"),
        ("tool", f"{request.tool} ({request.kind})"),
        ("reason", request.reason or "-"),
        ("rules", ", ".join(request.rule_ids) or "-"),
        ("hash", request.action_hash),
    ]
    if record.reason:
        fields.append(("answer", record.reason))
    if record.grant_id:
        fields.append(("grant", record.grant_id))
    for name, value in fields:
        print(_wrapped(value, first=f"{name:<9}", indent=" " * 9))
    print("action")
    print(_wrapped(request.summary, first="  ", indent="  "))
    return 0


def _wrapped(text: str, *, first: str, indent: str) -> str:
    """``text`` made visible and wrapped to the terminal: its own lines kept, long lines broken."""
    width = max(shutil.get_terminal_size((100, 24)).columns, 40)
    lines: list[str] = []
    for number, line in enumerate(text.split("\n")):
        shown = visible(line.replace("\t", "    "))
        prefix = first if number == 0 else indent
        pieces = textwrap.wrap(
            shown,
            width=width,
            initial_indent=prefix,
            subsequent_indent=indent,
            break_long_words=True,
            break_on_hyphens=False,
            drop_whitespace=False,
            replace_whitespace=False,
        )
        if pieces:
            lines.extend(piece.rstrip() for piece in pieces)
        else:
            lines.append(prefix.rstrip())
    return "\n".join(lines)


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
        print(f"No grants in {store.location}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            g.id,
            g.scope + (" (revoked)" if g.revoked is not None else ""),
            g.run_id or unknown,
            _age(now - g.created),
            truncate(visible(g.by), 16, ellipsis),
            truncate(visible(g.tool), 16, ellipsis),
            truncate(visible(g.summary), 48, ellipsis),
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
        print(f"No approval requests in {store.location}.")
        return 0
    now = time.time()
    unknown, ellipsis = _glyphs()
    rows = [
        [
            r.request.id,
            _age(now - r.request.created),
            r.status + (f" ({r.scope})" if r.status == "granted" and r.scope != "once" else ""),
            truncate(visible(r.by), 16, ellipsis) if r.by else unknown,
            truncate(visible(r.request.tool), 16, ellipsis),
            truncate(visible(r.request.summary), 48, ellipsis),
        ]
        for r in records
    ]
    align: tuple[Align, ...] = ("<", ">", "<", "<", "<", "<")
    print(render_table(("ID", "AGE", "STATUS", "BY", "TOOL", "SUMMARY"), rows, align))
    return 0


_COMMANDS = {
    "list": _list,
    "show": _show,
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
