"""Validation on two cores: the batches of a large multi-channel load split over worker processes.

Each worker ("spawn": no copy of the parent's DuckDB or GX state) opens the warehouse read-only
with its share of the streaming memory cap, validates whole batches (a batch's duplicate check
spans all its parts) one part at a time, biggest batch first, and returns each part's flags and
its trimmed GX result as JSON. Its parts are `PART_ROWS // workers` rows, so that the workers
together hold about what one process holds (the 1M-lead load: 4.5 GB of process tree with
whole parts, 3.4 GB with half ones). The parent, which closed its own connection (DuckDB: one
writing process or many reading ones), writes the flags; the results go back to one worker, which
already has GX imported, to build the Data Docs, so the parent never imports GX (~9 s of CPU
that two busy cores would otherwise share). The stored results are the ones the one-process
path stores (`validate.store_for_docs`), so the Data Docs pages are the same but for a batch
of more than `PART_ROWS // workers` rows, shown in more (smaller) parts.

When it pays (bench/bench_validate.py --mix, bench/README.md): two workers cost 7-11 s more CPU
than one process (one more GX import, two interpreter start-ups), so they win only where the
work they split outweighs that: on an idle 2-core machine about even at 100k rows, a quarter
faster from 200k (`PARALLEL_MIN_ROWS`). A load of one batch stays in one process, and so does
one on a machine without memory for two parts (`workers_for`).
"""

from __future__ import annotations

import concurrent.futures as futures
import ctypes
import logging
import multiprocessing
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expectations.suites import Suite
from leadflow.core import warehouse as warehouse_db
from leadflow.core.settings import memory_limit_setting, validation_workers

if TYPE_CHECKING:
    from expectations.validate import Batch, PartResult

log = logging.getLogger(__name__)

# Below this many rows one process is faster: see the module docstring and bench/README.md.
PARALLEL_MIN_ROWS = 200_000
# A worker's DuckDB share of the streaming cap must hold the read of one part (the duplicate
# check's grouping spilled beyond it): below this the load stays in one process.
MIN_WORKER_MEMORY_BYTES = 256 * 2**20
# What one worker validating 250k-row parts (`worker_part_rows(2)`) holds at its peak (frames,
# GX's copies, flags): 1.67 GB at the 1M-lead mix, 6.4M rows (bench/README.md), rounded up for
# other data. Workers start only when the machine has it available for each of them.
WORKER_PEAK_BYTES = 2 * 2**30
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}

# per worker process: its GX context, built on its first batch
_worker: dict[str, Any] = {}


class WorkersUnavailable(RuntimeError):
    """Worker processes could not start or open the warehouse: validate in this process."""


def workers_for(batches: list[Batch], min_rows: int | None = None) -> int:
    """How many processes validate these batches: 1 unless there are several batches, enough
    rows to pay for the workers' start-up, and memory for each worker's share."""
    wanted = min(validation_workers(), len(batches), _cores())
    threshold = PARALLEL_MIN_ROWS if min_rows is None else min_rows
    if wanted < 2 or sum(b.rows for b in batches) < threshold:
        return 1
    if worker_memory_limit(wanted) is None:
        name, limit = memory_limit_setting(streaming=True)
        log.info("%s=%s cannot hold %d validation parts: one process", name, limit, wanted)
        return 1
    if not ram_allows(wanted, available_memory()):
        log.info("less than %d x %d MB available: one process", wanted, WORKER_PEAK_BYTES >> 20)
        return 1
    return wanted


def ram_allows(workers: int, available: int | None) -> bool:
    """Whether `available` bytes (None: unknown, as off Linux) hold `workers` parts at once."""
    return available is None or available >= workers * WORKER_PEAK_BYTES


def available_memory() -> int | None:
    """The kernel's estimate of memory available without swapping (`MemAvailable`)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def worker_memory_limit(workers: int) -> str | None:
    """Each worker's DuckDB memory cap: an equal share of the streaming cap (None: too small).
    DuckDB parses the setting (sizes, percentages of RAM), so the share is of what it means."""
    import duckdb

    _, limit = memory_limit_setting(streaming=True)
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = ?", [limit])
        shown = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    except duckdb.Error:
        return None  # the step's own connection reports the bad setting
    finally:
        con.close()
    match = re.fullmatch(r"([\d.]+) (\w+)", str(shown))
    if not match or match.group(2) not in _UNITS:
        return None
    share = int(float(match.group(1)) * _UNITS[match.group(2)] / workers)
    return f"{share}B" if share >= MIN_WORKER_MEMORY_BYTES else None


def worker_part_rows(workers: int) -> int:
    """Rows per part in each of `workers` processes: a part and GX's copies of it are most of a
    process's peak, so `workers` processes together hold about what one holds with `PART_ROWS`.
    Flags do not depend on it: repeats are found in SQL over the whole batch (`read_batch`)."""
    from expectations import validate

    return max(validate.PART_ROWS // workers, 1)


def validate_in_workers(
    warehouse: Path,
    batches: list[Batch],
    suites: dict[str, Suite],
    load_ids: list[str],
    run_id: str,
    docs_dir: Path,
    workers: int,
) -> tuple[list[PartResult], Path, list[float]] | None:
    """Every batch validated in `workers` processes, biggest first; the parts' results in
    batch order (as the one-process path gives them), the Data Docs index and each worker's CPU
    seconds. None when the workers could not start or open the warehouse (the caller validates
    in its process)."""
    started = time.perf_counter()
    cpu: dict[int, float] = {}  # worker pid -> its CPU seconds so far (start-up and GX included)
    memory = worker_memory_limit(workers)
    part_rows = worker_part_rows(workers)
    threads = max(_cores() // workers, 1)  # no more DuckDB threads than cores in all
    context = multiprocessing.get_context("spawn")
    order = sorted(range(len(batches)), key=lambda i: -batches[i].rows)
    log.info(
        "validating %d batches in %d processes, parts of %d rows", len(batches), workers, part_rows
    )
    try:
        with futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(memory, threads)
        ) as pool:
            submitted = {
                i: _submit(
                    pool, warehouse, batches[i], suites, load_ids, run_id, docs_dir, part_rows
                )
                for i in order
            }
            per_batch = {i: _collect(submitted[i], batches[i], cpu) for i in order}
            results = [part for i in range(len(batches)) for part in per_batch[i]]
            for part in results:
                log.info(
                    "validated %s part %d: %d rows, %d flags",
                    part.channel, part.part + 1, part.rows, len(part.flags),
                )  # fmt: skip
            docs = [part.docs for part in results]
            docs_task = pool.submit(_build_docs_task, docs_dir, list(suites.values()), docs)
            index = _collect(docs_task, None, cpu)
    except WorkersUnavailable as exc:
        log.warning("validation workers unavailable (%s): one process", exc)
        return None
    log.info(
        "validated in %d processes in %.2fs (worker CPU %s s)",
        workers, time.perf_counter() - started, ", ".join(f"{c:.1f}" for c in cpu.values()),
    )  # fmt: skip
    return results, index, sorted(cpu.values(), reverse=True)


def _cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _submit(
    pool: futures.ProcessPoolExecutor,
    warehouse: Path,
    batch: Batch,
    suites: dict[str, Suite],
    load_ids: list[str],
    run_id: str,
    docs_dir: Path,
    part_rows: int,
) -> futures.Future:
    suite = suites[batch.channel]
    task = (warehouse, suite, load_ids, run_id, docs_dir, part_rows)
    try:  # the pool starts its processes on the first submit
        return pool.submit(_validate_batch_task, *task)
    except (AssertionError, OSError, futures.process.BrokenProcessPool) as exc:
        # AssertionError: multiprocessing refuses children of a daemonic process
        raise WorkersUnavailable(f"cannot start worker processes: {exc}") from exc


def _collect(future: futures.Future, batch: Batch | None, cpu: dict[int, float]) -> Any:
    """A task's result; its worker's CPU so far noted in `cpu` (what the run costs in all)."""
    try:
        result, pid, seconds = future.result()
    except (futures.process.BrokenProcessPool, OSError) as exc:
        # a worker that could not start (or its warehouse lock) is a set-up problem, not data
        name = batch.channel if batch else "Data Docs"
        raise WorkersUnavailable(f"{name}: {exc}") from exc
    cpu[pid] = max(cpu.get(pid, 0.0), seconds)
    return result


def _init_worker(memory_limit: str | None, threads: int) -> None:
    """A worker dies with the parent (SIGKILL, OOM): it must not hold the warehouse open for
    the next run. (Its log handlers are not the parent's: the parent logs each part's result.)"""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    _worker.update(memory_limit=memory_limit, threads=threads)


def _validate_batch_task(
    warehouse: Path,
    suite: Suite,
    load_ids: list[str],
    run_id: str,
    docs_dir: Path,
    part_rows: int,
) -> tuple[list[PartResult], int, float]:
    """One channel's batch, in a worker: read-only, one part of `part_rows` rows in memory at
    a time. Returns the parts' results, the worker's pid and its CPU seconds so far."""
    import duckdb

    from expectations.suites import gx_suite
    from expectations.validate import PartResult, _validate_batch, gx_context, read_batch
    from leadflow.core.memory import release_freed_memory

    try:
        con = warehouse_db.connect(warehouse, read_only=True, streaming=True)
    except duckdb.IOException as exc:  # the file is locked by a writer
        raise OSError(str(exc)) from exc
    try:
        if _worker.get("memory_limit"):
            con.execute("SET memory_limit = ?", [_worker["memory_limit"]])
        con.execute(f"SET threads = {int(_worker.get('threads', 1))}")
        context = _worker.get("context")
        if context is None:
            context = _worker["context"] = gx_context(docs_dir, [])
        added = _worker.setdefault("suites", set())
        if suite.name not in added:
            context.suites.add(gx_suite(suite))
            added.add(suite.name)
        results = []
        for part, frame in enumerate(read_batch(con, suite, load_ids, part_rows)):
            flags, docs = _validate_batch(context, suite, frame, run_id, part)
            results.append(PartResult(suite.name, part, len(frame), flags, docs))
            del frame
            release_freed_memory()
        return results, os.getpid(), time.process_time()
    finally:
        con.close()


def _build_docs_task(
    docs_dir: Path, suites: list[Suite], results: list[dict[str, Any]]
) -> tuple[Path, int, float]:
    """The Data Docs of every part's result, in a worker: a fresh context holding exactly what
    the one-process path's holds (the suites and the stored results)."""
    from expectations.validate import build_data_docs, gx_context, store_for_docs

    context = gx_context(docs_dir, suites)
    for docs in results:
        store_for_docs(context, docs)
    return build_data_docs(context, docs_dir), os.getpid(), time.process_time()
