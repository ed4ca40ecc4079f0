"""The Ray scan against the local ``--workers`` scan: throughput per worker on the same input.

The input is :mod:`benchmarks.bench_scan`'s coding-agent sessions, written as ``--files`` OTLP JSON
lines files (a collector's file exporter rotating its output). The local scan runs with
``workers=--workers`` processes; the Ray scan runs on a local Ray cluster of ``--workers`` CPUs
started here (``ray.init(num_cpus=...)``), so both have the same number of workers. Each is run once
to warm up (imports, worker processes), then timed; the cluster's start is not timed (a fleet scan runs
on a cluster that is already up). Throughput per worker is spans / wall seconds / workers; the target
is the Ray scan at TARGET or more of the local one. The two reports must be equal.

    python -m benchmarks.bench_ray [--sessions N] [--files N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from agentguard.scan import LOOPBACK_ONLY, ScanReport, scan, scan_ray

from .bench_scan import generate

TARGET = 0.7


def _timed(run: object) -> tuple[ScanReport, float]:
    assert callable(run)
    start = time.perf_counter()
    report: ScanReport = run()
    return report, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=12_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--object-store-mb", type=int, default=1024)
    args = parser.parse_args(argv)

    os.environ.setdefault(LOOPBACK_ONLY, "0")  # the cluster started here listens on loopback only
    import ray
    import ray.data

    for handler in logging.getLogger("ray.data").handlers:  # its console lines would join the summary
        if getattr(handler, "stream", None) is not None:
            handler.setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as d:
        paths: list[Path] = []
        total = 0
        per_file = max(1, args.sessions // args.files)
        for n in range(args.files):
            path = Path(d) / f"traces-{n:03d}.jsonl"
            total += generate(path, per_file, first=n * per_file)
            paths.append(path)
        size_mb = sum(os.path.getsize(p) for p in paths) / 2**20

        def local() -> ScanReport:
            return scan(paths, workers=args.workers)

        def on_ray() -> ScanReport:
            return scan_ray(paths)

        local()  # warm the caches and imports
        want, local_wall = _timed(local)
        ray.init(
            num_cpus=args.workers,
            include_dashboard=False,
            object_store_memory=args.object_store_mb * 2**20,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
        try:
            on_ray()  # start the worker processes and their imports
            got, ray_wall = _timed(on_ray)
        finally:
            ray.shutdown()

    same = json.dumps(got.to_dict()) == json.dumps(want.to_dict())
    local_rate = want.spans / local_wall / args.workers
    ray_rate = got.spans / ray_wall / args.workers
    ratio = ray_rate / local_rate
    print(
        f"ray scan input: {total:,} spans in {len(want.sessions):,} sessions, {args.files} files "
        f"({size_mb:.1f} MB), {args.workers} workers each"
    )
    print(
        f"local scan (--workers {args.workers}): {local_wall:.2f}s wall, {local_rate:,.0f} spans/s per worker"
    )
    print(f"ray scan ({args.workers} CPUs): {ray_wall:.2f}s wall, {ray_rate:,.0f} spans/s per worker")
    print(f"ray scan report equals the local one: {'yes' if same else 'NO'}")
    print(
        f"ray scan throughput per worker: {ratio:.2f}x the local scan's (target >= {TARGET}x) "
        f"{'OK' if ratio >= TARGET else 'MISSED'}"
    )
    return 0 if same and total == got.spans else 1


if __name__ == "__main__":
    sys.exit(main())
