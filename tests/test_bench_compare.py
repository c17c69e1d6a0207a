"""The benchmark's verdict on the hand-written reference (bench/run_bench.py compare_marts): a
mart column the reference lacks is a DIFF naming it, never a crash and never "same"."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def run_bench():
    spec = importlib.util.spec_from_file_location("run_bench", ROOT / "bench" / "run_bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_bench"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def warehouse(tmp_path: Path, run_bench, *, queue_ref: str, key_map_ref: str) -> Path:
    """dbt's side (marts.*, the key map) and the reference's (bench_ref.*): one row each."""
    path = tmp_path / "leadflow.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "intermediate", "bench_ref"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            "CREATE TABLE marts.ops_owner_queue AS SELECT 'L1' AS lead_key, "
            "'overdue' AS item_type, 'weekly; goal: quote' AS plan_text, 2 AS follow_up_number"
        )
        con.execute(f"CREATE TABLE bench_ref.ops_owner_queue AS {queue_ref}")
        for mart in run_bench.CORE_MARTS[1:]:
            for schema in ("marts", "bench_ref"):
                con.execute(f"CREATE TABLE {schema}.{mart} AS SELECT 'web' AS source, 3 AS leads")
        con.execute(
            "CREATE TABLE intermediate.int_lead_key_map AS SELECT 'r1' AS source_record_id, "
            "'r1' AS lead_key, TIMESTAMP '2026-11-26 10:00' AS mapped_loaded_at"
        )
        con.execute(f"CREATE TABLE bench_ref.lead_key_map AS {key_map_ref}")
    return path


def test_a_column_the_reference_lacks_is_a_diff_naming_it(tmp_path: Path, run_bench) -> None:
    path = warehouse(
        tmp_path,
        run_bench,
        queue_ref="SELECT 'L1' AS lead_key, 'overdue' AS item_type",
        key_map_ref="SELECT 'r1' AS source_record_id, 'r1' AS lead_key",
    )

    verdicts = run_bench.compare_marts(path)

    assert verdicts["ops_owner_queue"] == (
        "DIFF reference lacks 2 column(s) (plan_text, follow_up_number), "
        "on the others dbt-only 0 ref-only 0"
    )
    # the key map's audit column (when dbt last wrote the row) is not identity: not compared
    assert verdicts["lead_key_map"] == "same"
    assert verdicts["rpt_source_conversion"] == "same"


def test_rows_that_differ_are_counted_and_equal_marts_are_same(tmp_path: Path, run_bench) -> None:
    path = warehouse(
        tmp_path,
        run_bench,
        queue_ref="SELECT 'L1' AS lead_key, 'overdue' AS item_type, "
        "'weekly; goal: quote' AS plan_text, 3 AS follow_up_number",
        key_map_ref="SELECT 'r1' AS source_record_id, 'r1' AS lead_key",
    )

    verdicts = run_bench.compare_marts(path)

    assert verdicts["ops_owner_queue"] == "DIFF dbt-only 1 ref-only 1"
    assert set(verdicts.values()) - {"DIFF dbt-only 1 ref-only 1"} == {"same"}
    with duckdb.connect(str(path), read_only=True) as con:  # the reference's schema is gone
        assert not con.execute(
            "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'bench_ref'"
        ).fetchone()[0]
