"""Build a DuckDB warehouse shaped like ingest's (raw.*, dq.flags) and run dbt on it, for tests.

The tables come from ingest's and validation's own DDL (``leadflow.core.canonical.ENTITIES``
columns), so the fixtures follow the contract.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from expectations.flags import ensure_flags_table
from ingest.landing import ensure_raw_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO_ROOT / "dbt_project"
DBT_BIN = Path(sys.executable).parent / "dbt"


def create_warehouse(path: Path) -> None:
    """Create every table dbt reads, empty, with ingest's and validation's own DDL."""
    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        ensure_flags_table(con)


def insert_rows(path: Path, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert dicts into a raw table; missing columns are NULL, JSON columns get '{}'."""
    if not rows:
        return
    with duckdb.connect(str(path)) as con:
        columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        types = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
        )
        for row in rows:
            unknown = set(row) - set(columns)
            if unknown:
                raise KeyError(f"{table} has no columns {sorted(unknown)}")
            values = []
            for col in columns:
                value = row.get(col)
                if value is None and types[col] == "JSON":
                    value = "{}"
                elif isinstance(value, dict):
                    value = json.dumps(value, ensure_ascii=False)
                values.append(value)
            placeholders = ", ".join("?" for _ in columns)
            con.execute(f"INSERT INTO {table} VALUES ({placeholders})", values)


def run_dbt(
    warehouse: Path,
    work_dir: Path,
    as_of: str,
    command: str = "build",
    timezone: str = "Asia/Shanghai",
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """One dbt invocation, as the pipeline makes it, with target and logs under work_dir."""
    env = dict(os.environ)
    env["LEADFLOW_WAREHOUSE"] = str(warehouse)
    env["DBT_TARGET_PATH"] = str(work_dir / "target")
    env["DBT_LOG_PATH"] = str(work_dir / "logs")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    cmd = [
        str(DBT_BIN),
        *command.split(),  # e.g. "source freshness"
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target",
        "duckdb",
        "--vars",
        json.dumps({"as_of": as_of, "business_timezone": timezone}),
        *(extra or []),
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(work_dir))
