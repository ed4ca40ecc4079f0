"""Labelled sessions (tests/fixtures/sessions/*.yaml) played online through a guarded agent and offline
through ``scan`` over the OTLP JSON of the same spans: the expected signals, the same both ways."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentguard.telemetry import semconv as sc

sys.path.insert(0, str(Path(__file__).parent.parent / "fixtures" / "sessions"))
import session_harness as harness

FIXTURES = harness.all_fixtures()


def test_enough_labelled_sessions() -> None:
    from agentguard.detect import CATEGORIES

    by_category: dict[str, int] = {}
    for fx in FIXTURES:
        by_category[fx.category] = by_category.get(fx.category, 0) + 1
    assert {c: by_category.get(c, 0) for c in CATEGORIES if by_category.get(c, 0) < 3} == {}
    assert by_category["benign"] >= 10


@pytest.mark.parametrize("fx", FIXTURES, ids=[f.name for f in FIXTURES])
def test_session_online_and_offline(fx: harness.Fixture, tmp_path: Path) -> None:
    online = harness.run_online(fx, tmp_path / "ws")
    try:
        assert harness.codes(online.signals) == sorted(fx.expect), fx.description
        if fx.expect_info is not None:
            infos = sorted(s.code for s in online.signals if s.severity == "info")
            assert infos == sorted(fx.expect_info)

        # each signal is an event on the span that caused it, and counted by category and severity
        spans = {f"{s.context.span_id:016x}": s for s in online.cap.spans()}
        for sig in online.signals:
            span = spans[sig.evidence.span_ids[0]]
            codes = [
                (e.attributes or {}).get(sc.SIGNAL_CODE) for e in span.events if e.name == sc.EVENT_SIGNAL
            ]
            assert sig.code in codes
        counted = sum(v for _, v in online.cap.metrics().get(sc.METRIC_SIGNALS, []))
        assert counted == len(online.signals)

        offline = harness.run_offline(harness.write_otlp(online.cap, tmp_path / "traces.jsonl"))
        assert sorted((s.code, s.evidence.span_ids[0]) for s in offline) == sorted(
            (s.code, s.evidence.span_ids[0]) for s in online.signals
        )
    finally:
        online.cap.shutdown()
