"""A run with nothing new but a new as_of rebuilds only the time-driven models (issue 17).

Two warehouses take the same demo history; then, with nothing new, one builds as the pipeline
chooses (time-only when the guard of leadflow/time_only.py holds) and the other rebuilds
everything, for the next day, a jump across a week and a month boundary, a backfill back to an
earlier day (routing off), and a backfill whose interval holds loaded events (the guard must
refuse). After each, every staging and intermediate table and every mart as readers see it is
the same, EXCEPT ALL both ways. Then a failing time-only build leaves the marts where they were.
The selection and the guard's list of event times are held to the dbt project itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from leadflow import dbt_build, pipeline, time_only
from leadflow.console import _transform_line
from leadflow.core.errors import BuildFailed
from leadflow.core.settings import Settings, child_environment
from leadflow.marts_release import shown_slots
from leadflow.results import BuildResult
from tests.conftest import AS_OF, SEED
from tests.warehouse_compare import model_differences
from tests.workdirs import workdir_settings
from tools.demo.data import generate


@dataclass(frozen=True)
class Day:
    as_of: date
    today: date  # as_of = today: a forward run, which routes (C9)
    build: str  # what the pipeline must choose for the time twin


NEXT_DAY = date(2026, 11, 21)  # AS_OF is Friday 2026-11-20; its history ends before its cut-off
STALE = date.min  # stands for 10 days after the files were loaded (wall-clock load times)
DAYS = [
    Day(NEXT_DAY, NEXT_DAY, "time_only"),
    Day(date(2026, 12, 1), date(2026, 12, 1), "time_only"),  # the week of 11-23 and November end
    # the follow-up channel (freshness_days 3) is stale: validation writes its freshness flag
    # for this as_of with nothing loaded, and the data-quality marts must show it
    Day(STALE, STALE, "time_only"),
    Day(date(2026, 11, 25), date(2026, 12, 1), "time_only"),  # back again, a backfill: no routing
    Day(date(2026, 11, 13), date(2026, 12, 1), "full"),  # the week before holds loaded events
]


def build(
    settings: Settings, day: Day, monkeypatch: pytest.MonkeyPatch, *, full: bool
) -> BuildResult:
    """A run's ingest, validation and build (nothing to publish or mail here)."""
    monkeypatch.setenv("LEADFLOW_TODAY", day.today.isoformat())
    run_id = pipeline.new_run_id()
    pipeline.ingest(settings, run_id)
    pipeline.validate(settings, day.as_of, run_id)
    return pipeline.transform(settings, day.as_of, run_id, full_refresh=full)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def slots(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return shown_slots(con)


def last_complete_periods(as_of: date) -> tuple[date, date]:
    """Period 1 of as_of (C8): the ISO week and the month that ended before it, by hand."""
    week = as_of - timedelta(days=as_of.weekday()) - timedelta(days=7)
    month = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
    return week, month


@dataclass
class Pair:
    time: Settings
    full: Settings
    days: list[Day]  # DAYS with STALE resolved
    built: list[BuildResult]  # the time twin's transform summaries, one per day
    slots: list[dict[str, str]]  # the time twin's mart -> shown slot before each day
    diffs: list[dict[str, str]]
    periods: list[list[tuple]]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    root = tmp_path_factory.mktemp("time_only")
    time_twin = workdir_settings(root / "time")
    generate(time_twin.inbox, seed=SEED, leads=30, as_of=AS_OF, truth_path=root / "truth.json")
    with pytest.MonkeyPatch.context() as monkeypatch:
        first = build(time_twin, Day(AS_OF, AS_OF, "full"), monkeypatch, full=False)
        assert first.build == "full" and first.failed == 0
        shutil.copytree(root / "time", root / "full")  # the same history, built once
        full_twin = workdir_settings(root / "full")
        loaded = query(time_twin.warehouse, "SELECT max(loaded_at) FROM raw.load_manifest")[0][0]
        stale = loaded.date() + timedelta(days=10)
        assert stale > DAYS[1].as_of  # a forward run after the one of 12-01
        days = [Day(stale, stale, d.build) if d.as_of == STALE else d for d in DAYS]
        result = Pair(time_twin, full_twin, days, [], [], [], [])
        for day in days:
            result.slots.append(slots(time_twin.warehouse))
            result.built.append(build(time_twin, day, monkeypatch, full=False))
            assert build(full_twin, day, monkeypatch, full=True).build == "full"
            result.diffs.append(
                model_differences(time_twin.warehouse, full_twin.warehouse, at_least=60)
            )
            result.periods.append(
                query(
                    time_twin.warehouse,
                    "SELECT DISTINCT period_kind, period_start FROM marts.rpt_period_discipline "
                    "WHERE period_index = 1 ORDER BY period_kind",
                )
            )
    return result


@pytest.mark.parametrize("number", range(len(DAYS)))
def test_a_time_only_build_equals_a_full_build(pair: Pair, number: int) -> None:
    day, built = pair.days[number], pair.built[number]
    assert built.failed == 0
    assert built.build == day.build, built.build_reason
    assert pair.diffs[number] == {}, f"as_of {day.as_of}"
    # the period marts really moved: period 1 is the week and month before as_of, by hand
    week, month = last_complete_periods(day.as_of)
    assert pair.periods[number] == [("month", month), ("week", week)]


def test_the_freshness_flags_of_a_new_as_of_reach_the_marts(pair: Pair) -> None:
    stale = pair.days[2].as_of
    flags = query(pair.time.warehouse, "SELECT channel FROM dq.flags WHERE check_name = "
                  f"'channel_stale' AND as_of = DATE '{stale}'")  # fmt: skip
    assert ("follow_up",) in flags  # written with nothing loaded: the case is exercised
    assert pair.built[2].build == "time_only" and pair.diffs[2] == {}


def test_the_time_only_build_rebuilds_the_time_driven_marts_only(pair: Pair) -> None:
    first = pair.built[0]
    assert first.nodes < 150  # a full build has ~310 nodes (models, seeds, data tests)
    before, after = pair.slots[0], pair.slots[1]
    rebuilt = {mart for mart in after if after[mart] != before[mart]}
    assert {"ops_owner_queue", "dim_leads", "fct_grading_sla", "rpt_period_discipline"} <= rebuilt
    # the marts that do not depend on as_of stay where their views showed them
    assert {"fct_follow_ups", "fct_lead_timeline", "dim_owners"}.isdisjoint(rebuilt)
    line = _transform_line(first)
    assert line.startswith("dbt build of the time-driven models only, ")
    assert f"no event since the build for {AS_OF}" in line
    assert _transform_line(pair.built[4]).startswith("dbt build of ")
    assert "time-driven" not in _transform_line(pair.built[4])
    assert "events between the cut-offs of 2026-11-25 and 2026-11-13" in pair.built[4].build_reason


def test_a_forward_run_after_a_backfill_builds_everything(pair: Pair) -> None:
    """The last build did not route: this one would route every lead it left (C5)."""
    s = pair.time
    decided = time_only.plan(
        s.warehouse,
        s.data_dir / "dbt" / "target" / "manifest.json",
        as_of=date(2026, 11, 13),
        tz=s.tz,
        inputs=pipeline.build_inputs(s),
        routing_enabled=True,
    )
    assert decided == "this run routes and the last build did not"


def test_a_failed_time_only_build_leaves_the_marts_on_the_last_good_build(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = pair.time
    shown = slots(s.warehouse)
    queue = query(s.warehouse, "SELECT count(*), max(as_of) FROM marts.ops_owner_queue")
    with duckdb.connect(str(s.warehouse)) as con:  # a table the selected models read, gone
        con.execute("ALTER TABLE intermediate.int_lead_profile RENAME TO int_lead_profile_gone")
    try:
        with pytest.raises(BuildFailed):
            build(s, pair.days[4], monkeypatch, full=False)  # its as_of again: no interval
    finally:
        with duckdb.connect(str(s.warehouse)) as con:
            con.execute("DROP TABLE IF EXISTS intermediate.int_lead_profile")
            con.execute("ALTER TABLE intermediate.int_lead_profile_gone RENAME TO int_lead_profile")
    # it was a time-only build, and it is not marked passed
    selections = query(s.warehouse, "SELECT selection, passed FROM ops.dbt_build_log "
                       "ORDER BY started_at DESC LIMIT 1")  # fmt: skip
    assert selections == [("time_only", False)]
    assert slots(s.warehouse) == shown
    assert query(s.warehouse, "SELECT count(*), max(as_of) FROM marts.ops_owner_queue") == queue
    decided = time_only.plan(
        s.warehouse,
        s.data_dir / "dbt" / "target" / "manifest.json",
        as_of=date(2026, 11, 15),
        tz=s.tz,
        inputs=pipeline.build_inputs(s),
        routing_enabled=False,
    )
    assert decided == "the last build did not pass"


# ----------------------------------------------------------------- the selection, held to dbt

AS_OF_MACROS = {"macro.leadflow.as_of_date", "macro.leadflow.cutoff_utc"}
AS_OF_MACROS |= {"macro.leadflow.as_of_value"}
# the visibility macros: their cut-off comparisons are what the guard vouches for
VISIBILITY_MACROS = {"macro.leadflow.visible_at_cutoff", "macro.leadflow.visible_activities"}
VISIBILITY_MACROS |= {"macro.leadflow.routing_log_by_lead", "macro.leadflow.visibility_marks"}


def manifest(pair: Pair) -> dict:
    path = pair.time.data_dir / "dbt" / "target" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def uses_as_of(node: dict, macros: dict) -> bool:
    """Whether a model computes with as_of or the cut-off other than through visibility."""
    if re.search(r"var\(\s*['\"]as_of['\"]", node["raw_code"]):
        return True
    seen: set[str] = set()
    todo = list(node["depends_on"]["macros"])
    while todo:
        uid = todo.pop()
        if uid in seen or uid in VISIBILITY_MACROS:
            continue
        seen.add(uid)
        if uid in AS_OF_MACROS:
            return True
        todo.extend((macros.get(uid) or {}).get("depends_on", {}).get("macros", []))
    return False


def test_every_model_that_computes_with_as_of_is_tagged(pair: Pair) -> None:
    m = manifest(pair)
    models = [n for n in m["nodes"].values() if n["resource_type"] == "model"]
    untagged = sorted(
        n["name"]
        for n in models
        if uses_as_of(n, m["macros"])
        and not {time_only.TIME_DRIVEN, time_only.ROUTING} & set(n["config"]["tags"])
    )
    assert untagged == []
    tagged = {n["name"] for n in models if time_only.TIME_DRIVEN in n["config"]["tags"]}
    assert {"int_lead_cadence", "ops_owner_queue", "int_report_periods"} <= tagged
    # the check can fail: the visibility-only models do not count as time-driven
    by_name = {n["name"]: n for n in models}
    assert not uses_as_of(by_name["int_lead_intake_records"], m["macros"])
    assert uses_as_of(by_name["fct_grading_sla"], m["macros"])


# (model, the expression it compares with the cut-off) -> the staged columns behind it
VISIBILITY_CALLS = {
    ("int_lead_intake_records", "intake.event_at"): [("stg_intake_records", "event_at")],
    ("int_lead_status_events", "observed_at"): [
        ("stg_intake_records", "status_at"),
        ("stg_intake_records", "closed_at"),
    ],
    ("int_lead_grade_events", "coalesce(graded_at, event_at)"): [
        ("stg_intake_records", "graded_at"),
        ("stg_follow_ups", "graded_at"),
        ("stg_follow_ups", "contacted_at"),
        ("stg_status_changes", "graded_at"),
        ("stg_status_changes", "changed_at"),
    ],
    ("int_follow_ups", "contacted_at"): [("stg_follow_ups", "contacted_at")],
    ("int_status_changes", "changed_at"): [("stg_status_changes", "changed_at")],
    ("int_care_actions", "acted_at"): [("stg_care_actions", "acted_at")],
}


def test_the_guard_reads_every_time_the_models_compare_with_the_cut_off(pair: Pair) -> None:
    m = manifest(pair)
    found = set()
    for node in m["nodes"].values():
        if node["resource_type"] != "model":
            continue
        code = node["raw_code"]
        for expr in re.findall(r"visible_at_cutoff\(\s*'([^']*)'", code):
            found.add((node["name"], expr))
        for _, at in re.findall(r"visible_activities\(\s*'([^']*)',\s*'[^']*',\s*'([^']*)'", code):
            found.add((node["name"], at))
        if "routing_log_by_lead(" in code:
            found.add((node["name"], "routing log"))
    routing = {(n, "routing log") for n in ("int_lead_owner", "int_lead_routing")}
    # the owner history, and the routing fingerprint that says whose history to recompute
    routing |= {
        (n, "routing log") for n in ("int_lead_owner_assignments", "int_touched_routing_leads")
    }
    assert found == set(VISIBILITY_CALLS) | routing
    guarded = {(table.split(".")[1], column) for table, column in time_only.VISIBILITY_TIMES}
    assert {c for columns in VISIBILITY_CALLS.values() for c in columns} == guarded
    # the lead fingerprints (which leads an incremental build recomputes) mark the same times
    touched = next(n for n in m["nodes"].values() if n["name"] == "int_touched_leads")
    fingerprinted = {
        (table, column)
        for table, columns in re.findall(r"'(stg_[a-z_]+)': \[([^\]]*)\]", touched["raw_code"])
        for column in re.findall(r"'([a-z_]+)'", columns)
    }
    assert fingerprinted == guarded
    assert time_only.ROUTING_LOG == ("intermediate.int_lead_routing", "assigned_at")


def test_the_selection_is_what_dbt_selects(pair: Pair) -> None:
    s = pair.time
    models, marts = time_only.time_driven_selection(manifest(pair))
    listed = subprocess.run(
        [
            dbt_build.dbt_executable(),
            "ls",
            "--resource-type",
            "model",
            "--output",
            "name",
            "--select",
            f"tag:{time_only.TIME_DRIVEN}+",
            f"tag:{time_only.ROUTING}",
            "--project-dir",
            str(s.dbt_project_dir),
            "--profiles-dir",
            str(s.dbt_project_dir),
            "--target-path",
            str(s.data_dir / "dbt" / "ls_target"),
            "--log-path",
            str(s.data_dir / "dbt" / "logs"),
            "--quiet",
            "--vars",
            json.dumps({"as_of": DAYS[0].as_of.isoformat()}),
        ],  # fmt: skip
        env=child_environment(LEADFLOW_WAREHOUSE=str(s.warehouse)),
        capture_output=True,
        text=True,
        check=True,
    )
    assert sorted(listed.stdout.split()) == list(models)
    assert "dim_leads" in marts and "fct_follow_ups" not in marts
