"""``agentguard monitor``: review every agent session minutes after it ends.

::

    $ agentguard monitor --port 4319 --alert-severity high --webhook https://alerts.example/hook
    agentguard monitor: OTLP/HTTP on http://127.0.0.1:4319 (/v1/traces, /v1/logs); state in ...
    {"code":"circumvention.encoded_command","kind":"agentguard.monitor.finding","reviewer":"rules",...}

Point an OTLP/HTTP exporter (``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4319``) or a Collector's
``otlphttp`` exporter at it, or ``--follow`` the Collector's ``file`` exporter output. Alerts at or
above ``--alert-severity`` are printed on stdout as JSON lines and posted to ``--webhook``, signed
with the secret in the environment variable ``--webhook-secret-env`` names. ``--judge MODEL`` (repeat
for several judges) asks an OpenAI-compatible model about the flagged sessions and a ``--sample`` of
the rest. ``--status`` prints the journal's counts and exits; ``--findings`` prints the stored findings
as JSON lines. ``--prometheus-port`` serves the monitor's metrics for Prometheus (``0``: any free
port; the address is printed), the fleet trends' ``agentguard.fleet.*`` gauges among them (per agent
and repository, in ``--trend-bucket`` buckets). ``--retain SECONDS`` keeps a reviewed session's spans
that long, then compacts them away (sessions with findings keep their findings), so the journal stops
growing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ._common import CommandError
from ._dashboard import parse_bucket

HELP = "Review every agent session as its spans arrive (OTLP/HTTP receiver or followed files)."

_SEVERITIES = ("info", "low", "medium", "high", "critical")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value < 1e9:
        raise argparse.ArgumentTypeError("must be a number of seconds >= 0")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds > 0")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", metavar="DIR", default=".agentguard/monitor", help="journal directory")
    parser.add_argument("--host", default="127.0.0.1", help="receiver address (default loopback)")
    parser.add_argument("--port", type=int, default=4319, help="receiver port (0: any free port)")
    parser.add_argument("--no-receiver", action="store_true", help="only follow files")
    parser.add_argument(
        "--follow", metavar="FILE", action="append", default=[], help="OTLP JSON lines to follow"
    )
    parser.add_argument(
        "--settle", metavar="SECONDS", type=_seconds, default=1.0, help="quiet time after the root span (1)"
    )
    parser.add_argument(
        "--idle", metavar="SECONDS", type=_seconds, default=300.0, help="idle time that ends a session (300)"
    )
    parser.add_argument(
        "--judge", metavar="MODEL", action="append", default=[], help="an LLM judge (repeatable)"
    )
    parser.add_argument("--judge-base-url", metavar="URL", help="the judges' OpenAI-compatible endpoint")
    parser.add_argument("--judge-timeout", metavar="SECONDS", type=_seconds, default=60.0)
    parser.add_argument(
        "--sample", metavar="FRACTION", type=_fraction, default=0.0, help="unflagged sessions also judged"
    )
    parser.add_argument(
        "--alert-severity", choices=_SEVERITIES, default="high", help="alert threshold (high)"
    )
    parser.add_argument("--webhook", metavar="URL", help="POST alerts here (JSON, signed, retried)")
    parser.add_argument(
        "--webhook-secret-env", metavar="NAME", help="environment variable holding the HMAC secret"
    )
    parser.add_argument(
        "--prometheus-port",
        metavar="PORT",
        type=int,
        help="serve metrics on 127.0.0.1:PORT (0: any free port)",
    )
    parser.add_argument(
        "--retain",
        metavar="SECONDS",
        type=_positive_seconds,
        help="keep reviewed sessions' spans this long, then compact them away (default: forever)",
    )
    parser.add_argument(
        "--trend-bucket",
        metavar="DURATION",
        type=parse_bucket,
        default=86400,
        help="fleet trends' bucket size (1h, 1d, 7d...; default 1d): the agentguard.fleet.* gauges, spikes",
    )
    parser.add_argument("--status", action="store_true", help="print the journal's counts as JSON and exit")
    parser.add_argument(
        "--findings", action="store_true", help="print stored findings as JSON lines and exit"
    )


def run(args: argparse.Namespace) -> int:
    from ..fleet import Journal, Monitor, MonitorConfig, TrendConfig, Webhook

    state = Path(args.state)
    if args.status or args.findings:
        if not (state / "monitor.db").exists():
            raise CommandError(f"no monitor journal in {state}")
        journal = Journal(state / "monitor.db")
        try:
            if args.status:
                print(json.dumps(journal.status().to_dict(), indent=2))
            else:
                for f in journal.findings():
                    print(json.dumps(f.to_dict(), sort_keys=True))
        finally:
            journal.close()
        return 0
    if args.no_receiver and not args.follow:
        raise CommandError("--no-receiver needs at least one --follow FILE", status=64)
    webhook = None
    if args.webhook:
        secret = None
        if args.webhook_secret_env:
            secret = os.environ.get(args.webhook_secret_env)
            if not secret:
                raise CommandError(f"--webhook-secret-env: ${args.webhook_secret_env} is not set", status=64)
        webhook = Webhook(url=args.webhook, secret=secret)
    judges: list[Any] = []
    if args.judge:
        from ..detect import TranscriptMonitor

        judges = [
            TranscriptMonitor(model=m, base_url=args.judge_base_url, timeout=args.judge_timeout)
            for m in args.judge
        ]
    meter_provider, metrics_port = _meter_provider(args.prometheus_port)
    config = MonitorConfig(
        state_dir=state,
        host=args.host,
        port=None if args.no_receiver else args.port,
        follow=[Path(p) for p in args.follow],
        settle_s=args.settle,
        idle_s=max(args.idle, 0.001),
        judges=judges,
        sample=args.sample,
        alert_severity=args.alert_severity,
        alert_stream=sys.stdout,
        webhook=webhook,
        trends=TrendConfig(bucket_s=args.trend_bucket),
        retain_s=args.retain,
    )
    try:
        monitor = Monitor(config, meter_provider=meter_provider)
        monitor.start()
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    where = (
        f"OTLP/HTTP on {monitor.url} (/v1/traces, /v1/logs)"
        if monitor.receiver is not None
        else "no receiver"
    )
    follows = "".join(f"; following {p}" for p in args.follow)
    metrics = f"; metrics on http://127.0.0.1:{metrics_port}/metrics" if metrics_port is not None else ""
    print(f"agentguard monitor: {where}{follows}{metrics}; state in {state}", file=sys.stderr, flush=True)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        monitor.stop()
    return 0


def _meter_provider(port: int | None) -> tuple[Any, int | None]:
    """A meter provider whose metrics are served on 127.0.0.1:``port`` (0: a free port), and the port."""
    if port is None:
        return None, None
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider
        from prometheus_client import start_http_server
    except ImportError as exc:
        raise CommandError(f"--prometheus-port needs the prometheus extra ({exc})") from exc
    try:
        server, _ = start_http_server(port, addr="127.0.0.1")
    except OSError as exc:
        raise CommandError(f"cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc}") from exc
    return MeterProvider(metric_readers=[PrometheusMetricReader()]), int(server.server_port)
