"""Opening the warehouse: one place that bounds DuckDB's memory for every step.

DuckDB takes 80 % of RAM by default; at 1M leads the steps then held 7-10 GB each. With a
limit DuckDB spills big joins and sorts to `<warehouse>.tmp/` instead. The limit is a knob
(`LEADFLOW_DUCKDB_MEMORY_LIMIT`, any DuckDB size such as `2GB` or `512MB`); the dbt profile
reads the same variable with the same default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"


def memory_limit() -> str:
    return os.environ.get("LEADFLOW_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with the project's memory limit. `SET` rather than connect-time config:
    the limit belongs to the database instance, and a config at connect time would refuse a
    second connection to a file this process already has open. duckdb is imported here so that
    parsing the DAG (which imports the steps) stays light."""
    import duckdb

    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("SET memory_limit = ?", [memory_limit()])
    except duckdb.Error as exc:
        con.close()
        raise ValueError(
            f"LEADFLOW_DUCKDB_MEMORY_LIMIT={memory_limit()!r} is not a DuckDB size: {exc}"
        ) from exc
    return con
