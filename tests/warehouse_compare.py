"""Compare two DuckDB files table by table with EXCEPT ALL both ways, audit columns aside."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Audit columns (load ids and times, run ids, send times) differ between two runs by design (C9);
# a flag's id is a hash over its load id.
AUDIT_SUFFIXES = (
    "loaded_at",
    "load_id",
    "run_id",
    "flagged_at",
    "validated_at",
    "built_at",
    "sent_at",
    "recorded_at",  # when the lead ledger learnt of a lead (mail.lead_ledger)
    "released_at",  # when a build's marts were released (ops.marts_release)
)
AUDIT_COLUMNS = frozenset({"flag_id"})
# Build bookkeeping, not a model of the data: which leads this build recomputed (issue 17; every
# lead in a full build, the changed ones in an incremental one), by a hash that differs between
# DuckDB and PostgreSQL. The models it drives are compared.
BUILD_STATE = frozenset(
    {"intermediate.int_touched_leads", "intermediate.int_touched_routing_leads"}
)


def base_tables(con: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...]) -> set:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name IN (SELECT unnest(?))",
        [catalog, list(schemas)],
    ).fetchall()
    return {f"{schema}.{table}" for schema, table in rows}


def compared_columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [catalog, schema, name],
    ).fetchall()
    return [c for (c,) in rows if not c.endswith(AUDIT_SUFFIXES) and c not in AUDIT_COLUMNS]


def differences(
    left: Path, right: Path, schemas: tuple[str, ...], *, skip: frozenset[str] = frozenset()
) -> dict[str, object]:
    """table -> rows in one and not the other (both ways), for every table in `schemas` of
    either file; a table missing on one side is reported as such. Empty: equal."""
    found: dict[str, object] = {}
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH '{left}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS b (READ_ONLY)")
        tables_a = base_tables(con, "a", schemas) - skip
        tables_b = base_tables(con, "b", schemas) - skip
        for table in sorted(tables_a ^ tables_b):
            found[table] = "only in " + ("left" if table in tables_a else "right")
        for table in sorted(tables_a & tables_b):
            columns = compared_columns(con, "a", table)
            if columns != compared_columns(con, "b", table):
                found[table] = "columns differ"
                continue
            select = ", ".join(f'"{c}"' for c in columns)
            schema, name = table.split(".")
            a, b = f'a."{schema}"."{name}"', f'b."{schema}"."{name}"'
            diff = rows_differing(con, select, a, b)
            if diff:
                found[table] = f"{diff} rows differ"
    return found


def model_relations(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    """Staging and intermediate tables, and the marts as readers see them (the views)."""
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name IN ('staging', 'intermediate') UNION SELECT schema_name, view_name "
        "FROM duckdb_views() WHERE database_name = ? AND schema_name = 'marts'",
        [catalog, catalog],
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows} - BUILD_STATE


def model_differences(left: Path, right: Path, *, at_least: int) -> dict[str, object]:
    """relation -> how it differs, over every staging and intermediate table and every mart view
    of either warehouse (EXCEPT ALL both ways, audit columns aside). Empty: equal. `at_least`:
    how many relations the comparison must cover, so it cannot pass by comparing nothing."""
    found: dict[str, object] = {}
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH '{left}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS b (READ_ONLY)")
        relations_a, relations_b = model_relations(con, "a"), model_relations(con, "b")
        for relation in sorted(relations_a ^ relations_b):
            found[relation] = "only in one"
        for relation in sorted(relations_a & relations_b):
            select = ", ".join(f'"{c}"' for c in compared_columns(con, "a", relation))
            schema, name = relation.split(".")
            diff = rows_differing(con, select, f'a.{schema}."{name}"', f'b.{schema}."{name}"')
            if diff:
                found[relation] = f"{diff} rows differ"
        assert len(relations_a) > at_least, sorted(relations_a)
    return found


def rows_differing(con: duckdb.DuckDBPyConnection, select: str, a: str, b: str) -> int:
    """Rows of `select` in one relation and not the other, EXCEPT ALL both ways."""
    return con.execute(
        f"SELECT count(*) FROM ((SELECT {select} FROM {a} EXCEPT ALL SELECT {select} "
        f"FROM {b}) UNION ALL (SELECT {select} FROM {b} EXCEPT ALL SELECT {select} "
        f"FROM {a}))"
    ).fetchone()[0]


def parquet_differences(left: Path, right: Path) -> dict[str, object]:
    """The same for two folders of one Parquet file per mart."""
    names_a = {p.name for p in left.glob("*.parquet")}
    names_b = {p.name for p in right.glob("*.parquet")}
    found: dict[str, object] = {n: "only on one side" for n in names_a ^ names_b}
    with duckdb.connect(":memory:") as con:
        for name in sorted(names_a & names_b):
            a, b = f"read_parquet('{left / name}')", f"read_parquet('{right / name}')"
            columns = [
                r[0]
                for r in con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()
                if not r[0].endswith(AUDIT_SUFFIXES)
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            diff = rows_differing(con, select, a, b)
            if diff:
                found[name] = f"{diff} rows differ"
    return found
