"""The monitor's side of the dashboard: its findings per session with their triage state, and trends.

``agentguard dashboard --monitor DIR`` opens the monitor's journal (``DIR/monitor.db``) beside the
store. :class:`MonitorView` answers the two monitor panels and applies a reviewer's triage change
through :meth:`agentguard.fleet.Journal.set_state`, the same call ``agentguard triage set`` makes,
so a change made here shows in ``agentguard triage list`` and in ``triage export`` at once.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Final

from ..fleet import TRIAGE_STATES, FleetTrends, Journal, TrendConfig

SEVERITY_ORDER: Final = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}
MAX_NOTE: Final = 2000
MAX_BY: Final = 120


class UnknownSession(LookupError):
    """No reviewed session (or no finding of that session) with this id."""


class MonitorView:
    """The monitor journal at ``state_dir`` as the dashboard reads and triages it."""

    def __init__(self, state_dir: str | os.PathLike[str], *, trends: TrendConfig | None = None) -> None:
        path = Path(state_dir) / "monitor.db"
        if not path.is_file():
            raise FileNotFoundError(f"no monitor journal in {state_dir} (agentguard monitor writes one)")
        self.state_dir = Path(state_dir)
        self.journal = Journal(path)
        self.trends = FleetTrends(self.journal, trends)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.journal.close()

    def findings(self, *, state: str | None = None, offset: int = 0, limit: int = 25) -> dict[str, Any]:
        """Sessions with findings, those with untriaged (``new``) severe findings first."""
        found = self.journal.query_findings(state=state)
        reviewed = {s["session_id"]: s for s in self.journal.sessions()}
        by_session: dict[str, list[dict[str, Any]]] = {}
        for f in found:
            by_session.setdefault(f.session_id, []).append(f.to_dict())
        sessions = []
        for session_id, items in by_session.items():
            items.sort(key=lambda d: (-SEVERITY_ORDER.get(d["severity"], 0), d["id"] or 0))
            info = reviewed.get(session_id, {})
            new = [d for d in items if d["state"] == "new"]
            sessions.append(
                {
                    "session_id": session_id,
                    "fleet": session_id not in reviewed,
                    "reviewed_ms": int(float(info.get("reviewed_at") or items[0]["created"]) * 1000),
                    "spans": int(info.get("spans") or 0),
                    "severity": items[0]["severity"],
                    "new": len(new),
                    "states": {s: sum(1 for d in items if d["state"] == s) for s in TRIAGE_STATES},
                    "findings": [_public(d) for d in items],
                }
            )
        sessions.sort(key=lambda s: (s["new"] == 0, -SEVERITY_ORDER.get(s["severity"], 0), -s["reviewed_ms"]))
        return {
            "states": list(TRIAGE_STATES),
            "total": len(sessions),
            "findings": len(found),
            "offset": offset,
            "items": sessions[offset : offset + limit],
        }

    def set_state(
        self, session_id: str, state: str, *, finding_id: int | None = None, by: str, note: str = ""
    ) -> dict[str, Any]:
        """Triage one finding of ``session_id`` (or, with no ``finding_id``, all of its findings).

        Raises :class:`UnknownSession` for a session (or a finding of it) the journal does not hold and
        :class:`ValueError` for a state outside :data:`~agentguard.fleet.TRIAGE_STATES`.
        """
        if state not in TRIAGE_STATES:
            raise ValueError(f"unknown triage state {state!r}; use one of {', '.join(TRIAGE_STATES)}")
        with self._lock:
            found = self.journal.query_findings(session_id=session_id)
            if finding_id is not None:
                found = [f for f in found if f.id == finding_id]
            if not found:
                what = (
                    f"finding {finding_id} in session" if finding_id is not None else "session with findings"
                )
                raise UnknownSession(f"no {what} {session_id!r}")
            changed = [
                self.journal.set_state(f.id, state, by=by[:MAX_BY], note=note[:MAX_NOTE])
                for f in found
                if f.id is not None
            ]
        return {"session_id": session_id, "state": state, "findings": [_public(f.to_dict()) for f in changed]}

    def trend_panel(self, bucket_s: int | None = None) -> dict[str, Any]:
        """The Fleet trends panel: one series per agent and repository, and the spikes found."""
        with self._lock:
            data = self.trends.snapshot(bucket_s=bucket_s).to_dict()
        data["default_bucket_ms"] = self.trends.config.bucket_s * 1000
        return data


def _public(d: dict[str, Any]) -> dict[str, Any]:
    """A finding as the page shows it (the evidence's span ids and excerpt, not the whole record)."""
    return {
        "id": d["id"],
        "code": d["code"],
        "category": d["category"],
        "severity": d["severity"],
        "confidence": d["confidence"],
        "reviewer": d["reviewer"],
        "message": d["message"],
        "state": d["state"],
        "created_ms": int(float(d["created"]) * 1000),
        "evidence": d["evidence"],
    }
