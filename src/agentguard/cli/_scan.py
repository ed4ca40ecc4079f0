"""``agentguard scan``: misalignment detectors over recorded traces.

::

    $ agentguard scan --fail-on high traces.jsonl .agentguard/agentguard.db
    SESSION                           SOURCE        SPANS  SIGNALS  WORST
    4f1c9a0e2b7d4c55a1e0f3b2c9d8e7f6  traces.jsonl     14        2  high
      high    reward_hacking.assert_removed  tests/test_parser.py: assertions per test case went from 3 to 1
      medium  deception.unverified_claim     the final message says the tests pass, but no test run happened
    1 session, 14 spans, 2 signals

Reads OTLP JSON lines (the OpenTelemetry Collector's file exporter; traces or logs, ``.gz`` too), OTLP
protobuf files, agent transcripts, local stores and directories of them; with no PATH, the local store
(``$AGENTGUARD_STORE``, else ``.agentguard/agentguard.db``). All inputs are read before any session is
replayed, so a session split across files is one session. Malformed lines are reported on stderr with
file and line and skipped (the first few per file, then a count). ``--json`` prints
``{"sessions": [{"id", "signals": [...]}], ...}``. On a terminal, stderr shows what is being read and
for how long; piped, it shows nothing but the skipped lines.

``--engine ray`` runs the same scan as a Ray Data job (the ``ray`` extra) on the cluster at
``--ray-address`` (else ``$RAY_ADDRESS``, else a local cluster started for the scan), with the same
report; its judge (``--judge``) sees only the sessions the detectors flagged.

Exit status: 0; 1 when a signal reaches ``--fail-on``, when a file is missing, when an input could not
be read to its end (a truncated or corrupt gzip file: the sessions read before the damage are still
reported), or when nothing could be decoded at all (e.g. ``agentguard scan README.md``); 64 for a
usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._common import EXIT_USAGE, SEVERITY_SGR, Align, CommandError, paint, render_table, truncate, use_color

if TYPE_CHECKING:
    from ..scan import ScanIssue, ScanReport

HELP = "Run the misalignment detectors over recorded traces (OTLP files or a local store)."

_SEVERITIES = ("info", "low", "medium", "high", "critical")
# Skipped lines printed per file; the rest are counted on one line.
MAX_ISSUES_PER_FILE = 5


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
        "paths",
        nargs="*",
        metavar="PATH",
        help="OTLP JSON lines files, directories or local stores (default: the local store, "
        "$AGENTGUARD_STORE or .agentguard/agentguard.db)",
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
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this machine (default); ray: a Ray Data job on a Ray cluster (agentguard[ray])",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to run on (auto, HOST:PORT or ray://HOST:10001; default: $RAY_ADDRESS, "
        "else a local cluster started for the scan)",
    )
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

    if args.judge_base_url and not args.judge:
        raise CommandError("--judge-base-url needs --judge MODEL", status=EXIT_USAGE)
    if args.ray_address and args.engine != "ray":
        raise CommandError("--ray-address needs --engine ray", status=EXIT_USAGE)
    if args.engine == "ray" and args.workers != 1:
        raise CommandError(
            "--workers is for --engine local (a Ray job uses the cluster's CPUs)", status=EXIT_USAGE
        )
    paths: list[str] = list(args.paths)
    if not paths:
        from ..export.store import default_store_path

        store = default_store_path()
        if not Path(store).is_file():
            raise CommandError(
                f"no store at {store}; record runs with agentguard.configure() in your agent "
                "(or `make demo`), or pass PATH"
            )
        paths = [str(store)]
    report = _scan(paths, args, sys.stderr)
    incomplete = report.incomplete
    if report.issues and not report.spans and not report.sessions:
        if len(report.issues) == 1:
            raise CommandError(f"nothing could be read: {report.issues[0]}")
        _print_issues(report.issues, prefix="")
        lines = sum(1 for i in report.issues if i.line)
        what = f"{lines:,} line{'s' if lines != 1 else ''} could not be decoded" if lines else "see above"
        raise CommandError(f"nothing could be read ({what}): not OTLP JSON lines or a local store?")
    _print_issues([i for i in report.issues if not i.fatal], prefix="skipped ")
    _print_issues([i for i in report.issues if i.fatal], prefix="incomplete ")
    if args.judge and args.engine == "ray":
        for session in report.sessions:
            if session.judge_error:
                print(
                    f"agentguard scan: judge on session {session.id}: {session.judge_error}", file=sys.stderr
                )
    elif args.judge:
        _judge(report, args)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(_table(report, show_all=args.all, color=use_color(args)))
    if args.fail_on is not None and report.worst() >= severity_rank(args.fail_on):
        return 1
    return 1 if incomplete else 0


def _scan(paths: list[str], args: argparse.Namespace, err: TextIO) -> ScanReport:
    """``scan(paths)`` (one call: sessions may span files); on a terminal, stderr shows the progress."""
    from ..scan import scan
    from ..traces import expand

    transcripts = bool(args.judge)
    if args.engine == "ray":
        return _scan_ray(paths, args, err)
    if not err.isatty():
        return scan(paths, workers=args.workers, transcripts=transcripts)
    files = expand(paths)
    with _ticker(err, f"scanning {_describe(files)}", files):
        return scan(paths, workers=args.workers, transcripts=transcripts)


def _scan_ray(paths: list[str], args: argparse.Namespace, err: TextIO) -> ScanReport:
    """``scan_ray(paths)``: the same report from a Ray Data job; the judge is its second stage."""
    from ..scan import LOOPBACK_ONLY, scan_ray

    if not args.ray_address and not os.environ.get("RAY_ADDRESS"):
        # the local cluster started for this scan listens on loopback only (read when ray is imported)
        os.environ.setdefault(LOOPBACK_ONLY, "0")
    _quiet_ray_data()
    judge = None
    if args.judge:
        from ..detect import TranscriptMonitor

        judge = TranscriptMonitor(model=args.judge, base_url=args.judge_base_url, timeout=args.judge_timeout)
    try:
        if not err.isatty():
            return scan_ray(paths, address=args.ray_address, judge=judge)
        with _ticker(err, f"scanning {len(paths)} input{'s' if len(paths) != 1 else ''} on Ray"):
            return scan_ray(paths, address=args.ray_address, judge=judge)
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    except ConnectionError as exc:  # ray.init: no cluster at the address
        raise CommandError(f"cannot reach the Ray cluster: {exc}") from None


def _quiet_ray_data() -> None:
    """Ray Data's console lines (one per dataset run, notices) off stderr: the report is the output.
    Its log file in the Ray session directory keeps them."""
    import logging

    try:
        import ray.data  # configures its loggers on import
    except ImportError:
        return  # scan_ray says what to install
    for handler in logging.getLogger(ray.data.__name__).handlers:
        if getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
            handler.setLevel(logging.ERROR)


def _describe(files: list[Path]) -> str:
    size = sum(f.stat().st_size for f in files if f.is_file())
    name = str(files[0]) if len(files) == 1 else f"{len(files)} files"
    return f"{name} ({size / 1e6:,.1f} MB)"


@contextmanager
def _ticker(err: TextIO, label: str, files: list[Path] | None = None) -> Iterator[None]:
    """A one-line status on the terminal ``err``, redrawn each second, erased when done.

    With ``files``, it is a progress bar: how far this process has read into them (the read offset
    of their open descriptors, where the platform shows it, as Linux does in ``/proc/self/fdinfo``).
    """
    stop = threading.Event()
    started = time.monotonic()
    total = sum(f.stat().st_size for f in files or () if f.is_file())

    def draw() -> None:
        while not stop.wait(1.0):
            elapsed = f"{time.monotonic() - started:.0f} s"
            done = _bytes_read(files) if files and total else None
            if done is None:
                err.write(f"\r\033[K{label} … {elapsed}")
            else:
                share = min(1.0, done / total)
                bar = "#" * round(share * 24)
                err.write(f"\r\033[K{label} [{bar:<24}] {share:4.0%} {elapsed}")
            err.flush()

    thread = threading.Thread(target=draw, name="agentguard-scan-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        err.write("\r\033[K")
        err.flush()


def _bytes_read(files: list[Path]) -> int | None:
    """Bytes read so far from ``files`` by this process (finished files count whole), if knowable."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return None
    wanted = {str(f.resolve()): f for f in files}
    positions: dict[str, int] = {}
    try:
        for fd in fd_dir.iterdir():
            try:
                target = str(fd.resolve())
                if target in wanted:
                    info = Path(f"/proc/self/fdinfo/{fd.name}").read_text()
                    pos = next(int(x.split()[1]) for x in info.splitlines() if x.startswith("pos:"))
                    positions[target] = max(positions.get(target, 0), pos)
            except (OSError, StopIteration, ValueError):
                continue
    except OSError:
        return None
    if not positions:
        return None
    # files before the first open one are finished (they are read in order)
    order = list(wanted)
    first_open = min(order.index(k) for k in positions)
    finished = sum(wanted[k].stat().st_size for k in order[:first_open] if wanted[k].is_file())
    return finished + sum(positions.values())


def _print_issues(issues: list[ScanIssue], *, prefix: str) -> None:
    """The first :data:`MAX_ISSUES_PER_FILE` issues of each file, then how many more were skipped."""
    shown: Counter[str] = Counter()
    for issue in issues:
        shown[issue.path] += 1
        if shown[issue.path] <= MAX_ISSUES_PER_FILE:
            print(f"agentguard scan: {prefix}{issue}", file=sys.stderr)
    for path, n in shown.items():
        if n > MAX_ISSUES_PER_FILE:
            more = n - MAX_ISSUES_PER_FILE
            print(f"agentguard scan: {path}: {more:,} more unreadable line{'s' if more != 1 else ''} skipped",
                  file=sys.stderr)  # fmt: skip


def _judge(report: ScanReport, args: argparse.Namespace) -> None:
    import asyncio

    from ..detect import TranscriptMonitor

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


def _table(report: ScanReport, *, show_all: bool, color: bool = False) -> str:
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
            top = max(s.signals, key=lambda g: g.rank).severity if s.signals else None
            if top is not None and row_line.endswith(top):  # colour the WORST column only
                lines.append(row_line[: -len(top)] + paint(top, SEVERITY_SGR.get(top), color))
            else:
                lines.append(row_line)
            ordered = sorted(s.signals, key=lambda g: (-g.rank, g.code))
            width = max((len(g.code) for g in ordered), default=0)
            for g in ordered:
                judge = " (judge)" if g.source == "judge" else ""
                severity = paint(f"{g.severity:<8}", SEVERITY_SGR.get(g.severity), color)
                lines.append(f"  {severity}  {g.code:<{width}}  {truncate(g.message + judge, 100)}")
    n = len(report.sessions)
    lines.append(
        f"{n} session{'s' if n != 1 else ''}, {report.spans} spans, {total} signal{'s' if total != 1 else ''}"
    )
    return "\n".join(lines)
