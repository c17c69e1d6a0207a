"""Publishing for BI: readers of the snapshot never block the pipeline nor see a half state."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from leadflow.marts_release import release
from leadflow.publish import SNAPSHOT_NAME, PublishError, publish_marts
from tests.conftest import AS_OF


def build_warehouse(path: Path, leads: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            "CREATE OR REPLACE TABLE marts.dim_leads AS "
            f"SELECT range AS lead_key FROM range({leads})"
        )
        con.execute(
            "CREATE OR REPLACE TABLE marts.ops_owner_queue AS "
            f"SELECT range AS lead_key, 'ops' AS owner_name FROM range({leads * 2})"
        )


def test_reader_holding_the_snapshot_keeps_a_whole_old_state_while_a_run_publishes(
    tmp_path: Path,
) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 10)
    first = publish_marts(warehouse, publish_dir, run_id="run1")
    assert first.marts == {"dim_leads": 10, "ops_owner_queue": 20}

    reader = duckdb.connect(first.snapshot, read_only=True)  # a BI tool, left open
    build_warehouse(warehouse, 25)  # the pipeline keeps writing its own warehouse
    second = publish_marts(warehouse, publish_dir, run_id="run2")

    assert reader.execute("SELECT count(*) FROM marts.dim_leads").fetchone() == (10,)
    assert reader.execute("SELECT count(*) FROM marts.ops_owner_queue").fetchone() == (20,)
    reader.close()
    with duckdb.connect(second.snapshot, read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM marts.dim_leads").fetchone() == (25,)
    current = Path(second.parquet)
    assert current.resolve().name == "run2"
    assert pq.read_table(current / "ops_owner_queue.parquet").num_rows == 50
    leftovers = [p.name for p in publish_dir.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_old_parquet_versions_are_pruned(tmp_path: Path) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 3)
    for run in range(5):
        publish_marts(warehouse, publish_dir, run_id=f"run{run}")
    versions = sorted(p.name for p in (publish_dir / "parquet").iterdir() if not p.is_symlink())
    assert versions == ["run2", "run3", "run4"]


# --- storage faults (issue 19): the step fails naming the path, the previous snapshot stays ----


def snapshot_state(publish_dir: Path) -> tuple[int, str]:
    with duckdb.connect(str(publish_dir / SNAPSHOT_NAME), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM marts.dim_leads").fetchone()[0]
    return rows, (publish_dir / "parquet" / "current").resolve().name


def staging_left(publish_dir: Path) -> list[str]:
    return [p.name for p in [*publish_dir.glob(".*"), *publish_dir.glob("parquet/.*")]]


def can_mount() -> str | None:
    """None when this process may mount (root with CAP_SYS_ADMIN), else why not."""
    if os.geteuid() != 0:
        return "mounting needs root"
    probe = Path(tempfile.mkdtemp())
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True
        )
        if done.returncode != 0:
            return f"mount refused here: {done.stderr.decode().strip()}"
        subprocess.run(["umount", str(probe)], check=True)
        return None
    except FileNotFoundError:
        return "no mount command"
    finally:
        probe.rmdir()


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """`folder` read-only for this process: chmod when unprivileged (root ignores modes), else
    a read-only bind mount of it onto itself."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        (folder / "parquet").chmod(0o555)
        try:
            yield "permission denied"
        finally:
            (folder / "parquet").chmod(0o755)
            folder.chmod(0o755)
        return
    reason = can_mount()
    if reason:
        pytest.skip(f"root ignores file modes and {reason}: no read-only folder to test with")
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        yield "read-only"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_publish_folder_fails_naming_it_and_keeps_the_previous_snapshot(
    tmp_path: Path,
) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 10)
    publish_marts(warehouse, publish_dir, run_id="run1")
    build_warehouse(warehouse, 25)
    with read_only(publish_dir) as reason, pytest.raises(PublishError) as raised:
        publish_marts(warehouse, publish_dir, run_id="run2")
    message = str(raised.value)
    assert f"cannot publish the BI snapshot to {publish_dir}: " in message and reason in message
    assert not raised.value.retryable  # a person must fix the folder: the DAG does not retry
    assert snapshot_state(publish_dir) == (10, "run1")
    assert not staging_left(publish_dir)


def test_a_full_disk_fails_naming_the_folder_and_keeps_the_previous_snapshot(
    tmp_path: Path,
) -> None:
    reason = can_mount()
    if reason:
        pytest.skip(f"a full disk is simulated with a small tmpfs, and {reason}")
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "small"
    publish_dir.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(publish_dir)], check=True)
    try:
        build_warehouse(warehouse, 10)
        publish_marts(warehouse, publish_dir, run_id="run1")
        build_warehouse(warehouse, 300_000)  # ~2 MB of Parquet and more of DuckDB: cannot fit
        with pytest.raises(PublishError) as raised:
            publish_marts(warehouse, publish_dir, run_id="run2")
        assert f"cannot publish the BI snapshot to {publish_dir}: the disk is full" in str(
            raised.value
        )
        assert raised.value.retryable  # space may be freed: worth a retry
        assert snapshot_state(publish_dir) == (10, "run1")
        assert not staging_left(publish_dir)  # the half-written staging was removed
    finally:
        subprocess.run(["umount", str(publish_dir)], check=True)


def test_staging_left_by_a_killed_publish_is_removed_by_the_next(tmp_path: Path) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 3)
    publish_marts(warehouse, publish_dir, run_id="run1")
    (publish_dir / f".{SNAPSHOT_NAME}.dead.tmp").write_bytes(b"half a file")
    (publish_dir / f".{SNAPSHOT_NAME}.dead.tmp.wal").write_bytes(b"")
    (publish_dir / "parquet" / ".dead.tmp").mkdir()
    publish_marts(warehouse, publish_dir, run_id="run2")
    assert not staging_left(publish_dir)
    assert snapshot_state(publish_dir) == (3, "run2")


def test_a_retried_run_publishes_a_new_version_beside_its_earlier_one(tmp_path: Path) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 3)
    publish_marts(warehouse, publish_dir, run_id="scheduled__1")
    build_warehouse(warehouse, 4)
    again = publish_marts(warehouse, publish_dir, run_id="scheduled__1")  # an Airflow retry
    assert Path(again.parquet).resolve().name == "scheduled__1.1"
    assert snapshot_state(publish_dir) == (4, "scheduled__1.1")


# --- publish what changed (issue 17): unchanged marts are neither rewritten nor re-exported ----


def snapshot_rows(snapshot: Path, mart: str) -> list[tuple]:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return con.execute(f"SELECT * FROM marts.{mart} ORDER BY ALL").fetchall()


def test_only_the_marts_whose_content_changed_are_rewritten(tmp_path: Path) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 10)
    first = publish_marts(warehouse, publish_dir, run_id="run1")
    assert first.rewritten == ["dim_leads", "ops_owner_queue"]  # nothing published before
    reader = duckdb.connect(first.snapshot, read_only=True)
    with duckdb.connect(str(warehouse)) as con:  # one value changes, the row count does not
        con.execute("UPDATE marts.ops_owner_queue SET owner_name = 'ana' WHERE lead_key = 3")
    second = publish_marts(warehouse, publish_dir, run_id="run2")
    assert second.rewritten == ["ops_owner_queue"]
    assert second.parquet_rewritten == ["ops_owner_queue"]
    assert second.marts == {"dim_leads": 10, "ops_owner_queue": 20}
    # the reader of the first snapshot still sees it whole
    old = reader.execute("SELECT count(*) FROM marts.ops_owner_queue WHERE owner_name = 'ana'")
    assert old.fetchone() == (0,)
    reader.close()  # (this process would otherwise reuse the reader's open database)
    expected = sorted([(k, "ops") for k in range(20) if k != 3] + [(3, "ana")])
    assert snapshot_rows(publish_dir / SNAPSHOT_NAME, "ops_owner_queue") == expected
    assert snapshot_rows(publish_dir / SNAPSHOT_NAME, "dim_leads") == [(k,) for k in range(10)]
    root = publish_dir / "parquet"
    assert (root / "run1" / "dim_leads.parquet").stat().st_ino == (
        root / "run2" / "dim_leads.parquet"
    ).stat().st_ino  # the same file, linked into the new version
    exported = pq.read_table(root / "current" / "ops_owner_queue.parquet").to_pylist()
    assert sorted((r["lead_key"], r["owner_name"]) for r in exported) == expected


def test_a_publish_with_nothing_changed_rewrites_nothing_and_a_dropped_mart_disappears(
    tmp_path: Path,
) -> None:
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    build_warehouse(warehouse, 5)
    publish_marts(warehouse, publish_dir, run_id="run1")
    again = publish_marts(warehouse, publish_dir, run_id="run2")
    assert again.rewritten == [] and again.parquet_rewritten == []
    assert snapshot_state(publish_dir) == (5, "run2")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE marts.ops_owner_queue")
        con.execute("CREATE TABLE marts.dim_owners AS SELECT 'ops' AS owner_name")
    third = publish_marts(warehouse, publish_dir, run_id="run3")
    assert third.rewritten == ["dim_owners"]
    with duckdb.connect(str(publish_dir / SNAPSHOT_NAME), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall()
    assert tables == [("dim_leads",), ("dim_owners",)]
    current = publish_dir / "parquet" / "current"
    assert sorted(p.name for p in current.glob("*.parquet")) == [
        "dim_leads.parquet",
        "dim_owners.parquet",
    ]


def test_a_mart_whose_view_shows_the_same_build_keeps_its_fingerprint_unscanned(
    tmp_path: Path,
) -> None:
    """A time-only build rebuilds a few marts into their other slot and repoints those: publish
    scans only them. The proof: rows slipped under a view that was not repointed (which no
    build does: it never writes the slot a view shows) are not noticed."""
    warehouse, publish_dir = tmp_path / "wh.duckdb", tmp_path / "publish"
    marts = {"dim_leads", "ops_owner_queue"}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts_a; CREATE SCHEMA marts_b")
        con.execute("CREATE TABLE marts_a.dim_leads AS SELECT range AS lead_key FROM range(5)")
        con.execute("CREATE TABLE marts_a.ops_owner_queue AS SELECT range AS k FROM range(3)")
    release(warehouse, dict.fromkeys(marts, "marts_a"), run_id="run1", as_of=AS_OF, marts=marts)
    first = publish_marts(warehouse, publish_dir, run_id="run1")
    assert first.marts == {"dim_leads": 5, "ops_owner_queue": 3}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE marts_b.ops_owner_queue AS SELECT range AS k FROM range(4)")
        con.execute("INSERT INTO marts_a.dim_leads VALUES (99)")  # under the shown view
    release(
        warehouse, {"ops_owner_queue": "marts_b"}, run_id="run2", as_of=AS_OF, marts=marts,
        rebuilt={"ops_owner_queue"},
    )  # fmt: skip
    second = publish_marts(warehouse, publish_dir, run_id="run2")
    assert second.rewritten == ["ops_owner_queue"]
    assert second.marts == {"dim_leads": 5, "ops_owner_queue": 4}  # dim_leads: not scanned
    # once dim_leads is rebuilt and repointed, it is scanned (and rewritten) again
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE marts_b.dim_leads AS SELECT range AS lead_key FROM range(6)")
    release(
        warehouse, {"dim_leads": "marts_b"}, run_id="run3", as_of=AS_OF, marts=marts,
        rebuilt={"dim_leads"},
    )  # fmt: skip
    third = publish_marts(warehouse, publish_dir, run_id="run3")
    assert third.rewritten == ["dim_leads"]
    assert snapshot_rows(publish_dir / SNAPSHOT_NAME, "dim_leads") == [(k,) for k in range(6)]
