"""Validation resumes from the warehouse (issue 19): every load not validated yet, whoever loaded
it, once; a warehouse validated before `dq.validated_loads` existed; no GX when nothing is new.
Uses the crafted warehouse of test_validation (one load per channel)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.e2e_support import REPO
from tests.test_validation import (
    LOADS,
    ROWS,
    Run,
    build_warehouse,
    query,
    validate,
    write_channels,
)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The crafted warehouse validated without naming loads, as `pipeline.validate` does."""
    root = tmp_path_factory.mktemp("resume")
    build_warehouse(root / "wh.duckdb")
    write_channels(root / "channels")
    run = Run(root / "wh.duckdb", root / "reports", root / "channels", {})
    run.summary = validate(run, None, "run-1")
    return run


@pytest.fixture
def crafted(tmp_path: Path) -> Run:
    build_warehouse(tmp_path / "wh.duckdb")
    write_channels(tmp_path / "channels")
    return Run(tmp_path / "wh.duckdb", tmp_path / "reports", tmp_path / "channels", {})


def flags(run: Run) -> list[tuple]:
    rows = query(
        run,
        "SELECT load_id, row_number, column_name, check_name FROM dq.flags "
        "WHERE check_name <> 'channel_stale'",
    )
    return sorted(rows)


# Every planted problem of every load; W0's grade "Q" is listed apart in ROWS (test_validation
# validates that older load on its own).
PLANTED = sorted(
    [
        (load_id, row_number, flag[0], flag[1])
        for load_id, row_number, _, planted in ROWS
        for flag in planted
    ]
    + [("W0", 1, "grade", "invalid_grade")]
)


def test_every_load_not_yet_validated_is_validated_once(resumed: Run) -> None:
    assert resumed.summary.loads_validated == len(LOADS)  # any run's loads, not one run's
    validated = query(resumed, "SELECT load_id, run_id FROM dq.validated_loads ORDER BY 1")
    assert validated == sorted((load, "run-1") for load in LOADS)
    assert flags(resumed) == PLANTED  # every planted problem of every load, once

    again = validate(resumed, None, "run-2")
    assert (again.loads_validated, again.batches) == (0, 0)
    assert flags(resumed) == PLANTED  # nothing doubled, nothing lost
    assert Path(again.data_docs).exists()  # the last validation's docs


def test_a_load_validated_but_not_recorded_is_validated_again_without_doubling(
    resumed: Run,
) -> None:
    """A crash between the flags' commit and the record of the loads."""
    with duckdb.connect(str(resumed.warehouse)) as con:
        con.execute("DELETE FROM dq.validated_loads WHERE load_id IN ('W1', 'F1')")
    again = validate(resumed, None, "run-3")
    assert again.loads_validated == 2 and again.batches == 2
    assert flags(resumed) == PLANTED


def test_an_older_warehouse_counts_finished_runs_and_flagged_loads_as_validated(
    crafted: Run,
) -> None:
    """Before dq.validated_loads: loads of finished runs (ops.run_summary) and loads with flags
    were validated; the loads of a run that never finished are validated now."""
    with duckdb.connect(str(crafted.warehouse)) as con:
        con.execute("UPDATE raw.load_manifest SET run_id = 'killed' WHERE load_id IN ('W1', 'B1')")
        con.execute("UPDATE raw.load_manifest SET run_id = 'no-summary' WHERE load_id = 'F1'")
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE TABLE ops.run_summary AS SELECT 'r0' AS run_id")
        con.execute("CREATE SCHEMA dq")
        con.execute("CREATE TABLE dq.flags (load_id VARCHAR, check_name VARCHAR)")
        con.execute("INSERT INTO dq.flags VALUES ('F1', 'missing_required')")
    from expectations.validate import ensure_validated_loads, pending_loads

    with duckdb.connect(str(crafted.warehouse)) as con:
        ensure_validated_loads(con)
        assert pending_loads(con) == ["B1", "W1"]  # in load order: same time, then id


def test_nothing_new_to_validate_imports_no_gx(resumed: Run) -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from tests.test_validation import Run, validate; "
        f"run = Run(Path(r'{resumed.warehouse}'), Path(r'{resumed.reports}'), "
        f"Path(r'{resumed.channels}'), None); "
        "summary = validate(run, None, 'run-2'); "
        "print(summary.loads_validated, 'great_expectations' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["0", "False"]
