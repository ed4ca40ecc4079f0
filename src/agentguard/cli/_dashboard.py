"""``agentguard dashboard``: a live local dashboard over the local store or an OTLP JSON file.

::

    $ agentguard dashboard
    agentguard dashboard: http://127.0.0.1:8765/ over .agentguard/agentguard.db (Ctrl-C to stop)

It prints the URL and opens it in the default browser (``--no-open``: only print it, e.g. over SSH or
in a container; ``--json``: print ``{"url", "source"}`` as one JSON line instead). The page refreshes
itself every few seconds while agents run. It listens on 127.0.0.1 only. A store that does not exist
yet is not an error here: the page waits for an agent to create it (``report`` and ``runs``, which
read once, fail on a missing store instead).

``--monitor DIR`` (the monitor's ``--state-dir``) adds the monitor's panels: its findings per session
with their triage state, which a reviewer sets from the page (the same change as ``agentguard triage
set``), and the fleet trends. A state change is a ``POST`` carrying the per-install token (the one
``agentguard serve`` uses; ``$AGENTGUARD_TOKEN_FILE`` or ``~/.config/agentguard/serve-token``) from
the dashboard's own page only.
"""

from __future__ import annotations

import argparse
import errno
import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .._lazyre import lazy_compile
from ._common import CommandError

if TYPE_CHECKING:
    from ..dashboard import Source

HELP = "Serve a live dashboard of runs, cost, decisions and signals on 127.0.0.1."
DEFAULT_PORT = 8765
_RANGE = lazy_compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_range(text: str) -> int:
    """``all`` or a duration such as ``90s``, ``15m``, ``24h``, ``7d`` as seconds (``all`` is 0)."""
    text = text.strip().lower()
    if text in ("all", "0"):
        return 0
    match = _RANGE.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a time range: {text!r} (use all, 15m, 24h, 7d, ...)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_bucket(text: str) -> int:
    """A trend bucket size such as ``1h``, ``1d``, ``7d`` (at least a minute) as seconds."""
    seconds = parse_range(text)
    if seconds < 60:
        raise argparse.ArgumentTypeError(f"a bucket is at least a minute, not {text!r} (use 1h, 1d, 7d, ...)")
    return seconds


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--store PATH | --otlp FILE``, shared with ``agentguard report``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--store",
        metavar="PATH",
        help="the local store (default: $AGENTGUARD_STORE, else .agentguard/agentguard.db)",
    )
    group.add_argument(
        "--otlp",
        metavar="FILE",
        help="an OTLP JSON file instead (one ExportTraceServiceRequest per line, as the Collector's "
        "file exporter writes)",
    )


def open_source(args: argparse.Namespace, *, must_exist: bool = False) -> Source:
    """The data source named by ``--store``/``--otlp``; ``must_exist``: a missing store is an error."""
    from ..dashboard import open_source as open_

    if must_exist and not args.otlp:
        missing_store_check(args.store)
    try:
        return open_(store=args.store, otlp=args.otlp)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    except (sqlite3.Error, OSError) as exc:
        raise CommandError(f"cannot read {args.otlp or args.store}: {exc}") from None
    except Exception as exc:  # SchemaError and friends: one line, no traceback
        raise CommandError(f"cannot open the data source: {exc}") from None


def missing_store_check(store: str | None) -> None:
    """Raise the one ``no store at PATH`` error ``runs`` and ``report`` share, when it is missing."""
    from ..export.store import default_store_path

    path = store or default_store_path()
    if not Path(path).is_file():
        raise CommandError(missing_store_message(path))


def missing_store_message(path: object) -> str:
    return (
        f"no store at {path}; call agentguard.configure() in your agent to record runs "
        "(or run `make demo`), or pass --store PATH"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument(
        "--port",
        metavar="N",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--no-open",
        action="store_true",
        help="only print the URL (by default the dashboard also opens it in your browser)",
    )
    parser.add_argument("--json", action="store_true", help='print {"url", "source"} as one JSON line')
    parser.add_argument(
        "--monitor",
        metavar="DIR",
        help="the monitor's journal directory (agentguard monitor --state): its findings, triage, trends",
    )
    parser.add_argument(
        "--trend-bucket",
        metavar="DURATION",
        type=parse_bucket,
        default=86400,
        help="the fleet trends' bucket size with --monitor (1h, 1d, 7d...; default 1d)",
    )


def run(args: argparse.Namespace) -> int:
    from ..dashboard import DashboardApi, DashboardServer, MonitorView
    from ..fleet import TrendConfig
    from ._serve import install_token

    if not 0 <= args.port <= 65535:
        raise CommandError(f"not a port: {args.port}")
    monitor = None
    if args.monitor:
        try:
            monitor = MonitorView(args.monitor, trends=TrendConfig(bucket_s=args.trend_bucket))
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
    source = open_source(args)
    try:
        try:
            token = install_token() if monitor is not None else None
            server = DashboardServer(DashboardApi(source, monitor=monitor), port=args.port, token=token)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"port {args.port} is in use on 127.0.0.1; pass --port N (or --port 0 for a free one)"
                ) from None
            raise CommandError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from None
        if args.json:
            print(json.dumps({"url": server.url, "source": source.description}), flush=True)
        else:
            print(
                f"agentguard dashboard: {server.url} over {source.description} (Ctrl-C to stop)",
                flush=True,
            )
        if not args.no_open:
            import webbrowser

            try:
                webbrowser.open(server.url)
            except Exception as exc:  # no browser here: the URL above is enough
                print(f"(could not open a browser: {exc})", file=sys.stderr)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
    finally:
        source.close()
        if monitor is not None:
            monitor.close()
    return 0
