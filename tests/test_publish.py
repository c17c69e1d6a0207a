"""Publishing for BI: readers of the snapshot never block the pipeline nor see a half state."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from leadflow.publish import publish_marts


def build_warehouse(path: Path, leads: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            "CREATE OR REPLACE TABLE marts.dim_leads AS "
            f"SELECT range AS lead_key FROM range({leads})"
        )
        con.execute(
            "CREATE OR REPLACE TABLE marts.owner_queue AS "
            f"SELECT range AS lead_key, 'ops' AS owner_name FROM range({leads * 2})"
        )


def test_reader_holding_the_snapshot_keeps_a_whole_old_state_while_a_run_publishes(
    tmp_path: Path,
) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 10)
    first = publish_marts(warehouse, publish_dir, run_id="run1")
    assert first["marts"] == {"dim_leads": 10, "owner_queue": 20}

    reader = duckdb.connect(first["snapshot"], read_only=True)  # a BI tool, left open
    build_warehouse(warehouse, 25)  # the pipeline keeps writing its own warehouse
    second = publish_marts(warehouse, publish_dir, run_id="run2")

    assert reader.execute("SELECT count(*) FROM marts.dim_leads").fetchone() == (10,)
    assert reader.execute("SELECT count(*) FROM marts.owner_queue").fetchone() == (20,)
    reader.close()
    with duckdb.connect(second["snapshot"], read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM marts.dim_leads").fetchone() == (25,)
    current = Path(second["parquet"])
    assert current.resolve().name == "run2"
    assert pq.read_table(current / "owner_queue.parquet").num_rows == 50
    leftovers = [p.name for p in publish_dir.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_old_parquet_versions_are_pruned(tmp_path: Path) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 3)
    for run in range(5):
        publish_marts(warehouse, publish_dir, run_id=f"run{run}")
    versions = sorted(p.name for p in (publish_dir / "parquet").iterdir() if not p.is_symlink())
    assert versions == ["run2", "run3", "run4"]
