"""Publish the marts for BI: a read-only DuckDB snapshot and Parquet files, swapped atomically.

BI tools never open the warehouse the pipeline writes (DuckDB has one writer): they open
`publish/leadflow_marts.duckdb`, which is built beside it under a temporary name and renamed over
the old one, or `publish/parquet/current/<mart>.parquet`, where `current` is a symlink switched
to a complete new folder. A reader holding the old file keeps reading the old, whole snapshot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from leadflow import warehouse as warehouse_db

SNAPSHOT_NAME = "leadflow_marts.duckdb"
KEEP_PARQUET_VERSIONS = 3


def publish_marts(warehouse: Path, publish_dir: Path, *, run_id: str) -> dict[str, Any]:

    publish_dir.mkdir(parents=True, exist_ok=True)
    snapshot = publish_dir / SNAPSHOT_NAME
    staging = publish_dir / f".{SNAPSHOT_NAME}.{run_id}.tmp"
    parquet_root = publish_dir / "parquet"
    version_dir = parquet_root / run_id
    version_dir.mkdir(parents=True, exist_ok=True)
    staging.unlink(missing_ok=True)
    with warehouse_db.connect(staging) as con:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        marts = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
                "AND schema_name = 'marts' UNION SELECT view_name FROM duckdb_views() "
                "WHERE database_name = 'wh' AND schema_name = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        con.execute("CREATE SCHEMA marts")
        counts = {}
        for mart in marts:
            con.execute(f'CREATE TABLE marts."{mart}" AS SELECT * FROM wh.marts."{mart}"')
            con.execute(
                f"COPY marts.\"{mart}\" TO '{version_dir / (mart + '.parquet')}' (FORMAT parquet)"
            )
            counts[mart] = con.execute(f'SELECT count(*) FROM marts."{mart}"').fetchone()[0]
        con.execute("DETACH wh")
    os.replace(staging, snapshot)  # atomic on one file system
    _switch_symlink(parquet_root / "current", version_dir)
    _prune(parquet_root, keep=version_dir)
    return {
        "published": True,
        "snapshot": str(snapshot),
        "parquet": str(parquet_root / "current"),
        "marts": counts,
    }


def _switch_symlink(link: Path, target: Path) -> None:
    temporary = link.with_name(link.name + ".new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name, target_is_directory=True)
    os.replace(temporary, link)


def _prune(parquet_root: Path, keep: Path) -> None:
    versions = sorted(
        (p for p in parquet_root.iterdir() if p.is_dir() and not p.is_symlink()),
        key=lambda p: p.stat().st_mtime,
    )
    for old in versions[:-KEEP_PARQUET_VERSIONS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
