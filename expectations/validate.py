"""Validate new loads with GX Core on pandas DataFrames and write `dq.flags` (C6).

One GX batch per channel: the raw rows of the given load ids only, read from DuckDB into a
DataFrame (GX's SQL datasource fails on DuckDB). GX never rejects anything: each failing row
becomes one flag per problem. Channel freshness is plain SQL. Data Docs are rebuilt every run.

Speed at 1M rows (measured with bench/bench_validate.py; GX 1.24, pandas 3):
- GX reads every index column of every failing row with `DataFrame.at` unless the index columns
  ARE the frame's (Multi)Index and `exclude_unexpected_values` is set: ~4x on failing rows.
- Datetime bounds are vectorised only for datetime64[ns]; DuckDB hands over [us].
- `ValidationDefinition.run` stores the COMPLETE result, and the store deep-copies and
  JSON-encodes every failing row's index: ~90% of the time when every row fails. We run GX's
  Validator ourselves and store a trimmed copy for Data Docs (see `_validate_batch`).
- A large load of several channels is validated by two worker processes, one batch each at a
  time, biggest first (`expectations/parallel.py`); a small one in this process (see there).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa

from expectations.flags import empty_flags, ensure_flags_table, result_flags, write_flags
from expectations.freshness import stale_channel_flags
from expectations.specificity import FeedbackRule
from expectations.suites import (
    INDEX_COLUMNS,
    LINEAGE_COLUMNS,
    Suite,
    batch_sql,
    batch_suite,
    build_suite,
    channels_by_name,
    gx_suite,
)
from leadflow.core import warehouse as warehouse_db
from leadflow.core.canonical import ENTITIES
from leadflow.core.channels import Channel
from leadflow.core.errors import TerminalError
from leadflow.core.memory import release_freed_memory

log = logging.getLogger(__name__)

DATASOURCE = "leadflow_raw"
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",  # every failing row, not a sample of 20
    "unexpected_index_column_names": list(INDEX_COLUMNS),
    "exclude_unexpected_values": True,  # values come from the batch; GX returns index lists
    "return_unexpected_index_query": False,
}
PART_ROWS = 500_000  # rows per GX batch: bounds the frames and GX copies of them in memory
DOCS_SAMPLE = 20  # failing rows named per expectation in the stored (Data Docs) result
# datetime64[ns] covers 1677-09-22 .. 2262-04-11; beyond it GX's (slower) per-value path is kept.
NS_RANGE = (pd.Timestamp.min, pd.Timestamp.max)


@dataclass(frozen=True)
class ValidationResult:
    """One validation: the loads checked, their rows, the flags written (C6) per check."""

    loads_validated: int
    load_ids: list[str]
    batches: int  # GX batches: one per file and channel
    rows_validated: int
    flags: int
    flags_by_check: dict[str, int]
    data_docs: str  # the GX Data Docs index
    workers: int = 1  # processes that validated (expectations.parallel)
    worker_cpu_seconds: tuple[float, ...] = ()  # each worker's CPU, start-up and GX included


@dataclass(frozen=True)
class Batch:
    """One channel's rows of one entity in the loads being validated: one GX batch (in parts)."""

    channel: str
    entity: str
    rows: int


@dataclass(frozen=True)
class PartResult:
    """What validating one part gives: its flags and, JSON-able, the trimmed GX result that
    Data Docs show (built in a worker process or in this one, stored the same way)."""

    channel: str
    part: int
    rows: int
    flags: pd.DataFrame
    docs: dict[str, Any]


def validate_loads(
    warehouse: Path,
    load_ids: list[str] | None = None,
    *,
    channels_dir: Path,
    as_of: date,
    business_timezone: str,
    reports_dir: Path,
    run_id: str,
    feedback_rule: FeedbackRule | None = None,
    parallel_min_rows: int | None = None,
) -> ValidationResult:
    """Validate the raw rows of `load_ids` (None: every load not validated yet, whoever loaded
    it), flag channel staleness, write flags and Data Docs, and record the loads as validated.
    `feedback_rule`: R7's (None: the shipped dbt project's seed and var). `parallel_min_rows`:
    the fewest rows validated in worker processes (None: `parallel.PARALLEL_MIN_ROWS`)."""
    from expectations import parallel

    tz = ZoneInfo(business_timezone)
    channels = channels_by_name(Path(channels_dir))
    flagged_at = datetime.now(UTC).replace(tzinfo=None)  # audit column only (C9)
    docs_dir = Path(reports_dir) / "data_docs"
    con = warehouse_db.connect(warehouse, streaming=True)
    try:
        ensure_flags_table(con)
        ensure_validated_loads(con)
        if load_ids is None:
            load_ids = pending_loads(con)
        load_ids = sorted({str(i) for i in load_ids if i})
        log.info("validating %d loads", len(load_ids))
        owners = owner_directory(con)
        batches = _batch_plan(con, load_ids, channels)
        options = {"as_of": as_of, "tz": tz, "owner_names": owners, "feedback_rule": feedback_rule}
        suites = {name: build_suite(c, **options) for name, c in channels.items()}
        for batch in batches:
            suites[batch.channel] = batch_suite(channels, batch.channel, batch.entity, **options)
        workers = parallel.workers_for(batches, parallel_min_rows)
        results: list[PartResult] | None = None
        worker_cpu: list[float] = []
        index = docs_dir / "index.html"
        if workers > 1:
            # DuckDB: one writing process OR many reading ones; reopened below for the flags.
            con.close()
            outcome = parallel.validate_in_workers(
                warehouse, batches, suites, load_ids, run_id, docs_dir, workers
            )
            con = warehouse_db.connect(warehouse, streaming=True)
            if outcome is not None:
                results, index, worker_cpu = outcome
            else:
                workers = 1
        if results is None:
            results, index = _validate_here(con, batches, suites, load_ids, run_id, docs_dir)
        parts = [empty_flags(), *(r.flags for r in results)]
        parts.append(stale_channel_flags(con, channels, as_of=as_of, tz=tz))
        flags = pd.concat(parts, ignore_index=True)
        write_flags(
            con, flags, load_ids=load_ids, run_id=run_id, as_of=as_of, flagged_at=flagged_at
        )
        # After the flags' own transaction: a crash in between validates these loads again,
        # and write_flags replaces a load's flags, so nothing is doubled.
        mark_validated(con, load_ids, run_id=run_id, validated_at=flagged_at)
    finally:
        con.close()
    return ValidationResult(
        loads_validated=len(load_ids),
        load_ids=sorted(load_ids),
        batches=len(batches),
        rows_validated=sum(r.rows for r in results),
        flags=len(flags),
        flags_by_check=dict(sorted(Counter(flags["check_name"]).items())),
        data_docs=str(index),
        workers=workers,
        worker_cpu_seconds=tuple(round(c, 1) for c in worker_cpu),
    )


def _validate_here(
    con: duckdb.DuckDBPyConnection,
    batches: list[Batch],
    suites: dict[str, Suite],
    load_ids: list[str],
    run_id: str,
    docs_dir: Path,
) -> tuple[list[PartResult], Path]:
    """Every batch in this process, one part in memory at a time; then the Data Docs. Nothing
    picked (a run with no new file): no GX (~9 s to import), the docs stay those of the last
    validation; only the freshness flags are recomputed."""
    index = docs_dir / "index.html"
    context = gx_context(docs_dir, suites.values()) if batches or not index.exists() else None
    results: list[PartResult] = []
    for batch in batches:
        suite = suites[batch.channel]
        for part, frame in enumerate(read_batch(con, suite, load_ids)):
            flags, docs = _validate_batch(context, suite, frame, run_id, part)
            results.append(PartResult(suite.name, part, len(frame), flags, docs))
            store_for_docs(context, docs)
            del frame  # one part in memory at a time
            release_freed_memory()
    if context is not None:
        index = build_data_docs(context, docs_dir)
    return results, index


# --------------------------------------------------------------------------- which loads


def ensure_validated_loads(con: duckdb.DuckDBPyConnection) -> None:
    """`dq.validated_loads`: one row per load whose rows have been validated. Created on first
    use; in a warehouse validated before it existed, the loads of finished runs and the loads
    that have flags count as validated (run_id NULL), every other load is validated next."""
    if warehouse_db.table_exists(con, "dq", "validated_loads"):
        return
    con.execute(
        "CREATE TABLE dq.validated_loads "
        "(load_id VARCHAR PRIMARY KEY, run_id VARCHAR, validated_at TIMESTAMP)"
    )
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }
    if "raw.load_manifest" not in tables:
        return
    finished = (
        " OR run_id IN (SELECT run_id FROM ops.run_summary)" if "ops.run_summary" in tables else ""
    )
    con.execute(
        "INSERT INTO dq.validated_loads SELECT DISTINCT load_id, NULL, NULL "
        "FROM raw.load_manifest WHERE status = 'loaded' "
        f"AND (load_id IN (SELECT load_id FROM dq.flags){finished})"
    )


def pending_loads(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Loaded files not validated yet, in load order: a run killed after ingest leaves its
    loads here for the next run, whichever run (CLI or DAG) loaded them."""
    if "load_manifest" not in _raw_tables(con):
        return []
    rows = con.execute(
        "SELECT load_id FROM raw.load_manifest m WHERE status = 'loaded' AND NOT EXISTS "
        "(SELECT 1 FROM dq.validated_loads v WHERE v.load_id = m.load_id) "
        "ORDER BY loaded_at, load_id"
    ).fetchall()
    return [r[0] for r in rows]


def mark_validated(
    con: duckdb.DuckDBPyConnection, load_ids: list[str], *, run_id: str, validated_at: datetime
) -> None:
    if not load_ids:
        return
    con.execute(
        "INSERT INTO dq.validated_loads SELECT unnest($ids), $run_id, $at ON CONFLICT DO NOTHING",
        {"ids": load_ids, "run_id": run_id, "at": validated_at},
    )


# --------------------------------------------------------------------------- reading


def _raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
    ).fetchall()
    return {r[0] for r in rows}


def owner_directory(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Trimmed names of the latest version of each owner record (C5)."""
    if "owner_records" not in _raw_tables(con):
        return frozenset()
    rows = con.execute(
        """
        SELECT DISTINCT trim(owner_name) FROM raw.owner_records
        QUALIFY row_number() OVER (
            PARTITION BY source_record_id ORDER BY loaded_at DESC, load_id DESC, row_number DESC
        ) = 1
        """
    ).fetchall()
    return frozenset(r[0] for r in rows if r[0])


def _batch_plan(
    con: duckdb.DuckDBPyConnection, load_ids: list[str], channels: dict[str, Channel]
) -> list[Batch]:
    """The batches of these loads, one per channel and entity, with their row counts (which
    decide whether workers pay, and which batch goes first); a channel without its YAML gets the
    entity checks (`batch_suite`)."""
    if not load_ids:
        return []
    tables = _raw_tables(con)
    plan: list[Batch] = []
    for entity in ENTITIES.values():
        if entity.table not in tables:
            continue
        found = con.execute(
            f"SELECT channel, count(*) FROM raw.{entity.table} "
            "WHERE load_id IN (SELECT unnest($ids)) GROUP BY channel ORDER BY channel",
            {"ids": load_ids},
        ).fetchall()
        for channel, rows in found:
            spec = channels.get(channel)
            if spec is None or spec.entity.name != entity.name:
                # `<channel>.<entity>`: records derived from a sheet's text get entity checks
                derived = "." in channel and channel.split(".")[0] in channels
                report = log.info if derived else log.warning
                report("channel %s: no YAML for %s, entity checks only", channel, entity.name)
            plan.append(Batch(channel, entity.name, rows))
    return plan


def read_batch(
    con: duckdb.DuckDBPyConnection, suite: Suite, load_ids: list[str], part_rows: int = 0
) -> Iterator[pd.DataFrame]:
    """The batch of one channel, its rows in these loads, in parts of at most `part_rows`
    rows indexed by `INDEX_COLUMNS`: memory stays bounded by the part, not the batch (3.4M
    follow-ups at 1M leads held ~4 GB of frames). Repeats are found over the whole batch."""
    started = time.perf_counter()
    part_rows = part_rows or PART_ROWS
    table = f"raw.{ENTITIES[suite.entity].table}"
    rows_filter = "channel = $channel AND load_id IN (SELECT unnest($ids))"
    relation = con.sql(
        batch_sql(suite, table, rows_filter),
        params={"channel": suite.channel, "ids": load_ids},
    )
    reader = relation.to_arrow_reader(part_rows)
    for number, record_batch in enumerate(_parts(reader, part_rows), start=1):
        # Arrow hand-over: about half the time and memory of `.df()`; categorical strings make
        # GX's row selections cheap (Arrow-backed strings took 3.5x longer to check).
        frame = record_batch.to_pandas(
            self_destruct=True, date_as_object=False, strings_to_categorical=True
        )
        frame = _fast_datetimes(frame).set_index(list(INDEX_COLUMNS))
        if not frame.index.is_unique:
            raise ValueError(f"{suite.channel}: raw rows repeat a (load, sheet, row number)")
        log.info(
            "read %s part %d: %d rows in %.2fs", suite.channel, number, len(frame), _since(started)
        )
        yield frame
        started = time.perf_counter()


def _parts(reader: pa.RecordBatchReader, part_rows: int) -> Iterator[pa.Table]:
    """Arrow record batches gathered into tables of up to `part_rows` rows; at least one, so an
    empty batch is validated (and documented) like any other."""
    pending: list[pa.RecordBatch] = []
    size, yielded = 0, False
    for record_batch in reader:
        pending.append(record_batch)
        size += record_batch.num_rows
        if size >= part_rows:
            yield pa.Table.from_batches(pending)
            pending, size, yielded = [], 0, True
    if pending or not yielded:
        yield pa.Table.from_batches(pending, schema=reader.schema)


def _fast_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    """datetime64[us|ms] -> [ns] where every value fits, so GX compares vectorised."""
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_dtype(column.dtype) and column.dtype != "datetime64[ns]":
            low, high = column.min(), column.max()
            if pd.isna(low) or (NS_RANGE[0] <= low and high <= NS_RANGE[1]):
                frame[name] = column.astype("datetime64[ns]")
    return frame


# --------------------------------------------------------------------------- GX


def gx_context(docs_dir: Path, suites: Any) -> Any:
    """An in-memory GX context with every channel suite and a Data Docs site in `docs_dir`."""
    started = time.perf_counter()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,  # no network at run time
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            "leadflow": {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas(DATASOURCE)
    for suite in suites:
        context.suites.add(gx_suite(suite))
    log.info("GX context ready in %.2fs", _since(started))
    return context


def _validate_batch(
    context: Any, suite: Suite, frame: pd.DataFrame, run_id: str, part: int = 0
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the suite on one batch, map every failing row to flags, keep a summary for the docs
    (JSON-able, so that a worker process can hand it over: see `store_for_docs`).

    This is what `ValidationDefinition.run` does, except that it does not hand the COMPLETE
    result to GX's results store: the store deep-copies and JSON-encodes every failing row's
    index, about 90% of the run time when a 1M-row file fails a check on every row. The docs
    get the same result with the row lists cut to a sample once the flags are taken.
    """
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.validator.v1_validator import Validator  # as run() uses (GX 1.24)

    started = time.perf_counter()
    asset_name = suite.name if part == 0 else f"{suite.name} part {part + 1}"
    asset = context.data_sources.get(DATASOURCE).add_dataframe_asset(name=asset_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(asset_name)
    validator = Validator(
        batch_definition=batch_definition,
        # without lineage columns: GX's row conditions copy every column of the frame
        batch_parameters={"dataframe": frame.drop(columns=list(LINEAGE_COLUMNS))},
        result_format=RESULT_FORMAT,
    )
    result = validator.validate_expectation_suite(context.suites.get(suite.name))
    flags = result_flags(result, suite, frame)
    run = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    docs = _docs_result(result, validator.active_batch_id, run)
    _release_batch(context)
    log.info(
        "validated %s: %d rows, %d flags in %.2fs",
        suite.name,
        len(frame),
        len(flags),
        _since(started),
    )
    return flags, docs


def _release_batch(context: Any) -> None:
    """Drop the batch GX keeps once its flags are taken. The datasource's one execution engine
    caches every loaded DataFrame and every resolved metric (full-length boolean Series among
    them) for the life of the context, which GX keeps as its global project: at 1M leads all
    nine batches stayed resident through validation and ~6.8 GB after it, under the dbt build
    that followed in `leadflow run`. Metric ids name their batch, so nothing is ever reused."""
    engine = context.data_sources.get(DATASOURCE).get_execution_engine()
    engine.batch_manager.batch_data_cache.clear()
    engine.batch_manager.reset_batch_cache()
    metrics = getattr(engine, "_metric_cache", None)  # private in GX 1.x: clear when present
    if hasattr(metrics, "clear"):
        metrics.clear()


def _docs_result(result: Any, batch_id: str | None, run: Any) -> dict[str, Any]:
    """The result as Data Docs show it, as JSON: failing-row lists cut to a sample (the flags
    are taken already), the run named. JSON so that a worker process can return it."""
    for expectation_result in result.results:
        for key in ("unexpected_index_list", "partial_unexpected_index_list"):
            rows = expectation_result.result.get(key)
            if rows:  # exclude_unexpected_values: [{index column: [values]}]
                expectation_result.result[key] = [
                    {column: values[:DOCS_SAMPLE] for column, values in rows[0].items()}
                ]
    result.meta.update(
        run_id=run, validation_time=run.run_time, batch_parameters={"dataframe": "<DATAFRAME>"}
    )
    return {
        "result": result.to_json_dict(),
        "batch_id": batch_id,
        "run_name": run.run_name,
        "run_time": run.run_time.isoformat(),
    }


def store_for_docs(context: Any, docs: dict[str, Any]) -> None:
    """Store one `_docs_result` in the context's results store, for `build_data_docs`."""
    from great_expectations.core.expectation_validation_result import (
        expectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    result = expectationSuiteValidationResultSchema.load(docs["result"])
    run = RunIdentifier(
        run_name=docs["run_name"], run_time=datetime.fromisoformat(docs["run_time"])
    )
    suite_id = ExpectationSuiteIdentifier(name=result.suite_name)
    context.validation_results_store.store_validation_results(
        suite_validation_result=result,
        suite_validation_result_identifier=ValidationResultIdentifier(
            expectation_suite_identifier=suite_id, run_id=run, batch_identifier=docs["batch_id"]
        ),
        expectation_suite_identifier=suite_id,
    )


def build_data_docs(context: Any, docs_dir: Path) -> Path:
    started = time.perf_counter()
    context.build_data_docs()
    index = docs_dir / "index.html"
    if not index.exists():
        raise TerminalError(f"GX did not write Data Docs to {index}")
    log.info("Data Docs built in %.2fs", _since(started))
    return index


def _since(started: float) -> float:
    return time.perf_counter() - started
