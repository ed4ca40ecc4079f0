"""The local dashboard and the static report, over the local store or an OTLP JSON file.

From the command line::

    agentguard dashboard                      # http://127.0.0.1:8765/ over .agentguard/agentguard.db
    agentguard dashboard --otlp traces.jsonl  # over a Collector file export
    agentguard report -o report.html          # the same panels in one self-contained file

From Python::

    from agentguard.dashboard import DashboardApi, DashboardServer, open_source, write_report

    source = open_source(store=".agentguard/agentguard.db")
    write_report(source, "report.html")
    with DashboardServer(DashboardApi(source)) as server:   # port 0: a free port
        print(server.url)

Panels: Refusal rate, Cost, Tool calls, Policy decisions, Approvals, Scope violations, Signals,
Triage (each run opens its timeline); with a monitor journal (``DashboardApi(source,
monitor=MonitorView(dir))``, ``agentguard dashboard --monitor DIR``) also Monitor findings (triaged
from the page with a token-carrying ``POST``) and Fleet trends. Aggregation happens in SQLite; the
page polls a JSON API every few seconds and draws its charts itself (inline SVG, no external resources).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._api import PANELS, DashboardApi, NotFound
from ._monitor import MonitorView, UnknownSession
from ._otlp import OtlpFileReader
from ._page import report_page
from ._queries import signal_list
from ._server import TOKEN_HEADER, DashboardServer, write_refusal
from ._source import OtlpSource, Source, StoreSource

__all__ = [
    "PANELS",
    "TOKEN_HEADER",
    "DashboardApi",
    "DashboardServer",
    "MonitorView",
    "NotFound",
    "OtlpFileReader",
    "OtlpSource",
    "Source",
    "StoreSource",
    "UnknownSession",
    "open_source",
    "signal_list",
    "write_refusal",
    "write_report",
]


def open_source(
    *, store: str | os.PathLike[str] | None = None, otlp: str | os.PathLike[str] | None = None
) -> Source:
    """The OTLP file ``otlp`` when given, else the local store ``store`` (default: the usual path).

    Raises :class:`FileNotFoundError` for a missing OTLP file; a missing store is not an error (the
    dashboard waits for an agent to create it).
    """
    if otlp is not None:
        return OtlpSource(otlp)
    if store is None:
        from ..export.store import default_store_path

        store = default_store_path()
    source = StoreSource(store)
    source.refresh()
    return source


def write_report(
    source: Source, path: str | os.PathLike[str], *, range_s: int = 0, timelines: int = 50
) -> Path:
    """Write the self-contained HTML report of ``source`` to ``path``; returns the path."""
    data = DashboardApi(source).snapshot(range_s=range_s, timelines=timelines)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(report_page(data), encoding="utf-8")
    tmp.replace(out)
    return out
