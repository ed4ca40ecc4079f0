"""Offline detection: recorded traces replayed through the same detectors the guard runs online.

::

    from agentguard.scan import scan

    report = scan(["traces.jsonl", ".agentguard/agentguard.db"], workers=4)
    for session in report.sessions:
        for signal in session.signals:
            print(session.id, signal.severity, signal.code, signal.message)
    for issue in report.issues:          # malformed lines, with file and line number
        print(issue)

Inputs are OTLP JSON lines (what the OpenTelemetry Collector's ``file`` exporter writes; ``.gz`` too)
and agentguard's local store (SQLite). Files are streamed: spans are held only until their trace's
root span arrives, so memory stays flat however large the file. Spans are grouped into sessions by
``gen_ai.conversation.id`` (else trace id). ``workers`` > 1 scans files in parallel processes, or,
for a single file, replays its sessions in parallel while this process parses. With the ``scan`` extra
installed (orjson), lines are read faster; the reports are the same without it.

:class:`OtlpJsonFileExporter` writes the same format from an SDK pipeline (useful in tests and for
runs without a collector). The command line is ``agentguard scan``.
"""

from __future__ import annotations

from ._exporter import OtlpJsonFileExporter
from ._replay import session_events, span_events
from ._runner import ScanIssue, ScanReport, scan, scan_file
from ._sessions import SessionResult
from ._spans import FormatError, SpanData, decode_request, encode_spans

__all__ = [
    "FormatError",
    "OtlpJsonFileExporter",
    "ScanIssue",
    "ScanReport",
    "SessionResult",
    "SpanData",
    "decode_request",
    "encode_spans",
    "scan",
    "scan_file",
    "session_events",
    "span_events",
]
