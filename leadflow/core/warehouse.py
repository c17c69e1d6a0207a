"""Opening the warehouse: one place that bounds DuckDB's memory for every step.

DuckDB takes 80 % of RAM by default; at 1M leads the steps then held 7-10 GB each. With a
limit DuckDB spills big joins and sorts to `<warehouse>.tmp/` instead. The limit is a knob
(`LEADFLOW_DUCKDB_MEMORY_LIMIT`, any DuckDB size such as `2GB` or `512MB`); the dbt profile
reads the same variable with the same default. Ingest and validation, which stream, take a
smaller cap (`LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT`, default 1GB).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

DEFAULT_MEMORY_LIMIT = "2GB"
# Ingest and validation move one file or one part at a time and need little of DuckDB's memory;
# a smaller cap leaves the room to their Arrow tables and GX frames (1M leads: 3.3 -> 2.4 GB
# peak loading 3.4M follow-ups, at 1.5 s more).
DEFAULT_STREAMING_MEMORY_LIMIT = "1GB"


def _limit_setting(streaming: bool) -> tuple[str, str]:
    """The environment variable that sets this kind of step's cap, and its default."""
    if streaming:
        return "LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", DEFAULT_STREAMING_MEMORY_LIMIT
    return "LEADFLOW_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT


def memory_limit(*, streaming: bool = False) -> str:
    name, default = _limit_setting(streaming)
    return os.environ.get(name, "").strip() or default


def connect(
    path: Path | str, *, read_only: bool = False, streaming: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection with the project's memory limit. `SET` rather than connect-time config:
    the limit belongs to the database instance, and a config at connect time would refuse a
    second connection to a file this process already has open. duckdb is imported here so that
    parsing the DAG (which imports the steps) stays light."""
    import duckdb

    limit = memory_limit(streaming=streaming)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("SET memory_limit = ?", [limit])
    except duckdb.Error as exc:
        con.close()
        name, _ = _limit_setting(streaming)
        raise ValueError(f"{name}={limit!r} is not a DuckDB size: {exc}") from exc
    return con
