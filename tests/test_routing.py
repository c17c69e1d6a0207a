"""Lead routing (issue 9, C5, C9, docs/routing.md): the rules file, the pipeline's run kinds, and
real dbt builds on hand-made leads.

The dbt scenario is one warehouse and four builds (~7 s each), snapshotted after each:
  1. forward run for D1 = 2026-03-10 (cut-off 2026-03-09 16:00 UTC): rule order, a pool's
     round-robin in acquisition order skipping an inactive member, capacity 1 per member and day
     with overflow to ops, a kept human owner, a lost lead left alone, an inactive human owner's
     lead re-routed;
  2. the same run again: nothing moves, nothing is added;
  3. forward run for D2 = 2026-03-11 after a late file (a lead acquired before every routed one,
     a human record dated before a routing, a later human record) and bob made inactive;
  4. a backfill for D1 afterwards: routes nothing and shows the routing of that morning.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadflow import dbt_build, pipeline
from leadflow.core.settings import DEFAULT_ROUTING_RULES as DEFAULT_RULES_PATH
from leadflow.core.settings import load_settings
from leadflow.routing_rules import (
    RoutingRulesError,
    load_routing_rules,
    parse_routing_rules,
    read_routing_rules,
)
from tests.dbt_fixtures import DBT_BIN, DBT_PROJECT, create_warehouse, insert_rows

D1, D2 = "2026-03-10", "2026-03-11"
CUTOFF_D1 = datetime(2026, 3, 9, 16, 0)
CUTOFF_D2 = datetime(2026, 3, 10, 16, 0)
LOAD_1 = datetime(2026, 3, 9, 1, 0)
LOAD_2 = datetime(2026, 3, 10, 20, 0)  # the late file and the directory change, before D2

RULES_YAML = """
version: 1
pools:
  east:
    capacity_per_day: 1
    members: [alice, carol, bob, frank]   # carol is inactive: skipped
  catch_all: [dave]
rules:
  - name: vip
    match: {tags: [VIP]}
    owner: erin
  - name: east_manufacturing
    match:
      city: [上海, 杭州]
      industry: 制造业
    pool: east
  - name: default
    pool: catch_all
"""


# --- the rules file ----------------------------------------------------------------------------


def test_the_shipped_rules_file_is_valid() -> None:
    rules, sha = read_routing_rules(DEFAULT_RULES_PATH)
    assert rules.rules[-1].matches == {}  # the default rule is last
    assert len(sha) == 64
    assert all(m.owner_name for members in rules.pools.values() for m in members)


def test_rules_parse_into_ordered_rules_pools_and_normalised_values() -> None:
    import yaml

    parsed = parse_routing_rules(yaml.safe_load(RULES_YAML))
    assert [(r.name, r.pool_name) for r in parsed.rules] == [
        ("vip", "rule:vip"),
        ("east_manufacturing", "east"),
        ("default", "catch_all"),
    ]
    assert parsed.rules[0].matches == {"tags": ("vip",)}
    assert parsed.rules[1].matches == {"city": ("上海", "杭州"), "industry": ("制造业",)}
    assert [(m.owner_name, m.capacity_per_day) for m in parsed.pools["east"]] == [
        ("alice", 1),
        ("carol", 1),
        ("bob", 1),
        ("frank", 1),
    ]
    assert [m.owner_name for m in parsed.pools["rule:vip"]] == ["erin"]


@pytest.mark.parametrize(
    ("rules_yaml", "message"),
    [
        (
            "rules: [{name: a, match: {town: [x]}, owner: bob}, {name: b, owner: ops}]",
            "rule 1 (a), key 'match.town': unknown field",
        ),
        ("rules: [{name: a, owner: 123}]", "rule 1 (a), key 'owner': an owner must be a name"),
        (
            "pools: {p: [alice, 2026-01-01]}\nrules: [{name: a, pool: p}]",
            "pool 'p', key 'members', member 2: an owner must be a name",
        ),
        (
            "rules: [{name: a, owner: bob}, {name: b, match: {city: x}, owner: ops}]",
            "rule 1 (a), key 'match': a rule without match is the default and must be last",
        ),
        ("rules: [{name: a, pool: nope}]", "rule 1 (a), key 'pool': no pool named 'nope'"),
        (
            "rules: [{name: a, match: {city: x}, owner: bob}, {name: a, owner: ops}]",
            "rule 2 (a), key 'name': the name is used by an earlier rule",
        ),
        (
            "rules: [{name: a, match: {city: [1]}, owner: bob}]",
            "rule 1 (a), key 'match.city': values must be non-blank strings",
        ),
        ("rules: [{name: a, owner: bob, pool: [x]}]", "rule 1 (a): name exactly one of"),
        (
            "rules: [{name: a, pool: [bob, Bob]}]",
            "rule 1 (a), key 'pool', member 2: 'Bob' is listed twice",
        ),
        (
            "pools: {p: {members: [x], capacity_per_day: 0}}\nrules: [{name: a, pool: p}]",
            "pool 'p', key 'capacity_per_day': capacity_per_day must be a whole number >= 1",
        ),
        ("rules: [{match: {city: x}, owner: bob}]", "rule 1, key 'name'"),
        ("rule: []", "unknown top-level key(s) ['rule']"),
    ],
)
def test_invalid_rules_name_the_rule_and_key(rules_yaml: str, message: str) -> None:
    import yaml

    with pytest.raises(RoutingRulesError) as raised:
        parse_routing_rules(yaml.safe_load(rules_yaml))
    assert message in str(raised.value)


def test_load_writes_and_rewrites_the_config_tables(tmp_path: Path) -> None:
    rules_path = tmp_path / "routing.yaml"
    rules_path.write_text(RULES_YAML, encoding="utf-8")
    warehouse = tmp_path / "wh.duckdb"
    summary = load_routing_rules(warehouse, rules_path)
    assert (summary.rules, summary.pools, summary.pool_members) == (3, 3, 6)
    rules_path.write_text("rules: [{name: only, owner: ops}]", encoding="utf-8")
    load_routing_rules(warehouse, rules_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT * FROM config.routing_rules").fetchall()[0][:4] == (
            1,
            "only",
            "rule:only",
            True,
        )
        assert con.execute("SELECT count(*) FROM config.routing_rule_matches").fetchone() == (0,)
        assert con.execute("SELECT * FROM config.routing_pools").fetchall() == [
            ("rule:only", 1, "ops", None)
        ]
    rules_path.write_text("rules: [{name: a, owner: [1]}]", encoding="utf-8")
    with pytest.raises(RoutingRulesError, match=r"routing.yaml: rule 1 \(a\), key 'owner'"):
        load_routing_rules(warehouse, rules_path)


# --- the pipeline: only forward runs route (C9) ------------------------------------------------


@pytest.mark.parametrize(
    ("today", "file_triggered", "routes"),
    [(D1, False, True), ("2026-03-12", False, False), (D1, True, False)],
)
def test_transform_routes_only_in_forward_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: str, file_triggered: bool, routes: bool
) -> None:
    rules_path = tmp_path / "routing.yaml"
    rules_path.write_text(RULES_YAML, encoding="utf-8")
    monkeypatch.setenv("LEADFLOW_ROUTING_RULES", str(rules_path))
    monkeypatch.setenv("LEADFLOW_TODAY", today)
    commands: list[list[str]] = []

    def fake_dbt(command: list[str], env: dict, **kwargs: Any) -> tuple[int, str]:
        commands.append(command)
        return 0, ""

    monkeypatch.setattr(dbt_build.progress, "run_reporting_dbt", fake_dbt)
    monkeypatch.setattr(dbt_build, "store_dbt_results", lambda settings, run_id, results: None)
    monkeypatch.setattr(pipeline, "mart_row_counts", lambda warehouse: {})
    monkeypatch.setattr(pipeline, "routing_assignments", lambda warehouse, as_of: {})
    # no real build, so no manifest: the release shows no marts
    monkeypatch.setattr("leadflow.marts_release.project_marts", lambda manifest: frozenset())
    settings = load_settings(warehouse=tmp_path / "wh.duckdb").with_paths(data_dir=tmp_path)
    result = pipeline.transform(
        settings, date.fromisoformat(D1), "run-1", file_triggered=file_triggered
    )
    variables = json.loads(commands[0][commands[0].index("--vars") + 1])
    assert variables["routing_enabled"] is routes
    assert result.routing.enabled is routes
    assert result.routing.rules.rules_file == str(rules_path)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:  # rules loaded either way
        assert con.execute("SELECT count(*) FROM config.routing_rules").fetchone() == (3,)


# --- dbt builds on hand-made leads --------------------------------------------------------------


def record(channel: str, export_id: str, row: int, loaded_at=LOAD_1, **fields: Any) -> dict:
    return {
        "source_record_id": f"{channel}:{export_id}",
        "record_hash": f"h-{export_id}-{loaded_at:%d%H}",
        "channel": channel,
        "id_namespace": channel,
        "export_id": export_id,
        "file_name": f"{channel}s_{loaded_at:%d}.csv",
        "file_sha256": "sha",
        "row_number": row,
        "load_id": f"load-{loaded_at:%d%H}",
        "loaded_at": loaded_at,
        **fields,
    }


def lead(
    export_id: str,
    acquired: str,
    city: str,
    industry: str,
    row: int,
    *,
    channel: str = "web_form",
    loaded_at: datetime = LOAD_1,
    **fields: Any,
) -> dict:
    """An intake record of one person (own mobile) acquired on 2026-<acquired> 10:00 business."""
    return record(
        channel,
        export_id,
        row,
        loaded_at=loaded_at,
        event_at=datetime.fromisoformat(f"2026-{acquired} 02:00"),
        source_label="官网注册",
        person_name=f"Person {export_id}",
        person_key=f"person{export_id.lower()}",
        company=f"Company {export_id}",
        company_key=f"company{export_id.lower()}",
        phone=f"+861380000{row:04d}",
        phone_valid=True,
        phone_kind="mobile",
        phone_masked=False,
        city=city,
        industry=industry,
        **fields,
    )


def owner(name: str, row: int, active: bool = True, loaded_at: datetime = LOAD_1) -> dict:
    return record(
        "owner_directory",
        name,
        row,
        loaded_at=loaded_at,
        owner_name=name,
        email=f"{name}@leadflow.test",
        email_valid=True,
        language="zh",
        active=active,
    )


OWNERS = [
    owner(name, i + 1, active)
    for i, (name, active) in enumerate(
        [
            ("alice", True),
            ("bob", True),
            ("carol", False),
            ("dave", True),
            ("erin", True),
            ("frank", True),
            ("ops", True),
        ]
    )
]

INTAKE_D1 = [
    lead("E1", "03-01", "上海", "制造业", 1),
    lead("E2", "03-02", "上海", "制造业", 2),
    lead("E3", "03-03", "杭州", "制造业", 3),
    lead("E4", "03-04", "上海", "制造业", 4),
    lead("V", "03-01", "上海", "制造业", 5, tags="key account, vip"),  # vip comes first
    lead("N", "03-02", "北京", "制造业", 6),  # no east city: the default pool
    lead("H1", "03-01", "上海", "制造业", 7, channel="badge_scan", owner_name="Bob"),  # human owner
    lead("L", "03-01", "上海", "制造业", 8, status="lost"),  # lost: nobody needs to call
    # booth rep carol is inactive: re-routed
    lead("G", "03-01", "北京", "软件", 9, channel="badge_scan", owner_name="carol"),
]

LATE_FILE_D2 = [
    # acquired 2026-02-20, before every lead routed on D1
    lead("E0", "02-20", "上海", "制造业", 10, loaded_at=LOAD_2),
    # E3's badge scan on 03-05 with booth rep alice: dated before E3's routing, so it stays
    record(
        "badge_scan",
        "E3-scan",
        11,
        loaded_at=LOAD_2,
        event_at=datetime(2026, 3, 5, 2, 0),
        person_name="Person E3",
        phone="+8613800000003",
        phone_valid=True,
        phone_kind="mobile",
        phone_masked=False,
        owner_name="alice",
    ),
    # E1 handed to dave on 03-10 20:00 business time, after its routing: a reassignment
    record(
        "referral_sheet",
        "E1-handover",
        12,
        loaded_at=LOAD_2,
        event_at=datetime(2026, 3, 10, 12, 0),
        person_name="Person E1",
        phone="+8613800000001",
        phone_valid=True,
        phone_kind="mobile",
        phone_masked=False,
        owner_name="dave",
    ),
]


def run_dbt(warehouse: Path, work: Path, as_of: str, routing_enabled: bool) -> None:
    env = dict(os.environ)
    env.update(
        LEADFLOW_WAREHOUSE=str(warehouse),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
    )
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    variables = {"as_of": as_of, "business_timezone": "Asia/Shanghai"}
    variables["routing_enabled"] = routing_enabled
    done = subprocess.run(
        # as the pipeline builds: the unit tests, rows aside, run in test_real_exports (per zone)
        [str(DBT_BIN), "build", "--exclude-resource-type", "unit_test"]
        + ["--project-dir", str(DBT_PROJECT)]
        + [
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target",
            "duckdb",
            "--vars",
            json.dumps(variables),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(work),
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def snapshot(warehouse: Path) -> dict[str, Any]:
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def rows(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        return {
            "log": rows(
                "SELECT lead_key, owner_name, rule_name, assigned_at, previous_owner, reason, "
                "unassigned_reason, assignment_number FROM intermediate.int_lead_routing "
                "ORDER BY assigned_at, lead_key"
            ),
            "owners": {
                key.split(":")[1]: rest
                for key, *rest in rows(
                    "SELECT lead_key, owner_name, owner_source, owner_status, routing_rule, "
                    "routing_unassigned_reason FROM marts.dim_leads"
                )
            },
            "grade_items": {
                key.split(":")[1]: (owner_name, is_new, due_at, unassigned)
                for key, owner_name, is_new, due_at, unassigned in rows(
                    "SELECT lead_key, owner_name, is_new, grade_due_at, routing_unassigned_reason "
                    "FROM marts.ops_owner_queue WHERE item_type = 'grade_lead'"
                )
            },
            "history": rows(
                "SELECT lead_key, assignment_number, assigned_at, owner_name, previous_owner, "
                "assignment_source, routing_reason, replaced_at, is_current "
                "FROM marts.fct_lead_owner_assignments ORDER BY lead_key, assignment_number"
            ),
        }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("routing")
    warehouse = work / "wh.duckdb"
    rules_path = work / "routing.yaml"
    rules_path.write_text(RULES_YAML, encoding="utf-8")
    create_warehouse(warehouse)
    insert_rows(warehouse, "raw.owner_records", OWNERS)
    insert_rows(warehouse, "raw.intake_records", INTAKE_D1)
    load_routing_rules(warehouse, rules_path)
    snaps: dict[str, dict[str, Any]] = {}
    run_dbt(warehouse, work, D1, routing_enabled=True)
    snaps["d1"] = snapshot(warehouse)
    run_dbt(warehouse, work, D1, routing_enabled=True)
    snaps["d1_again"] = snapshot(warehouse)
    insert_rows(warehouse, "raw.intake_records", LATE_FILE_D2)
    insert_rows(warehouse, "raw.owner_records", [owner("bob", 2, False, loaded_at=LOAD_2)])
    run_dbt(warehouse, work, D2, routing_enabled=True)
    snaps["d2"] = snapshot(warehouse)
    run_dbt(warehouse, work, D1, routing_enabled=False)
    snaps["d1_backfill"] = snapshot(warehouse)
    return snaps


def routed(snap: dict[str, Any], at: datetime) -> dict[str, tuple]:
    """lead -> (owner, rule, previous owner, reason, unassigned reason) routed at a cut-off."""
    return {
        key.split(":")[1]: (owner_name, rule, previous, reason, unassigned)
        for key, owner_name, rule, assigned_at, previous, reason, unassigned, _ in snap["log"]
        if assigned_at == at
    }


def test_first_forward_run_routes_by_rule_order_round_robin_and_capacity(runs) -> None:
    assert routed(runs["d1"], CUTOFF_D1) == {
        # east: round-robin in acquisition order, carol (inactive) skipped; capacity 1 per
        # member and day, so the fourth lead finds the pool full and goes to ops
        "E1": ("alice", "east_manufacturing", None, "new_lead", None),
        "E2": ("bob", "east_manufacturing", None, "new_lead", None),
        "E3": ("frank", "east_manufacturing", None, "new_lead", None),
        "E4": ("ops", "east_manufacturing", None, "new_lead", "pool_full"),
        # V matches vip and east: the first rule wins (its own pool: no capacity)
        "V": ("erin", "vip", None, "new_lead", None),
        "N": ("dave", "default", None, "new_lead", None),
        # G's booth rep carol is inactive: re-routed, recorded with the previous owner
        "G": ("dave", "default", "carol", "owner_inactive", None),
    }
    owners = runs["d1"]["owners"]
    assert owners["H1"] == ["bob", "human", "assigned", None, None]  # a human owner is kept
    assert owners["L"] == ["ops", None, "no_owner", None, None]  # lost leads are not routed
    assert owners["E2"] == ["bob", "routing", "assigned", "east_manufacturing", None]
    assert owners["E4"] == ["ops", "routing", "assigned", "east_manufacturing", "pool_full"]


def test_routed_leads_are_new_grading_items_with_the_deadline(runs) -> None:
    items = runs["d1"]["grade_items"]
    # acquired 2026-03-02 10:00 business time (02:00 UTC): graded by 03-03 10:00
    assert items["E2"] == ("bob", True, datetime(2026, 3, 3, 2, 0), None)
    assert items["E4"] == ("ops", True, datetime(2026, 3, 5, 2, 0), "pool_full")
    assert items["H1"][:2] == ("bob", False)  # not routed, acquired before the previous run


def test_a_second_run_for_the_same_date_changes_nothing(runs) -> None:
    assert runs["d1_again"]["log"] == runs["d1"]["log"]
    assert runs["d1_again"]["owners"] == runs["d1"]["owners"]


def test_late_file_and_inactive_owner_on_the_next_day(runs) -> None:
    d2 = runs["d2"]
    # the D1 rows are kept exactly as stored
    assert d2["log"][: len(runs["d1"]["log"])] == runs["d1"]["log"]
    assert routed(d2, CUTOFF_D2) == {
        # east continues after frank (3 handed out, 2 active members left: alice, frank);
        # capacity is per business day, so everyone has 1 again. Acquisition order: E0 (02-20),
        # H1 (03-01), E2 (03-02)
        "E0": ("frank", "east_manufacturing", None, "new_lead", None),
        "H1": ("alice", "east_manufacturing", "bob", "owner_inactive", None),
        "E2": ("ops", "east_manufacturing", "bob", "owner_inactive", "pool_full"),
    }
    owners = d2["owners"]
    assert owners["E1"][:2] == ["dave", "human"]  # a later human record reassigns
    assert owners["E3"][:2] == ["frank", "routing"]  # an earlier-dated late record does not
    assert owners["E4"][0] == "ops"  # stored assignments are never recomputed
    assert d2["grade_items"]["E0"][:2] == ("frank", True)
    assert d2["grade_items"]["E3"][:2] == ("frank", False)  # routed before the previous run


def test_owner_history_answers_who_owned_the_lead_when(runs) -> None:
    history = [r for r in runs["d2"]["history"] if r[0] == "web_form:E2"]
    assert history == [
        ("web_form:E2", 1, CUTOFF_D1, "bob", None, "routing", "new_lead", CUTOFF_D2, False),
        ("web_form:E2", 2, CUTOFF_D2, "ops", "bob", "routing", "owner_inactive", None, True),
    ]
    e1 = [(r[3], r[5], r[8]) for r in runs["d2"]["history"] if r[0] == "web_form:E1"]
    assert e1 == [("alice", "routing", False), ("dave", "human", True)]


def test_backfill_routes_nothing_and_shows_that_mornings_routing(runs) -> None:
    backfill = runs["d1_backfill"]
    assert backfill["log"] == runs["d2"]["log"]  # nothing appended
    owners = backfill["owners"]
    assert owners["E1"][:2] == ["alice", "routing"]  # the 03-10 handover is after D1's cut-off
    assert owners["E0"][:3] == ["ops", None, "no_owner"]  # routed only on D2
    assert owners["E3"][:2] == ["frank", "routing"]
    # the directory has no history: bob is inactive today, so his D1 leads show ops
    assert owners["E2"][:3] == ["ops", "routing", "inactive_owner"]
