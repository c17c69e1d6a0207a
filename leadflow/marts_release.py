"""The marts people read stay the last good build's (C9): a build writes one of two slot schemas,
and only a build that passed swaps the `marts` views to it, in one transaction.

`marts.<name>` are views over `marts_a.<name>` or `marts_b.<name>`. A run builds the slot the
views do not point at; a failed build leaves the views, the mail they feed and the BI snapshot on
the previous build. The price is a second copy of the marts on disk; nothing is copied.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date
from pathlib import Path

import duckdb

from leadflow.core import warehouse as warehouse_db

SLOTS = ("marts_a", "marts_b")
RELEASES = "ops.marts_release"


def _ensure_release_table(con: duckdb.DuckDBPyConnection) -> None:
    warehouse_db.ensure_ops_table(con, "marts_release")


def current_slot(con: duckdb.DuckDBPyConnection) -> str | None:
    _ensure_release_table(con)
    row = con.execute(
        f"SELECT slot FROM {RELEASES} ORDER BY released_at DESC, rowid DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def build_slot(warehouse: Path) -> str:
    """The slot the next build writes: the one the marts do not show."""
    with warehouse_db.connect(warehouse) as con:
        current = current_slot(con)
    return SLOTS[1] if current == SLOTS[0] else SLOTS[0]


def _objects(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?",
        [schema],
    ).fetchall()
    return dict(rows)


def project_marts(manifest: Path) -> frozenset[str]:
    """The mart models the dbt project defines now (models/marts/), from dbt's manifest."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return frozenset(
        n["name"]
        for n in nodes
        if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")
    )


def release(warehouse: Path, slot: str, *, run_id: str, as_of: date, marts: Collection[str]) -> int:
    """Point every `marts.<name>` of the project's `marts` at the slot just built; returns how
    many marts it shows. A table a renamed or removed model left in the slot is dropped, so no
    view keeps showing a mart the project no longer builds."""
    with warehouse_db.connect(warehouse) as con:
        _ensure_release_table(con)
        in_slot = _objects(con, slot)
        built = sorted(name for name in in_slot if name in marts)
        shown = _objects(con, "marts")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            for name, kind in shown.items():  # tables of an older warehouse, marts now gone
                if kind != "VIEW" or name not in built:
                    con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} marts."{name}"')
            for name, kind in in_slot.items():
                if name not in marts:
                    con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} {slot}."{name}"')
            for name in built:
                con.execute(
                    f'CREATE OR REPLACE VIEW marts."{name}" AS SELECT * FROM {slot}."{name}"'
                )
            con.execute(
                f"INSERT INTO {RELEASES} VALUES (?, ?, ?, now()::TIMESTAMP)", [slot, run_id, as_of]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return len(built)
