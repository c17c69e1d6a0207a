"""Incremental builds on PostgreSQL equal full rebuilds (issue 17).

The days of tests/test_incremental.py (history, new leads, a merge, a corrected record, an owner
leaving, a backfill, a late file) go through ingest and validation into DuckDB, where each day is
also built with every incremental model rebuilt in full. After each day the raw tables are copied
into PostgreSQL (only `raw` and `dq` replaced, so dbt's tables stay) and `dbt build --target
postgres` runs incrementally. At the end every staging and intermediate model and every mart in
PostgreSQL holds the rows of the DuckDB full rebuild (values normalised as in test_postgres.py).
Every run is a backfill (no routing tables in PostgreSQL), in both warehouses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.test_incremental import STEPS, load_and_build, twin
from tests.test_postgres import (
    PG_DSN,
    PROJECT_SCHEMAS,
    RAW_SCHEMAS,
    REPO_ROOT,
    TIMEZONE,
    copy_raw_to_postgres,
    normalised_rows,
    pg_env,
    row_differences,
)
from tests.warehouse_compare import AUDIT_COLUMNS, AUDIT_SUFFIXES, BUILD_STATE

pytestmark = pytest.mark.postgres

SCHEMAS = ("staging", "intermediate", "marts")
Relations = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def run_dbt(work_dir: Path, as_of: date) -> subprocess.CompletedProcess[str]:
    """One incremental `dbt build --target postgres` with the pipeline's vars (no routing)."""
    env = {
        **os.environ,
        **pg_env(PG_DSN),
        "PGTZ": "UTC",
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    variables = {"as_of": as_of.isoformat(), "business_timezone": TIMEZONE}
    command = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--exclude-resource-type", "unit_test",
        "--project-dir", str(REPO_ROOT / "dbt_project"),
        "--profiles-dir", str(REPO_ROOT / "dbt_project"),
        "--target", "postgres",
        "--vars", json.dumps(variables),
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(work_dir))


def kept(columns: list[str]) -> list[str]:
    return [c for c in columns if not c.endswith(AUDIT_SUFFIXES) and c not in AUDIT_COLUMNS]


def read_duckdb(path: Path) -> Relations:
    import duckdb

    relations: Relations = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema IN {SCHEMAS} ORDER BY 1, 2"
        ).fetchall()
        for schema, name in names:
            if f"{schema}.{name}" in BUILD_STATE:
                continue
            result = con.execute(f'SELECT * FROM {schema}."{name}" LIMIT 0')
            columns = kept([d[0] for d in result.description])
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {select} FROM {schema}."{name}"').fetchall()
            relations[f"{schema}.{name}"] = (columns, normalised_rows(rows))
    return relations


def read_postgres(like: Relations) -> Relations:
    import psycopg
    from psycopg import sql

    relations: Relations = {}
    with psycopg.connect(PG_DSN) as con:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) ORDER BY 1, 2",
            [list(SCHEMAS)],
        ).fetchall()
        for schema, name in names:
            key = f"{schema}.{name}"
            if key in BUILD_STATE:
                continue
            ident = sql.Identifier(schema, name)
            cur = con.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(ident))
            columns = kept([d.name for d in cur.description or []])
            if key in like and set(like[key][0]) == set(columns):
                columns = like[key][0]  # DuckDB's column order
            cur = con.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in columns), ident
                )
            )
            relations[key] = (columns, normalised_rows(cur.fetchall()))
    return relations


def problems(expected: Relations, actual: Relations) -> list[str]:
    found = [f"{name}: only on one side" for name in sorted(set(expected) ^ set(actual))]
    for name in sorted(set(expected) & set(actual)):
        (columns, rows), (pg_columns, pg_rows) = expected[name], actual[name]
        if pg_columns != columns:
            found.append(f"{name}: columns duckdb {columns}, postgres {pg_columns}")
        elif len(rows) != len(pg_rows):
            found.append(f"{name}: {len(rows)} rows on duckdb, {len(pg_rows)} on postgres")
        elif diffs := list(row_differences(columns, rows, pg_rows)):
            found.append(f"{name}: {len(diffs)} rows differ; " + "; ".join(diffs[:3]))
    return found


def test_incremental_postgres_builds_equal_a_full_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not PG_DSN:
        pytest.fail("LEADFLOW_PG_DSN is not set: run `make test-postgres` (starts PostgreSQL)")
    full = twin(tmp_path / "full", True)
    work_dir = tmp_path / "dbt_postgres"
    work_dir.mkdir()
    for number, step in enumerate(STEPS):
        load_and_build(full, step, tmp_path, monkeypatch, routing=False)
        drop = PROJECT_SCHEMAS if number == 0 else RAW_SCHEMAS  # first: a clean database
        copy_raw_to_postgres(full.settings.warehouse, PG_DSN, drop=drop)
        done = run_dbt(work_dir, step.as_of)
        assert done.returncode == 0, f"step {number}: {done.stdout[-5000:]}{done.stderr[-2000:]}"
    expected = read_duckdb(full.settings.warehouse)
    assert len(expected) > 40 and sum(len(rows) for _, rows in expected.values()) > 0
    found = problems(expected, read_postgres(expected))
    assert not found, "\n".join(found)
    compiled = next((work_dir / "target" / "run").rglob("stg_follow_ups.sql"))
    assert "delete from" in compiled.read_text(encoding="utf-8").lower()  # it was incremental
