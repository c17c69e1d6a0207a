"""The dbt models run unchanged on PostgreSQL and give the same marts as on DuckDB (issue 7).

Demo data goes through the real ingest and validation into DuckDB and the DuckDB build; the raw
tables (raw.*, dq.flags) are then copied into PostgreSQL with psycopg COPY (DuckDB's postgres
extension cannot be downloaded here) and `dbt build --target postgres` runs with the same vars.
Every mart must hold the same rows on both: values are normalised to Python types, so a BIGINT
that PostgreSQL returns as NUMERIC, or a DOUBLE that differs in its last bits, still compares equal.

Needs a PostgreSQL database named by LEADFLOW_PG_DSN (a libpq connection string) that this test may
reset: `make test-postgres` starts a local cluster, creates a role and a database and sets it.
The database should use the C collation so text sorts by code point, as in DuckDB
(docs/scale-out.md).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

PG_DSN = os.environ.get("LEADFLOW_PG_DSN", "")

# Deselected from `make test` by the marker (pyproject addopts); `make test-postgres` selects it
# and provides the database, so a missing LEADFLOW_PG_DSN there is a failure, never a skip.
pytestmark = pytest.mark.postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 20)  # a fixed anchor (C4), as in the end-to-end tests
TIMEZONE = "Asia/Shanghai"
SEED = 7
LEADS = 60
RAW_SCHEMAS = ("raw", "dq")  # what ingest and validation write; dbt builds everything else
# Schemas this test drops and rebuilds in PostgreSQL: dbt's own (generate_schema_name uses them
# as named) and the raw ones. `public` is left alone.
PROJECT_SCHEMAS = (*RAW_SCHEMAS, "rules", "staging", "intermediate", "marts")
REL_TOL = 1e-9

# DuckDB column type -> PostgreSQL type of the raw tables (core/canonical.py KIND_SQL_TYPES).
# Timestamps stay naive UTC; JSON becomes jsonb. An unknown type fails loudly.
PG_TYPES: dict[str, str] = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone",
    "JSON": "jsonb",
}


Rows = list[tuple[Any, ...]]
Marts = dict[str, tuple[list[str], Rows]]  # mart -> (columns, normalised rows, sorted)


@dataclass
class PostgresBuild:
    completed: subprocess.CompletedProcess[str]
    results: dict[str, str]  # unique_id -> status
    marts: Marts


@dataclass
class Builds:
    duckdb_results: dict[str, str]
    duckdb_marts: Marts
    postgres: list[PostgresBuild]  # a first build, then a second (incremental key map)
    seconds: dict[str, float]


def pg_env(dsn: str) -> dict[str, str]:
    """The LEADFLOW_PG_* variables the `postgres` profile output reads, from one DSN."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    env = {
        "LEADFLOW_PG_HOST": parts.get("host"),
        "LEADFLOW_PG_PORT": parts.get("port"),
        "LEADFLOW_PG_USER": parts.get("user"),
        "LEADFLOW_PG_PASSWORD": parts.get("password"),
        "LEADFLOW_PG_DBNAME": parts.get("dbname"),
    }
    return {key: str(value) for key, value in env.items() if value is not None}


# ------------------------------------------------------------------ DuckDB -> PostgreSQL (COPY)


def raw_tables(con: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(schema, table, [(column, DuckDB type)]) of every raw table, columns in order."""
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema IN {RAW_SCHEMAS} ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return [(schema, table, columns) for (schema, table), columns in tables.items()]


def pg_value(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; only raw text of a quarantined binary row could carry one.
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def copy_raw_to_postgres(
    duckdb_path: Path, dsn: str, batch_rows: int = 10_000, drop: tuple[str, ...] = PROJECT_SCHEMAS
) -> dict[str, int]:
    """Recreate the project's schemas in PostgreSQL and COPY every raw table into them; with
    `drop=RAW_SCHEMAS` only the raw ones, so dbt's tables stay for an incremental build."""
    import duckdb
    import psycopg
    from psycopg import sql

    counts: dict[str, int] = {}
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as source,
        psycopg.connect(dsn) as target,
        target.cursor() as cur,
    ):
        for schema in drop:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        for schema in RAW_SCHEMAS:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for schema, table, columns in raw_tables(source):
            name = sql.Identifier(schema, table)
            unknown = [(c, t) for c, t in columns if t not in PG_TYPES]
            if unknown:
                raise TypeError(f"{schema}.{table}: no PostgreSQL type for {unknown}")
            cur.execute(
                sql.SQL("CREATE TABLE {} ({})").format(
                    name,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[t]))
                        for c, t in columns
                    ),
                )
            )
            column_list = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
            select = ", ".join(f'"{c}"' for c, _ in columns)
            result = source.execute(f'SELECT {select} FROM "{schema}"."{table}"')
            copied = 0
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(name, column_list)) as copy:
                while batch := result.fetchmany(batch_rows):
                    for row in batch:
                        copy.write_row([pg_value(v) for v in row])
                    copied += len(batch)
            counts[f"{schema}.{table}"] = copied
            cur.execute(sql.SQL("ANALYZE {}").format(name))  # planner statistics for dbt
    return counts


# ------------------------------------------------------------------------------------ builds


def dbt_statuses(run_results: Path) -> dict[str, str]:
    payload = json.loads(run_results.read_text(encoding="utf-8"))
    return {r["unique_id"]: str(r["status"]) for r in payload["results"]}


def run_dbt_postgres(work_dir: Path, dsn: str) -> subprocess.CompletedProcess[str]:
    """`dbt build --target postgres` with the vars the pipeline passes (leadflow.pipeline)."""
    env = {
        **os.environ,
        **pg_env(dsn),
        "PGTZ": "UTC",  # session timezone: the profile cannot set it (dbt_project/profiles.yml)
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    variables = {"as_of": AS_OF.isoformat(), "business_timezone": TIMEZONE}
    command = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--project-dir", str(REPO_ROOT / "dbt_project"),
        "--profiles-dir", str(REPO_ROOT / "dbt_project"),
        "--target", "postgres",
        "--vars", json.dumps(variables),
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(work_dir))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    from psycopg.conninfo import conninfo_to_dict

    from leadflow import pipeline
    from leadflow.core.settings import load_settings
    from tools.demo.data import generate

    if not PG_DSN:
        pytest.fail("LEADFLOW_PG_DSN is not set: run `make test-postgres` (starts PostgreSQL)")
    dbname = str(conninfo_to_dict(PG_DSN).get("dbname", ""))
    if "test" not in dbname:  # this test drops the project's schemas: never on a real warehouse
        pytest.fail(f"LEADFLOW_PG_DSN names database {dbname!r}: use a database named *test*")

    root = tmp_path_factory.mktemp("postgres")
    seconds: dict[str, float] = {}
    started = time.monotonic()
    generate(root / "inbox", seed=SEED, leads=LEADS, as_of=AS_OF, truth_path=root / "truth.json")
    settings = replace(
        load_settings(
            data_dir=root / "data",
            inbox=root / "inbox",
            warehouse=root / "data" / "leadflow.duckdb",
            reports_dir=root / "data" / "reports",
            outbox=root / "data" / "outbox",
            publish_dir=root / "data" / "publish",
        ),
        business_timezone=TIMEZONE,
    )
    pipeline.ingest(settings, "pg-test")
    pipeline.validate(settings, AS_OF, "pg-test")
    seconds["demo data, ingest, validate"] = time.monotonic() - started

    started = time.monotonic()
    pipeline.transform(settings, AS_OF, "pg-test")
    seconds["duckdb dbt build"] = time.monotonic() - started
    duckdb_results = dbt_statuses(settings.data_dir / "dbt" / "target" / "run_results.json")
    duckdb_marts = read_duckdb_marts(settings.warehouse)

    started = time.monotonic()
    copy_raw_to_postgres(settings.warehouse, PG_DSN)
    seconds["postgres copy"] = time.monotonic() - started

    postgres: list[PostgresBuild] = []
    work_dir = root / "dbt_postgres"  # shared target/: the second build parses partially
    work_dir.mkdir()
    for attempt in (1, 2):  # the second build takes the incremental path of int_lead_key_map
        started = time.monotonic()
        completed = run_dbt_postgres(work_dir, PG_DSN)
        seconds[f"postgres dbt build {attempt}"] = time.monotonic() - started
        results_path = work_dir / "target" / "run_results.json"
        results = dbt_statuses(results_path) if results_path.exists() else {}
        results_path.unlink(missing_ok=True)
        marts = read_postgres_marts(PG_DSN, duckdb_marts) if completed.returncode == 0 else {}
        postgres.append(PostgresBuild(completed, results, marts))
    return Builds(duckdb_results, duckdb_marts, postgres, seconds)


def test_dbt_build_passes_on_postgres(builds: Builds, capsys: pytest.CaptureFixture[str]) -> None:
    for build in builds.postgres:
        output = build.completed.stdout[-6000:] + build.completed.stderr[-2000:]
        assert build.completed.returncode == 0, output
        # Seeds, models and data tests: every node the production build made on DuckDB, with
        # the same outcome (a data check that warns on DuckDB warns on PostgreSQL too); this
        # build also runs the models' unit tests, which pass on PostgreSQL as well.
        units = {k: v for k, v in build.results.items() if k.startswith("unit_test.")}
        others = {k: v for k, v in build.results.items() if k not in units}
        assert others == builds.duckdb_results
        assert units and set(units.values()) == {"pass"}
    with capsys.disabled():
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in builds.seconds.items())
        print(f"\n[postgres] {len(builds.duckdb_results)} dbt nodes; {timings}")


def test_every_mart_equal_on_duckdb_and_postgres(builds: Builds) -> None:
    first = builds.postgres[0]
    assert first.completed.returncode == 0, "dbt build failed on postgres (see the build test)"
    assert sum(len(rows) for _, rows in builds.duckdb_marts.values()) > 0  # else proves nothing
    problems = mart_problems(builds.duckdb_marts, first.marts)
    assert not problems, "\n".join(problems)


def test_second_postgres_build_keeps_the_marts(builds: Builds) -> None:
    second = builds.postgres[1]
    assert second.completed.returncode == 0, "second dbt build failed (see the build test)"
    problems = mart_problems(builds.duckdb_marts, second.marts)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------- mart comparison


def normalise(value: Any) -> Any:
    """One Python value per meaning, whatever type the warehouse returned."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):  # naive UTC everywhere; an aware value is converted
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return value
    if isinstance(value, dict | list):  # jsonb arrives parsed, DuckDB JSON as text
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    raise TypeError(f"unexpected value {value!r} ({type(value).__name__})")


def sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """NULLs last, type name first so mixed columns never compare str with float; floats are
    rounded so last-bit differences cannot reorder rows."""
    return tuple(
        (1, "", "")
        if v is None
        else (0, type(v).__name__, float(f"{v:.12g}") if isinstance(v, float) else v)
        for v in row
    )


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def normalised_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(normalise(v) for v in row) for row in rows), key=sort_key)


def row_differences(
    columns: list[str], left: list[tuple[Any, ...]], right: list[tuple[Any, ...]]
) -> Iterator[str]:
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        diff = {c: (x, y) for c, x, y in zip(columns, a, b, strict=True) if not same_value(x, y)}
        if diff:
            yield f"row {index}: " + ", ".join(
                f"{c}: duckdb={x!r} postgres={y!r}" for c, (x, y) in diff.items()
            )


def read_duckdb_marts(path: Path) -> Marts:
    import duckdb

    marts: Marts = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            result = con.execute(f'SELECT * FROM marts."{table}"')
            columns = [d[0] for d in result.description]
            marts[table] = (columns, normalised_rows(result.fetchall()))
    return marts


def read_postgres_marts(dsn: str, like: Marts) -> Marts:
    """Every mart in PostgreSQL, its columns in the order of the DuckDB mart of that name."""
    import psycopg
    from psycopg import sql

    marts: Marts = {}
    with psycopg.connect(dsn) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY table_name"
        ).fetchall()
        for (table,) in tables:
            name = sql.Identifier("marts", table)
            cur = con.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(name))
            columns = [d.name for d in cur.description or []]
            wanted = (
                like[table][0] if table in like and set(like[table][0]) == set(columns) else columns
            )
            cur = con.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in wanted), name
                )
            )
            marts[table] = (wanted, normalised_rows(cur.fetchall()))
    return marts


def mart_problems(expected: Marts, actual: Marts) -> list[str]:
    """What differs between the DuckDB marts (expected) and the PostgreSQL ones."""
    if sorted(actual) != sorted(expected):
        return [f"marts differ: duckdb {sorted(expected)}, postgres {sorted(actual)}"]
    problems: list[str] = []
    for table, (columns, rows) in expected.items():
        pg_columns, pg_rows = actual[table]
        if pg_columns != columns:
            problems.append(f"{table}: columns duckdb {columns}, postgres {pg_columns}")
        elif len(pg_rows) != len(rows):
            problems.append(f"{table}: {len(rows)} rows on duckdb, {len(pg_rows)} on postgres")
        elif diffs := list(row_differences(columns, rows, pg_rows)):
            problems.append(f"{table}: {len(diffs)} rows differ; " + "; ".join(diffs[:3]))
    return problems
