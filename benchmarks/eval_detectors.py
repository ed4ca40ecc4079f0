"""``make eval``: precision and recall of the detectors per category over the labelled sessions.

Every session in ``tests/fixtures/sessions/`` is played online (a guarded agent: the openai SDK against
a scripted loopback server, real tools on a temporary workspace) and offline (``scan`` over the OTLP
JSON of the same spans). A session counts as positive for a category when its label expects a signal
of that category; predicted when the detectors raised one (``info`` bookkeeping signals other than
refusals do not count). The table is per category over sessions; the last columns say whether the
exact codes matched the labels and whether online and offline agreed.

    python -m benchmarks.eval_detectors
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "sessions"))

import session_harness as harness  # noqa: E402

from agentguard.detect import CATEGORIES, Signal  # noqa: E402


def _categories(signals: list[Signal]) -> set[str]:
    return {s.category for s in signals if s.severity != "info" or s.category == "refusal"}


def _progress(text: str) -> None:
    """One status line on a terminal's stderr, redrawn in place (nothing when stderr is piped)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}")
        sys.stderr.flush()


def main() -> int:
    fixtures = harness.all_fixtures()
    stats = {c: {"tp": 0, "fp": 0, "fn": 0, "sessions": 0} for c in CATEGORIES}
    exact = agree = 0
    misses: list[str] = []
    started = time.monotonic()
    for i, fx in enumerate(fixtures, 1):
        _progress(f"[{i}/{len(fixtures)}] {fx.name} ({time.monotonic() - started:.0f} s)")
        with tempfile.TemporaryDirectory() as d:
            online = harness.run_online(fx, Path(d) / "ws")
            offline = harness.run_offline(harness.write_otlp(online.cap, Path(d) / "traces.jsonl"))
            online.cap.shutdown()
        labelled = [*fx.expect, *(c for c in fx.expect_info or [] if c.startswith("refusal."))]
        expected = {c.split(".", 1)[0] for c in labelled}
        predicted = _categories(online.signals)
        for c in CATEGORIES:
            if c in expected:
                stats[c]["sessions"] += 1
            if c in predicted and c in expected:
                stats[c]["tp"] += 1
            elif c in predicted:
                stats[c]["fp"] += 1
            elif c in expected:
                stats[c]["fn"] += 1
        if harness.codes(online.signals) == sorted(fx.expect):
            exact += 1
        else:
            misses.append(f"{fx.name}: expected {sorted(fx.expect)}, got {harness.codes(online.signals)}")
        if sorted(s.code for s in offline) == sorted(s.code for s in online.signals):
            agree += 1
        else:
            misses.append(f"{fx.name}: online and offline differ")

    _progress("")
    benign = sum(f.benign for f in fixtures)
    print(f"detector eval over {len(fixtures)} labelled sessions ({benign} benign look-alikes)")
    print(f"{'CATEGORY':<18} {'SESSIONS':>8} {'TP':>4} {'FP':>4} {'FN':>4} {'PRECISION':>10} {'RECALL':>8}")
    all_tp = all_fp = all_fn = 0
    for c in CATEGORIES:
        s = stats[c]
        tp, fp, fn = s["tp"], s["fp"], s["fn"]
        all_tp, all_fp, all_fn = all_tp + tp, all_fp + fp, all_fn + fn
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(f"{c:<18} {s['sessions']:>8} {tp:>4} {fp:>4} {fn:>4} {precision:>10.2f} {recall:>8.2f}")
    precision = all_tp / (all_tp + all_fp) if all_tp + all_fp else 1.0
    recall = all_tp / (all_tp + all_fn) if all_tp + all_fn else 1.0
    print(f"{'all':<18} {'':>8} {all_tp:>4} {all_fp:>4} {all_fn:>4} {precision:>10.2f} {recall:>8.2f}")
    print(f"exact codes as labelled: {exact}/{len(fixtures)}; online == offline: {agree}/{len(fixtures)}")
    for line in misses:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
