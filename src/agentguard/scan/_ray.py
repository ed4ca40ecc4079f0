"""``scan_ray()``: :func:`~agentguard.scan.scan` as a Ray Data job, on a local or multi-node cluster.

::

    from agentguard.scan import scan_ray

    report = scan_ray(["s3-export/", "more.jsonl.gz"], address="auto")  # or None: a local cluster
    print(report.to_dict() == scan(["s3-export/", "more.jsonl.gz"]).to_dict())   # True

The stages (each one a Ray Data operation; Ray does the distributing):

1. read: one task per input file reads its span records and summarises them per trace
   (:func:`agentguard.traces.summarise`): the spans of each trace as one row, with the conversation and
   run ids they name, the parents they point to outside themselves and their joining links;
2. attribution: the driver joins the summaries (:class:`agentguard.traces.SessionIndex`), asking one
   more pass over the rows for the traces holding the span ids a join depends on, and gets each
   trace's session id: the local scan's rule, on one row per trace;
3. replay: the rows are sorted by session id (Ray Data's sort-based shuffle, as tasks in the
   cluster's worker processes), so each block holds whole sessions, and each block's sessions are
   built (:func:`agentguard.traces.build_session`) and replayed through the detectors, blocks in
   parallel;
4. judge (with ``judge``): the sessions with signals go through the :class:`~agentguard.detect.
   TranscriptMonitor` as a second stage.

The report is :class:`~agentguard.scan.ScanReport`, the same as the local scan's for the same inputs
(sessions in the same order, issues in file order); only the judge differs: here it sees the flagged
sessions only. File paths are read by the workers: on a multi-node cluster every node must see them
(a shared file system) and have agentguard installed (``pip install 'agentguard[ray]'``, or a
``runtime_env``).
"""

from __future__ import annotations

import asyncio
import marshal
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from ..detect import Detector, DetectorSet, default_detectors
from ..traces import (
    AttributeFilter,
    ReadIssue,
    Row,
    SessionIndex,
    Span,
    TraceSummary,
    attribute_filter,
    build_session,
    expand,
    read_file,
    span_from_tuple,
    span_tuple,
    summarise,
)
from ._runner import ScanReport
from ._sessions import SessionResult, replay

if TYPE_CHECKING:
    import pyarrow

    from ..detect import TranscriptMonitor

Factories = tuple[Callable[[], Detector], ...]
"""A detector set's factories, as the workers rebuild it."""
LOOPBACK_ONLY: Final = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Set to ``0`` before ``ray`` is imported, a Ray cluster started by this process (and its workers)
listens on 127.0.0.1 only; by default Ray binds a local cluster to the machine's address."""
EXTRA_HINT: Final = "pip install 'agentguard[ray]'"
_CHUNK: Final = 0  # a row holding the spans of one trace read from one file
_FILE: Final = 1  # a row holding one file's span count and issues
_JUDGE_BATCH: Final = 8
_JUDGE_CONCURRENCY: Final = 4  # judge requests in flight per judge task


def _ray() -> ModuleType:
    """``ray``, with Ray Data importable, or an ImportError naming the extra."""
    try:
        import ray
        import ray.data  # Ray Data is what the job runs on
    except ImportError as exc:
        raise ImportError(f"the Ray scan needs Ray Data ({exc}); run: {EXTRA_HINT}") from exc
    return ray


# -- stage 1: read ------------------------------------------------------------------------------------
def _read(row: dict[str, Any], wanted: AttributeFilter) -> list[dict[str, Any]]:
    """One file's rows: one per trace (its spans and their summary), then one for the file."""
    source = int(row["source"])
    issues: list[ReadIssue] = []
    by_trace: dict[str, list[Span]] = {}
    count = 0
    for span in read_file(row["path"], issues, wanted):
        count += 1
        bucket = by_trace.get(span.trace_id)
        if bucket is None:
            by_trace[span.trace_id] = [span]
        else:
            bucket.append(span)
    out: list[dict[str, Any]] = []
    for trace_id, spans in by_trace.items():
        summary = summarise(spans)
        out.append(
            {
                "kind": _CHUNK,
                "source": source,
                "trace": trace_id,
                "count": len(spans),
                "spans": marshal.dumps([span_tuple(s) for s in spans]),
                "summary": marshal.dumps((summary.nodes, summary.parents, summary.links)),
                "ids": marshal.dumps(summary.span_ids),
            }
        )
    out.append(
        {
            "kind": _FILE,
            "source": source,
            "trace": "",
            "count": count,
            "spans": b"",
            "summary": pickle.dumps(issues),
            "ids": b"",
        }
    )
    return out


# -- stage 2: attribution -----------------------------------------------------------------------------
_shared: dict[str, Any] = {}


def _get(ref: Any) -> Any:
    """The value of an object ref the driver put once (fetched once per worker process)."""
    key = ref.hex()
    value = _shared.get(key)
    if value is None:
        import ray

        _shared.clear()  # one job's values at a time
        value = _shared[key] = ray.get(ref)
    return value


def _holders(row: dict[str, Any], wanted_ref: Any) -> list[dict[str, Any]]:
    if row["kind"] != _CHUNK:
        return []
    wanted: set[str] = _get(wanted_ref)
    return [{"span": s, "trace": row["trace"]} for s in marshal.loads(row["ids"]) if s in wanted]


def _assign(batch: pyarrow.Table, sessions_ref: Any) -> pyarrow.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    sessions: dict[str, str] = _get(sessions_ref)
    chunks = batch.filter(pc.equal(batch["kind"], _CHUNK)).select(["source", "trace", "spans"])
    ids = [sessions[t] for t in chunks["trace"].to_pylist()]
    return chunks.append_column("session", pa.array(ids, pa.string()))


# -- stage 3: replay ----------------------------------------------------------------------------------
_detectors: dict[Factories | None, DetectorSet] = {}


def _detector_set(factories: Factories | None) -> DetectorSet:
    found = _detectors.get(factories)
    if found is None:
        found = DetectorSet(list(factories)) if factories is not None else default_detectors()
        _detectors[factories] = found
    return found


def _replay(
    block: pyarrow.Table,
    factories: Factories | None,
    transcripts: bool,
    sources: Sequence[str],
) -> dict[str, list[Any]]:
    """Every session of ``block`` (a whole partition of the shuffle: each session's rows are all in
    it) replayed through the detectors."""
    groups: dict[str, tuple[set[str], list[Row]]] = {}
    columns = (block[c].to_pylist() for c in ("session", "trace", "source", "spans"))
    for sid, trace_id, source, blob in zip(*columns, strict=True):
        group = groups.get(sid)
        if group is None:
            group = groups[sid] = (set(), [])
        group[0].add(trace_id)
        add = group[1].append
        for values in marshal.loads(blob):
            span = span_from_tuple(values)
            add((span.start, span.span_id, span.trace_id, source, span))
    detectors = _detector_set(factories)
    results: list[bytes] = []
    flagged: list[bool] = []
    for sid, (traces, rows) in groups.items():
        result = replay(build_session(sid, sorted(traces), rows, sources), detectors, transcripts=transcripts)
        results.append(pickle.dumps(result))
        flagged.append(bool(result.signals))
    return {"result": results, "flagged": flagged}


# -- stage 4: judge -----------------------------------------------------------------------------------
def _judge(batch: dict[str, Any], monitor: TranscriptMonitor) -> dict[str, list[Any]]:
    results: list[SessionResult] = [pickle.loads(b) for b in batch["result"]]

    async def judge_all() -> None:
        limit = asyncio.Semaphore(_JUDGE_CONCURRENCY)

        async def one(session: SessionResult) -> None:
            if not session.transcript:
                return
            async with limit:
                verdict = await monitor.aevaluate(session.transcript)
            session.signals.extend(verdict.signals)
            if verdict.error:
                session.judge_error = verdict.error

        await asyncio.gather(*(one(s) for s in results))

    asyncio.run(judge_all())
    return {"result": [pickle.dumps(r) for r in results], "flagged": [True] * len(results)}


# -- the job ------------------------------------------------------------------------------------------
def scan_ray(
    paths: Sequence[str | os.PathLike[str]],
    *,
    address: str | None = None,
    detectors: DetectorSet | None = None,
    transcripts: bool = False,
    judge: TranscriptMonitor | None = None,
    partitions: int | None = None,
) -> ScanReport:
    """Scan ``paths`` on a Ray cluster (see :mod:`agentguard.scan._ray`).

    Uses the Ray connection this process already has, else ``ray.init(address=address)`` (``None``:
    the cluster in ``$RAY_ADDRESS``, else a new local one, on loopback only with :data:`LOOPBACK_ONLY`
    set to ``0`` before ``ray`` is imported; ``"auto"`` or ``"ray://host:10001"`` joins one) and
    disconnects at the end.
    ``partitions`` is the number of replay tasks (default: twice the cluster's CPUs).
    """
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        import logging

        ray.init(address=address, logging_level=logging.ERROR)  # failures reach us as exceptions
    try:
        return _job(
            ray,
            [Path(p) for p in expand(paths)],
            detectors=detectors,
            transcripts=transcripts or judge is not None,
            judge=judge,
            partitions=partitions,
        )
    finally:
        if started:
            ray.shutdown()


def _job(
    ray: ModuleType,
    files: list[Path],
    *,
    detectors: DetectorSet | None,
    transcripts: bool,
    judge: TranscriptMonitor | None,
    partitions: int | None,
) -> ScanReport:
    data = ray.data
    context = data.DataContext.get_current()
    settings = {
        "enable_progress_bars": False,
        "print_on_execution_start": False,
        # the sort-based shuffle runs as tasks in the cluster's worker processes; the hash shuffle
        # starts aggregator actors (new processes) on every run
        "shuffle_strategy": data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED,
    }
    saved = {name: getattr(context, name) for name in settings}
    for name, value in settings.items():
        setattr(context, name, value)
    try:
        return _stages(
            ray, files, detectors=detectors, transcripts=transcripts, judge=judge, partitions=partitions
        )
    finally:
        for name, value in saved.items():
            setattr(context, name, value)


def _stages(
    ray: ModuleType,
    files: list[Path],
    *,
    detectors: DetectorSet | None,
    transcripts: bool,
    judge: TranscriptMonitor | None,
    partitions: int | None,
) -> ScanReport:
    data = ray.data
    report = ScanReport()
    if not files:
        return report
    sources = [str(f) for f in files]
    inputs = data.from_items(
        [{"source": i, "path": s} for i, s in enumerate(sources)], override_num_blocks=len(files)
    )
    rows = inputs.flat_map(_read, fn_args=(attribute_filter(),)).materialize()

    index = SessionIndex()
    file_rows: list[tuple[int, int, bytes]] = []
    for batch in rows.select_columns(["kind", "source", "trace", "count", "summary"]).iter_batches(
        batch_format="pyarrow", batch_size=8192
    ):
        for kind, source, trace, count, blob in zip(
            *(batch[c].to_pylist() for c in batch.column_names), strict=True
        ):
            if kind == _FILE:
                file_rows.append((source, count, blob))
                continue
            nodes, parents, links = marshal.loads(blob)
            index.add(TraceSummary(trace, nodes, parents, [(a, b) for a, b in links]))
    for _, count, blob in sorted(file_rows, key=lambda r: r[0]):
        report.spans += count
        report.issues.extend(pickle.loads(blob))

    wanted = index.wanted()
    held: dict[str, set[str]] = {}
    if wanted:
        for row in rows.flat_map(_holders, fn_args=(ray.put(wanted),)).iter_rows():
            held.setdefault(row["span"], set()).add(row["trace"])
    sessions = index.resolve(held)
    if not sessions:
        return report

    factories = None if detectors is None else tuple(detectors.factories)
    blocks = partitions or 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    results = (
        rows.map_batches(_assign, fn_args=(ray.put(sessions),), batch_format="pyarrow")
        .repartition(blocks)  # the sort keeps the number of blocks: as many as replay tasks
        # what groupby("session").map_groups() does, with one call per block instead of one per
        # session: sorted by session, each block (holding whole sessions) as one batch
        .sort("session")
        .map_batches(
            _replay, fn_args=(factories, transcripts, sources), batch_size=None, batch_format="pyarrow"
        )
    )
    blobs: Iterator[dict[str, Any]]
    if judge is not None:
        from ray.data.expressions import col

        results = results.materialize()
        judged = results.filter(expr=col("flagged")).map_batches(
            _judge, fn_args=(judge,), batch_size=_JUDGE_BATCH, batch_format="numpy", num_cpus=0.25
        )
        blobs = _chain(results.filter(expr=~col("flagged")).iter_rows, judged.iter_rows)
    else:
        blobs = results.iter_rows()
    report.sessions.extend(pickle.loads(row["result"]) for row in blobs)
    report.sessions.sort(key=lambda s: (s.source, s.start, s.id))
    return report


def _chain(*parts: Callable[[], Iterator[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for part in parts:
        yield from part()
