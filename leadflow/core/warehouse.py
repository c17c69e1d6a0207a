"""Opening the warehouse: one place that bounds DuckDB's memory for every step, and the `ops.*`
tables every step may write (run records, build results, releases, load reports).

The memory caps are settings (`leadflow.core.settings.memory_limit_setting`: 2GB, 1GB for the
streaming steps, any DuckDB size such as `512MB`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from leadflow.core.errors import ConfigurationError
from leadflow.core.settings import memory_limit_setting

if TYPE_CHECKING:
    import duckdb

# What a file's load report holds (leadflow/load_reports.py writes it; one row per file and stage).
LOAD_REPORT_COLUMNS = {
    "run_id": "VARCHAR",
    "load_id": "VARCHAR",
    "file_name": "VARCHAR",
    "channel": "VARCHAR",
    "status": "VARCHAR",  # loaded / rejected
    "rows_in_file": "BIGINT",
    "rows_added": "BIGINT",
    "rows_new_lead": "BIGINT",  # NULL until the build has run
    "rows_merged": "BIGINT",  # joined a lead that existed before this file
    "rows_same_person": "BIGINT",  # joined a lead another row of this file started
    "rows_new_version": "BIGINT",  # a new version of a record loaded before
    "rows_flagged": "BIGINT",
    "flags": "BIGINT",
    "rows_quarantined": "BIGINT",
    "rows_already_loaded": "BIGINT",
    "reason": "VARCHAR",  # why the file was rejected
    "notes": "VARCHAR",
    "stage": "VARCHAR",  # validated / built
    "html_path": "VARCHAR",
    "csv_path": "VARCHAR",
    "written_at": "TIMESTAMP",
}
# The run's own records, beside the data: created by the step that first writes them.
OPS_TABLES = {
    # one row per run with every step's summary (observability)
    "run_summary": "run_id VARCHAR, as_of DATE, finished_at TIMESTAMP, summary JSON",
    # per-node results of every dbt build, so a failure names its model or test afterwards
    "dbt_results": (
        "run_id VARCHAR, unique_id VARCHAR, status VARCHAR, seconds DOUBLE, "
        "rows_affected BIGINT, failures BIGINT, message VARCHAR"
    ),
    # which marts slot `marts.*` shows (leadflow/marts_release.py)
    "marts_release": "slot VARCHAR, run_id VARCHAR, as_of DATE, released_at TIMESTAMP",
    # per mart, the slot and build its `marts.<name>` view shows: while they stay the same, so
    # do its rows (a build never writes the shown slot), and publish reuses its fingerprint
    "mart_versions": "mart VARCHAR, slot VARCHAR, run_id VARCHAR",
    # every dbt build begun, its as_of, inputs and selection; passed once released (issue 17:
    # what the time-only build of leadflow/time_only.py compares with)
    "dbt_build_log": (
        "build_id VARCHAR, run_id VARCHAR, as_of DATE, inputs VARCHAR, routing_enabled BOOLEAN, "
        "selection VARCHAR, started_at TIMESTAMP, passed BOOLEAN"
    ),
    "load_reports": ", ".join(f"{c} {t}" for c, t in LOAD_REPORT_COLUMNS.items()),
}


def table_exists(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, *, catalog: str | None = None
) -> bool:
    """Whether `schema.table` exists (in any attached database, or in `catalog`): steps read
    what earlier steps may not have written yet."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
        "AND (CAST(? AS VARCHAR) IS NULL OR table_catalog = ?)",
        [schema, table, catalog, catalog],
    ).fetchone()
    return bool(row and row[0])


def ensure_ops_table(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Create `ops.<name>` if missing; returns its qualified name."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(f"CREATE TABLE IF NOT EXISTS ops.{name} ({OPS_TABLES[name]})")
    return f"ops.{name}"


def connect(
    path: Path | str, *, read_only: bool = False, streaming: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection with the project's memory limit. `SET` rather than connect-time config:
    the limit belongs to the database instance, and a config at connect time would refuse a
    second connection to a file this process already has open. duckdb is imported here so that
    parsing the DAG (which imports the steps) stays light."""
    import duckdb

    name, limit = memory_limit_setting(streaming=streaming)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("SET memory_limit = ?", [limit])
    except duckdb.Error as exc:
        con.close()
        raise ConfigurationError(f"{name}={limit!r} is not a DuckDB size: {exc}") from exc
    return con
