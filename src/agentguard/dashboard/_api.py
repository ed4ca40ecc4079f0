"""The dashboard's JSON API over a :class:`~agentguard.dashboard._source.Source`, with a small cache.

One method per endpoint; the HTTP server and the static report both call them. Answers are cached
per (data version, request) for a couple of seconds, so many open tabs polling a large store cost one
query per panel per refresh, and nothing when no agent wrote anything since.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

from . import _queries as q
from ._monitor import MonitorView, UnknownSession
from ._source import OtlpSource, Source
from ._timeline import run_timeline

PANELS: Final[dict[str, Callable[[Source, q.Window], dict[str, Any]]]] = {
    "overview": q.overview,
    "refusals": q.refusals,
    "cost": q.cost,
    "tools": q.tools,
    "decisions": q.decisions,
    "approvals": q.approvals,
    "scope": q.scope,
    "signals": q.signals,
}
RANGES_S: Final = (0, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)
POLL_MS: Final = 3000
MAX_PAGE: Final = 200
_CACHE_TTL_S: Final = 2.0
_CACHE_MAX: Final = 256


class NotFound(LookupError):
    """No such panel, run, or monitor session."""


class DashboardApi:
    """The endpoints' answers for one source."""

    def __init__(self, source: Source, *, poll_ms: int = POLL_MS, monitor: MonitorView | None = None) -> None:
        self.source = source
        self.poll_ms = poll_ms
        self.monitor = monitor
        """The monitor's journal (``--monitor DIR``): its findings, their triage, the fleet trends."""
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._refreshed = 0.0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._refreshed >= 1.0:
            self._refreshed = now
            self.source.refresh()

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        self._refresh()
        full_key = (self.source.version(), *key)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(full_key)
            if hit is not None and now - hit[0] < _CACHE_TTL_S:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[full_key] = (now, value)
        return value

    # -- endpoints ---------------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        self._refresh()
        source = self.source
        available = source.available()
        counts = source.query("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM spans)")
        runs, spans = (int(counts[0][0]), int(counts[0][1])) if counts else (0, 0)
        out: dict[str, Any] = {
            "source": source.description,
            "source_kind": "otlp" if isinstance(source, OtlpSource) else "store",
            "available": available,
            "runs": runs,
            "spans": spans,
            "poll_ms": self.poll_ms,
            "ranges_s": list(RANGES_S),
            "generated_ms": int(time.time() * 1000),
            "panels": list(PANELS),
            "monitor": None if self.monitor is None else str(self.monitor.state_dir),
        }
        if isinstance(source, OtlpSource):
            out["malformed_lines"] = source.reader.malformed_count
        else:
            out["lost_spans"] = _lost_spans(source)
        return out

    def panel(self, name: str, range_s: int = 0) -> dict[str, Any]:
        function = PANELS.get(name)
        if function is None:
            raise NotFound(f"no panel {name!r}")

        def compute() -> dict[str, Any]:
            return function(self.source, q.make_window(self.source, range_s))

        result: dict[str, Any] = self._cached(("panel", name, range_s), compute)
        return result

    def triage(self, range_s: int = 0, offset: int = 0, limit: int = 25, query: str = "") -> dict[str, Any]:
        offset, limit = max(0, offset), max(1, min(MAX_PAGE, limit))

        def compute() -> dict[str, Any]:
            window = q.make_window(self.source, range_s)
            return q.triage(self.source, window, offset=offset, limit=limit, q=query[:200])

        result: dict[str, Any] = self._cached(("triage", range_s, offset, limit, query), compute)
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        result = self._cached(("run", run_id), lambda: run_timeline(self.source, run_id))
        if result is None:
            raise NotFound(f"no run {run_id!r}")
        timeline: dict[str, Any] = result
        return timeline

    def monitor_findings(self, state: str | None = None, offset: int = 0, limit: int = 25) -> dict[str, Any]:
        """The monitor's findings per session (``NotFound`` without ``--monitor``)."""
        view = self._monitor()
        return view.findings(state=state, offset=max(0, offset), limit=max(1, min(MAX_PAGE, limit)))

    def set_triage(
        self, session_id: str, state: str, *, finding_id: int | None = None, by: str, note: str = ""
    ) -> dict[str, Any]:
        """Set the triage state of a session's findings (one of them with ``finding_id``)."""
        try:
            return self._monitor().set_state(session_id, state, finding_id=finding_id, by=by, note=note)
        except UnknownSession as exc:
            raise NotFound(str(exc)) from None

    def monitor_trends(self, bucket_s: int | None = None) -> dict[str, Any]:
        """The Fleet trends panel (``bucket_s`` seconds a bucket; ``None``: the configured size)."""
        view = self._monitor()
        result: dict[str, Any] = self._cached(("trends", bucket_s), lambda: view.trend_panel(bucket_s))
        return result

    def _monitor(self) -> MonitorView:
        if self.monitor is None:
            raise NotFound("no monitor journal (start the dashboard with --monitor DIR)")
        return self.monitor

    def snapshot(
        self, *, range_s: int = 0, triage_limit: int = MAX_PAGE, timelines: int = 50
    ) -> dict[str, Any]:
        """Everything the page shows, for the static report: panels, a triage page, top timelines."""
        self.source.refresh()
        triage = self.triage(range_s, 0, triage_limit)
        runs: dict[str, Any] = {}
        for item in triage["items"][:timelines]:
            try:
                runs[str(item["run_id"])] = self.run(str(item["run_id"]))
            except NotFound:
                continue
        return {
            "meta": self.meta(),
            "range_s": range_s,
            "panels": {name: self.panel(name, range_s) for name in PANELS},
            "triage": triage,
            "runs": runs,
        }


def _lost_spans(source: Source) -> int:
    """Spans the store's writers recorded as lost (0 for a store written before they were counted)."""
    try:
        rows = source.query("SELECT COALESCE(SUM(lost), 0) FROM export_losses")
    except Exception:  # no such table: nothing recorded
        return 0
    return int(rows[0][0]) if rows else 0
