"""A run with nothing new costs almost nothing (issue 17): the decision, its fingerprint, and a
real second run that ends at once without importing GX, dbt or Airflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from leadflow.pipeline import run_all
from leadflow.run_inputs import covers, fingerprint, nothing_to_do
from tests.conftest import AS_OF, SEED
from tests.e2e_support import REPO
from tests.workdirs import workdir_settings
from tools.demo.data import generate

PREVIOUS = {
    "run_id": "r1",
    "as_of": AS_OF.isoformat(),
    "kind": "forward",
    "send": False,
    "transform": {"inputs": "abc"},
}


def decide(previous: dict | None = PREVIOUS, current: str | None = "abc", **kw) -> str | None:
    args = {"as_of": AS_OF, "kind": "forward", "send": False, "resend": False, "waiting": []}
    return nothing_to_do(previous, current, **{**args, **kw})


def test_nothing_to_do_only_when_the_last_finished_run_did_all_this_one_would() -> None:
    assert decide() == (
        f"nothing new since run r1 for {AS_OF} (no file in the inbox, same loads, rules and "
        "models): nothing to do"
    )
    assert decide(waiting=["web_forms.json"]) is None  # a file waits
    assert decide(current="abd") is None  # a load, a rule or a model changed
    assert decide(as_of=AS_OF + timedelta(days=1)) is None  # a new day
    assert decide(resend=True) is None
    assert decide(previous=None) is None and decide(current=None) is None
    backfill = {**PREVIOUS, "kind": "backfill"}
    assert decide(backfill, kind="forward") is None  # it neither published nor mailed
    assert decide(backfill, kind="backfill") is not None
    assert decide(backfill, kind="backfill", send=True) is None  # it did not mail
    assert covers({**backfill, "send": True}, kind="backfill", send=True)
    assert decide(
        {**PREVIOUS, "kind": None, "transform": {"inputs": "abc", "kind": "file"}}, kind="file"
    )


def manifest_warehouse(path: Path, loads: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            "CREATE OR REPLACE TABLE raw.load_manifest AS SELECT 'L' || range AS load_id, "
            f"'loaded' AS status FROM range({loads})"
        )


def test_the_fingerprint_moves_with_a_load_a_channel_a_rule_or_a_model(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    channels = tmp_path / "channels"
    shutil.copytree(REPO / "ingest" / "channels", channels)
    rules = tmp_path / "routing.yaml"
    rules.write_text("rules: []\n", encoding="utf-8")

    def current() -> str | None:
        return fingerprint(
            warehouse,
            channels_dir=channels,
            routing_rules=rules,
            dbt_project_dir=project,
            business_timezone="Asia/Shanghai",
        )

    assert current() is None  # no warehouse: nothing was ever built
    manifest_warehouse(warehouse, 3)
    first = current()
    assert first is not None and current() == first
    seen = {first}
    manifest_warehouse(warehouse, 4)
    seen.add(current())
    rules.write_text("rules: [] # edited\n", encoding="utf-8")
    seen.add(current())
    model = next((project / "models" / "marts").glob("*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    seen.add(current())
    channel = next(channels.glob("*.yaml"))
    channel.write_text(channel.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    seen.add(current())
    assert len(seen) == 5
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}", encoding="utf-8")  # build output
    assert current() in seen


NOOP_CHECK = """
import sys
from leadflow.cli import main
code = main(sys.argv[1:])
print("imported:", sorted(m for m in ("great_expectations", "dbt", "airflow") if m in sys.modules))
sys.exit(code)
"""


def test_a_second_run_with_nothing_new_ends_in_one_line_and_a_new_day_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = AS_OF
    monkeypatch.setenv("LEADFLOW_TODAY", as_of.isoformat())  # forward runs
    generate(tmp_path / "inbox", seed=SEED, leads=30, as_of=as_of, truth_path=tmp_path / "t.json")
    settings = workdir_settings(tmp_path)
    first = run_all(settings, as_of)
    assert first.transform.inputs and first.publish.published
    args = ["run", "--inbox", str(settings.inbox), "--warehouse", str(settings.warehouse)]
    args += ["--outbox", str(settings.outbox), "--as-of", as_of.isoformat()]
    env = {**os.environ, "LEADFLOW_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", NOOP_CHECK, *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines == [
        f"nothing new since run {first.run_id} for {as_of} (no file in the inbox, same "
        "loads, rules and models): nothing to do",
        "imported: []",
    ]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.run_summary").fetchone() == (1,)

    # the next morning, still nothing new: a real run (the time-driven figures move), but no
    # batch is validated, so GX builds no context
    next_day = as_of + timedelta(days=1)
    monkeypatch.setenv("LEADFLOW_TODAY", next_day.isoformat())
    second = run_all(settings, next_day)
    assert second.nothing_to_do is None
    assert second.ingest.records_added == 0 and second.validate.validation.batches == 0
    assert second.transform.inputs == first.transform.inputs
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        shown = con.execute("SELECT DISTINCT as_of FROM marts.ops_owner_queue").fetchall()
    assert shown in ([(next_day,)], [])
