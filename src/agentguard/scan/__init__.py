"""Offline detection: recorded traces replayed through the same detectors the guard runs online.

::

    from agentguard.scan import scan

    report = scan(["traces.jsonl", "more/", ".agentguard/agentguard.db"], workers=4)
    for session in report.sessions:
        for signal in session.signals:
            print(session.id, signal.severity, signal.code, signal.message)
    for issue in report.issues:          # malformed lines, with file and line number
        print(issue)

Inputs are what :mod:`agentguard.traces` reads: OTLP JSON lines (what the OpenTelemetry Collector's
``file`` exporter writes; traces or logs; ``.gz`` too), OTLP protobuf files and agentguard's local
store (SQLite). Every input is read and assembled into sessions first (see
:func:`agentguard.traces.assemble`: any order, split across files, the conversation id on any span),
spilling to a temporary SQLite file on large inputs; then each session is replayed through every
registered reader and the detectors. Signals already recorded on the spans (``agentguard.signal``
events) count too, once. ``workers`` > 1 replays sessions in parallel processes. With the ``scan``
extra installed (orjson), lines are read faster; the reports are the same without it.

:class:`OtlpJsonFileExporter` writes the OTLP JSON format from an SDK pipeline (useful in tests and for
runs without a collector). The command line is ``agentguard scan``.

:func:`scan_ray` runs the same scan as a Ray Data job (``agentguard scan --engine ray``, the ``ray``
extra) on a local or multi-node Ray cluster, with the same report.
"""

from __future__ import annotations

from ..traces import FormatError, decode_request, encode_spans
from ._exporter import OtlpJsonFileExporter
from ._ray import LOOPBACK_ONLY, scan_ray
from ._runner import ScanIssue, ScanReport, scan, scan_file
from ._sessions import SessionResult, replay

__all__ = [
    "LOOPBACK_ONLY",
    "FormatError",
    "OtlpJsonFileExporter",
    "ScanIssue",
    "ScanReport",
    "SessionResult",
    "decode_request",
    "encode_spans",
    "replay",
    "scan",
    "scan_file",
    "scan_ray",
]
