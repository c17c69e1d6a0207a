"""The walking skeleton, tried as a user would: the real DAG on demo data, checked against the
generator's ground truth, and `leadflow run` on a copy of the same inbox giving the same marts."""

from __future__ import annotations

from collections import Counter
from email import policy
from email.parser import BytesParser

import duckdb
import pytest

from leadflow.core.settings import load_settings
from leadflow.pipeline import run_all
from tests.conftest import AS_OF, DemoRun
from tests.warehouse_compare import (  # differ between two runs by design (C9)
    AUDIT_SUFFIXES,
    rows_differing,
)


def query(run: DemoRun, sql: str) -> list[tuple]:
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_demo_file_is_loaded_with_the_rows_the_generator_wrote(demo_run: DemoRun) -> None:
    manifest = {
        r[0]: r[1:]
        for r in query(
            demo_run,
            "SELECT file_name, status, rows_in_file, records_added, rows_already_loaded, "
            "rows_quarantined FROM raw.load_manifest",
        )
    }
    assert set(manifest) == set(demo_run.truth["files"])
    for name, expected in demo_run.truth["files"].items():
        status, rows, added, already, quarantined = manifest[name]
        assert status == "loaded", name
        assert rows == expected["rows"], name
        assert quarantined == len(expected["quarantined"]), name
        assert added == expected["expected_loaded"], name
        assert rows == added + already + quarantined, name  # conservation (C1)


def test_quarantined_rows_name_file_row_and_reason(demo_run: DemoRun) -> None:
    got = {
        (f, r)
        for f, r, reason in query(
            demo_run, "SELECT file_name, row_number, reason FROM raw.quarantine"
        )
        if reason
    }
    planted = {
        (f, q["row"]) for f, spec in demo_run.truth["files"].items() for q in spec["quarantined"]
    }
    assert got == planted and planted


def test_every_planted_bad_value_is_flagged_on_its_row(demo_run: DemoRun) -> None:
    flags = set(query(demo_run, "SELECT file_name, row_number, check_name FROM dq.flags"))
    planted = [
        p
        for p in demo_run.truth["planted"]
        if p["check"] not in ("undecodable", "orphan_reference")
    ]
    assert planted
    missing = [p for p in planted if (p["file"], p["row"], p["check"]) not in flags]
    assert not missing


def test_each_owner_with_items_gets_exactly_one_email_with_their_items(demo_run: DemoRun) -> None:
    queue = Counter(r[0] for r in query(demo_run, "SELECT owner_email FROM marts.ops_owner_queue"))
    messages = [
        BytesParser(policy=policy.default).parsebytes(p.read_bytes())
        for p in sorted(demo_run.outbox.rglob("*.eml"))
    ]
    recipients = Counter(m["To"].addresses[0].addr_spec for m in messages)
    assert queue and set(recipients) == set(queue)
    assert all(n == 1 for n in recipients.values())


def test_core_marts_are_built(demo_run: DemoRun) -> None:
    tables = {
        r[0]
        for r in query(
            demo_run, "SELECT table_name FROM information_schema.tables WHERE table_schema='marts'"
        )
    }
    assert {"dim_leads", "ops_owner_queue", "dim_owners"} <= tables
    leads = query(demo_run, "SELECT count(*) FROM marts.dim_leads")[0][0]
    persons = demo_run.truth["persons"]
    assert 0 < leads <= persons


def test_leadflow_run_on_a_copy_of_the_inbox_gives_identical_marts(
    demo_run: DemoRun, tmp_path
) -> None:
    settings = load_settings(
        inbox=demo_run.inbox_copy,
        warehouse=tmp_path / "copy.duckdb",
        outbox=tmp_path / "outbox",
    ).with_paths(
        data_dir=tmp_path, reports_dir=tmp_path / "reports", publish_dir=tmp_path / "publish"
    )
    run_all(settings, AS_OF, send=True)
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as a:
        marts = [
            r[0]
            for r in a.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='marts' "
                "ORDER BY 1"
            ).fetchall()
        ]
        assert marts
        a.execute(f"ATTACH '{settings.warehouse}' AS b (READ_ONLY)")
        for mart in marts:
            cols = [
                c
                for (c,) in a.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema='marts' "
                    f"AND table_name='{mart}' AND table_catalog = current_database() "
                    "ORDER BY ordinal_position"
                ).fetchall()
                if not c.endswith(AUDIT_SUFFIXES)
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            assert rows_differing(a, select, f'marts."{mart}"', f'b.marts."{mart}"') == 0, mart


HEAVY = ("great_expectations", "dbt", "pandas", "duckdb")


@pytest.fixture(scope="module")
def parsed_dag() -> tuple[int, str, dict[str, bool]]:
    """One fresh interpreter parses the DAG folder, as the scheduler does (Airflow's import
    alone costs seconds: once for every module asked about); returns its exit code, its stderr
    and which heavy modules it had imported."""
    import json
    import subprocess
    import sys

    from tests.e2e_support import REPO

    code = (
        "import json, sys; from airflow.dag_processing.dagbag import DagBag; "
        f"bag = DagBag(dag_folder=r'{REPO / 'dags'}'); "
        "assert not bag.import_errors, bag.import_errors; "
        "assert 'lead_pipeline' in bag.dags, list(bag.dags); "
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    imported = json.loads(done.stdout.splitlines()[-1]) if done.returncode == 0 else {}
    return done.returncode, done.stderr, imported


@pytest.mark.parametrize("module", HEAVY)
def test_dag_file_parses_without_heavy_imports(
    module: str, parsed_dag: tuple[int, str, dict[str, bool]]
) -> None:
    returncode, stderr, imported = parsed_dag
    assert returncode == 0, stderr[-3000:]
    assert imported[module] is False, f"{module} imported by parsing the DAG"


def test_the_dag_writes_the_same_load_reports_and_quality_page_as_the_cli(
    demo_run: DemoRun,
) -> None:
    """The report steps live in the shared pipeline functions (C9): the DAG's run has them."""
    reports = demo_run.data_dir / "reports"
    for name in demo_run.truth["files"]:
        assert (reports / "loads" / f"{name}.html").exists(), name
    stages = query(demo_run, "SELECT DISTINCT stage FROM ops.load_reports")
    assert stages == [("built",)]  # rewritten after the build, with each row's lead
    (run_id,) = query(demo_run, "SELECT run_id FROM ops.run_summary")[0]
    from leadflow.quality_pages import page_name

    assert (reports / "quality" / f"{page_name(run_id)}.html").exists()
