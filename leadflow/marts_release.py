"""The marts people read stay the last good build's (C9): a build writes one of two slot schemas
per mart, and only a build that passed points the `marts` views at what it wrote, in one
transaction.

`marts.<name>` are views over `marts_a.<name>` or `marts_b.<name>`. A build writes each mart it
rebuilds into the slot its view does not show; a failed build leaves the views, the mail they
feed and the BI snapshot on the previous build. The slot is per mart (issue 17): a build of the
time-driven marts only (leadflow/time_only.py) repoints those, and the others stay where they
are, so no mart is ever shown from a slot two builds old. The price is a second copy of the
marts on disk; nothing is copied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path

import duckdb

from leadflow.core import warehouse as warehouse_db

SLOTS = ("marts_a", "marts_b")
RELEASES = "ops.marts_release"
VERSIONS = "ops.mart_versions"
_SHOWN = re.compile(r"\bFROM\s+\"?(marts_[ab])\"?\.", re.IGNORECASE)


def _ensure_release_table(con: duckdb.DuckDBPyConnection) -> None:
    warehouse_db.ensure_ops_table(con, "marts_release")
    warehouse_db.ensure_ops_table(con, "mart_versions")


def mart_versions(con: duckdb.DuckDBPyConnection, catalog: str = "") -> dict[str, str]:
    """mart -> `slot:run_id` of the build its view shows (empty before any release recorded
    them). A build writes only slots the views do not show, so while a mart's version stays the
    same its rows do too. `catalog`: the warehouse attached under that name."""
    prefix = f"{catalog}." if catalog else ""
    if not warehouse_db.table_exists(con, "ops", "mart_versions", catalog=catalog or None):
        return {}
    rows = con.execute(f"SELECT mart, slot || ':' || run_id FROM {prefix}{VERSIONS}").fetchall()
    return dict(rows)


def other_slot(slot: str | None) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


def shown_slots(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """mart -> the slot its `marts.<name>` view shows, read from the views themselves (release
    writes them), so it can never disagree with what readers see."""
    rows = con.execute(
        "SELECT view_name, sql FROM duckdb_views() "
        "WHERE schema_name = 'marts' AND database_name = current_database()"
    ).fetchall()
    shown = {}
    for name, sql in rows:
        match = _SHOWN.search(sql or "")
        if match:
            shown[name] = match.group(1)
    return shown


def build_slots(warehouse: Path, rebuilt: Collection[str] | None = None) -> dict[str, str]:
    """mart -> the slot this build writes (rebuilt marts: the one its view does not show) or
    reads (the others: where its view shows it). `rebuilt` None: every mart is rebuilt; a mart
    not named here (no view yet) goes to `default_slot`."""
    with warehouse_db.connect(warehouse, read_only=True) as con:
        shown = shown_slots(con)
    return {
        name: other_slot(slot) if rebuilt is None or name in rebuilt else slot
        for name, slot in shown.items()
    }


def default_slot() -> str:
    """Where a mart with no view yet is built: nothing shows either slot of it."""
    return SLOTS[0]


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


def release(
    warehouse: Path,
    slots: Mapping[str, str],
    *,
    run_id: str,
    as_of: date,
    marts: Collection[str],
    rebuilt: Collection[str] | None = None,
) -> int:
    """Point `marts.<name>` of every mart this build rebuilt (`rebuilt`, None: all of the
    project's `marts`) at the slot it wrote (`slots`, else `default_slot`); the other marts'
    views stay as they are. Returns how many marts are shown. A view or slot table of a mart the
    project no longer defines is dropped, so no view keeps showing a renamed or removed mart."""
    rebuilt_names = set(marts if rebuilt is None else rebuilt) & set(marts)
    with warehouse_db.connect(warehouse) as con:
        _ensure_release_table(con)
        in_slots = {slot: _objects(con, slot) for slot in SLOTS}
        written = {name: slots.get(name, default_slot()) for name in sorted(rebuilt_names)}
        built = {name: slot for name, slot in written.items() if name in in_slots[slot]}
        shown = _objects(con, "marts")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            for name, kind in shown.items():  # tables of an older warehouse, marts now gone
                if kind != "VIEW" or name not in marts or (name in written and name not in built):
                    con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} marts."{name}"')
            for slot, objects in in_slots.items():
                for name, kind in objects.items():
                    if name not in marts:
                        con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} {slot}."{name}"')
            for name, slot in built.items():
                con.execute(
                    f'CREATE OR REPLACE VIEW marts."{name}" AS SELECT * FROM {slot}."{name}"'
                )
            con.execute(
                f"DELETE FROM {VERSIONS} WHERE mart IN (SELECT unnest(?)) "
                "OR mart NOT IN (SELECT unnest(?))",
                [sorted(built), sorted(marts)],
            )
            if built:
                con.executemany(
                    f"INSERT INTO {VERSIONS} VALUES (?, ?, ?)",
                    [[name, slot, run_id] for name, slot in built.items()],
                )
            released = "+".join(sorted(set(built.values()))) or default_slot()
            con.execute(
                f"INSERT INTO {RELEASES} VALUES (?, ?, ?, now()::TIMESTAMP)",
                [released, run_id, as_of],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return len(shown_slots(con))
