"""Real dbt builds on hand-made raw records with known answers (C3, C5, C7, C8).

One `dbt build` per scenario (each costs ~6 s): the main scenario, the empty warehouse, and a second
run proving lead keys never change when a later file brings an earlier record (C3).
as_of 2026-03-10 in Asia/Shanghai: the cut-off is 2026-03-09 16:00 UTC (naive UTC like raw).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.normalize import person_name_is_full_expr
from tests.dbt_fixtures import create_warehouse, insert_rows, run_dbt

AS_OF = "2026-03-10"
LOAD_1 = datetime(2026, 3, 9, 1, 0)
LOAD_2 = datetime(2026, 3, 9, 2, 0)


def person(name: str | None) -> dict:
    """The person columns as ingest derives them (C2, C3), with ingest's own expression."""
    with duckdb.connect() as con:
        is_full = con.execute(
            f"SELECT {person_name_is_full_expr('t.x')} FROM (SELECT ?::VARCHAR AS x) t", [name]
        ).fetchall()[0][0]
    return {
        "person_name": name,
        "person_key": name.lower().replace(" ", "") if name else None,
        "person_name_is_full": is_full,
    }


def mobile(e164: str, kind: str = "mobile") -> dict:
    return {"phone": e164, "phone_valid": True, "phone_kind": kind, "phone_masked": False}


def email(address: str, free: bool = False) -> dict:
    return {
        "email": address,
        "email_valid": True,
        "email_domain": address.split("@")[1],
        "email_is_free": free,
    }


def company(name: str | None) -> dict:
    return {"company": name, "company_key": name.lower() if name else None}


def record(channel: str, export_id: str, row: int, loaded_at=LOAD_1, **fields) -> dict:
    namespace = {"follow_up": "crm", "status_change": "crm", "care_action": "crm"}.get(
        channel, channel
    )
    ext = {"web_form": "json", "badge_scan": "csv", "referral_sheet": "xlsx"}.get(channel, "csv")
    return {
        "source_record_id": f"{channel}:{export_id}",
        "record_hash": f"h-{export_id}-{loaded_at:%H}",
        "channel": channel,
        "id_namespace": namespace,
        "export_id": export_id,
        "file_name": f"{channel}s_1.{ext}",
        "file_sha256": "sha",
        "row_number": row,
        "load_id": f"load-{loaded_at:%H}",
        "loaded_at": loaded_at,
        **fields,
    }


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


OWNERS = [
    record(
        "owner_directory",
        name,
        i + 1,
        owner_name=name,
        **email(f"{name}@leadflow.test"),
        language=lang,
        active=active,
    )
    for i, (name, lang, active) in enumerate(
        [("alice", "zh", True), ("bob", "en", True), ("carol", "zh", False), ("ops", "zh", True)]
    )
]

INTAKE = [
    # L1: one person in two channels, linked by mobile. The web form is earlier: its id is the key.
    # An older version of W1 (loaded earlier, name without given name) is superseded (C1).
    record(
        "web_form",
        "W1",
        1,
        loaded_at=ts("2026-03-01 03:00"),
        event_at=ts("2026-03-01 02:00"),
        source_label="官网注册",
        **person("Zhang"),
        **mobile("+8613800000001"),
    ),
    record(
        "web_form",
        "W1",
        1,
        event_at=ts("2026-03-01 02:00"),
        source_label="官网注册",
        **person("Zhang San"),
        **company("Acme"),
        **mobile("+8613800000001"),
        **email("zhang@acme.cn"),
        owner_name="alice",
        grade="A",
        graded_at=ts("2026-03-01 10:00"),
    ),
    record(
        "badge_scan",
        "B1",
        1,
        event_at=ts("2026-03-03 02:00"),
        source_label="线上展会",
        **person("Zhang San"),
        title="采购总监",
        **mobile("+8613800000001"),
        owner_name="bob",
    ),
    # A landline shared by two people: never links them (C3).
    record(
        "referral_sheet",
        "R1",
        1,
        event_at=ts("2026-02-01 02:00"),
        source_label="行业推荐",
        **person("Li Si"),
        **company("Beta"),
        **mobile("+861088888888", "fixed_line"),
        owner_name="bob",
        grade="B",
        status="intent",
    ),
    record(
        "referral_sheet",
        "R2",
        2,
        event_at=ts("2026-03-09 03:00"),
        source_label="行业推荐",
        **person("Wang Wu"),
        **company("Beta"),
        **mobile("+861088888888", "fixed_line"),
        owner_name="dave",
    ),
    # A won customer with no survey this month (report done this quarter).
    record(
        "web_form",
        "W2",
        2,
        event_at=ts("2026-01-05 02:00"),
        source_label="官网注册",
        **person("Chen Liu"),
        **company("Gamma"),
        **mobile("+8613900000002"),
        **email("chen@gamma.cn"),
        owner_name="bob",
        grade="A",
    ),
    # Inactive owner -> ops; no company -> complete_record; grade C, no touch -> overdue 7 days.
    record(
        "badge_scan",
        "B2",
        2,
        event_at=ts("2026-02-01 02:00"),
        source_label="线上展会",
        **person("Zhao Qi"),
        **email("zhao@gmail.com", free=True),
        owner_name="carol",
        grade="C",
    ),
    # A lost lead (price).
    record(
        "web_form",
        "W3",
        3,
        event_at=ts("2026-02-10 02:00"),
        source_label="官网注册",
        **person("Sun Ba"),
        **company("Delta"),
        **email("sun@delta.cn"),
        grade="B",
        owner_name="alice",
    ),
    # After the cut-off: not visible at as_of (C4).
    record(
        "web_form",
        "W4",
        4,
        event_at=ts("2026-03-09 17:00"),
        source_label="官网注册",
        **person("Late Comer"),
        **company("Zeta"),
        **email("late@zeta.cn"),
        grade="A",
    ),
    # Corporate domain + person links two emails; the badge scan is earlier: its id is the key.
    # Grade from the rule table (facts: clear need, budget, chain, 30 days -> A).
    record(
        "web_form",
        "W5",
        5,
        event_at=ts("2026-02-26 02:00"),
        source_label="官网注册",
        **person("Zhou Jiu"),
        **company("Epsilon"),
        **email("zhou@epsilon.cn"),
        need_clarity="clear",
        budget_confirmed=True,
        decision_chain_known=True,
        decision_within_days=30,
    ),
    record(
        "badge_scan",
        "B3",
        3,
        event_at=ts("2026-02-25 02:00"),
        source_label="线上展会",
        **person("Zhou Jiu"),
        **company("Epsilon"),
        **email("zhou.j@epsilon.cn"),
    ),
    # Same name on free mail: never linked (two ungraded leads, two grading items for ops).
    record(
        "web_form",
        "W6",
        6,
        event_at=ts("2026-02-27 02:00"),
        source_label="官网注册",
        **person("Liu Shi"),
        **company("Omega"),
        **email("liu1@gmail.com", free=True),
    ),
    record(
        "badge_scan",
        "B4",
        4,
        event_at=ts("2026-03-02 02:00"),
        source_label="线上展会",
        **person("Liu Shi"),
        **company("Omega"),
        **email("liu2@gmail.com", free=True),
    ),
    # Grade B, latest follow-up without a next action, not overdue -> no_plan.
    record(
        "web_form",
        "W7",
        7,
        event_at=ts("2026-03-02 02:00"),
        source_label="官网注册",
        **person("Qian Shi"),
        **company("Eta"),
        **mobile("+8613700000007"),
        owner_name="alice",
        grade="B",
    ),
]

FOLLOW_UPS = [
    record(
        "follow_up",
        "F1",
        1,
        contacted_at=ts("2026-03-01 06:00"),
        **email("zhang@acme.cn"),
        follow_up_channel="phone",
        responded=True,
        next_action="send proposal",
        owner_name="bob",
        logged_at=ts("2026-03-01 06:30"),
    ),
    record(
        "follow_up",
        "F2",
        2,
        contacted_at=ts("2026-03-05 06:00"),
        **person("Li Si"),
        **company("Beta"),
        follow_up_channel="wechat",
        responded=False,
        next_action="send quote",
        next_action_due=datetime(2026, 3, 10).date(),
        owner_name="bob",
    ),
    record(
        "follow_up",
        "F3",
        3,
        contacted_at=ts("2026-03-05 07:00"),
        **email("nobody@nowhere.cn"),
        follow_up_channel="email",
        owner_name="eve",
    ),
    record(
        "follow_up",
        "F4",
        4,
        contacted_at=ts("2026-03-05 08:00"),
        **person("Liu Shi"),
        **company("Omega"),
        follow_up_channel="phone",
        owner_name="alice",
    ),
    record(
        "follow_up",
        "F5",
        5,
        contacted_at=ts("2026-03-08 02:00"),
        **mobile("+8613700000007"),
        follow_up_channel="carrier pigeon",
        responded=True,
        owner_name="alice",
    ),
    # after the cut-off: ignored
    record(
        "follow_up",
        "F6",
        6,
        contacted_at=ts("2026-03-09 20:00"),
        **mobile("+8613700000007"),
        follow_up_channel="phone",
        owner_name="alice",
        next_action="call again",
    ),
]
# R7: specific records, so these follow-ups ask for no "make this record specific" item
# (tests/test_specificity.py covers vague ones)
for _follow_up in FOLLOW_UPS:
    _follow_up.setdefault("feedback", "asked for 3 reference customers in the same industry")

STATUS = [
    record(
        "status_change",
        "S1",
        1,
        changed_at=ts("2026-02-10 02:00"),
        **email("chen@gamma.cn"),
        status="won",
        deal_value=500000.0,
        owner_name="bob",
    ),
    record(
        "status_change",
        "S2",
        2,
        changed_at=ts("2026-03-02 02:00"),
        **email("sun@delta.cn"),
        status="lost",
        lost_reason="价格太贵，预算不足",
        owner_name="alice",
    ),
]

CARE = [
    record(
        "care_action",
        "C1",
        1,
        acted_at=ts("2026-02-15 02:00"),
        **email("chen@gamma.cn"),
        care_type="report",
        owner_name="bob",
    ),
    record(
        "care_action",
        "C2",
        2,
        acted_at=ts("2026-02-20 02:00"),
        **email("chen@gamma.cn"),
        care_type="survey",
        owner_name="bob",
    ),
]

FLAGS = [
    {
        "flag_id": "f1",
        "run_id": "r1",
        "load_id": "load-01",
        "channel": "web_form",
        "entity": "intake",
        "source_record_id": "web_form:W2",
        "record_hash": "h-W2-01",
        "file_name": "web_forms_1.json",
        "row_number": 2,
        "column_name": "phone",
        "check_name": "invalid_phone",
        "observed_value": "x",
        "severity": "warning",
        "as_of": datetime(2026, 3, 10).date(),
        "flagged_at": LOAD_1,
    },
]


MANIFEST = [
    {
        "load_id": "load-01",
        "run_id": "r1",
        "file_name": "web_forms_1.json",
        "file_sha256": "sha",
        "channel": "web_form",
        "entity": "intake",
        "rows_in_file": 9,
        "records_added": 8,
        "rows_already_loaded": 0,
        "rows_quarantined": 1,
        "status": "loaded",
        "error": None,
        "loaded_at": LOAD_1,
    },
]


def seed_warehouse(path: Path) -> None:
    create_warehouse(path)
    insert_rows(path, "raw.owner_records", OWNERS)
    insert_rows(path, "raw.intake_records", INTAKE)
    insert_rows(path, "raw.follow_up_records", FOLLOW_UPS)
    insert_rows(path, "raw.status_records", STATUS)
    insert_rows(path, "raw.care_action_records", CARE)
    insert_rows(path, "dq.flags", FLAGS)
    insert_rows(path, "raw.load_manifest", MANIFEST)


def build(path: Path, work: Path, as_of: str = AS_OF) -> None:
    """Models, seeds and data tests, as the pipeline builds them. The unit tests do not depend on
    these rows: test_real_exports runs every one of them once per business timezone."""
    result = run_dbt(path, work, as_of, extra=["--exclude-resource-type", "unit_test"])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dbt_main")
    path = work / "warehouse.duckdb"
    seed_warehouse(path)
    build(path, work)
    return path


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- identity (C3) ---------------------------------------------------------------------------


def test_lead_count_excludes_records_after_the_cutoff(warehouse):
    assert query(warehouse, "select count(*) from marts.dim_leads")[0][0] == 10
    assert query(
        warehouse, "select count(*) from marts.dim_leads where lead_key = 'web_form:W4'"
    ) == [(0,)]


def test_one_person_in_two_channels_is_one_lead_keyed_by_the_earliest_record(warehouse):
    rows = query(
        warehouse,
        """
        select lead_key, channels, intake_record_count, person_name, title, source_label
        from marts.dim_leads where lead_key = 'web_form:W1'""",
    )
    # latest version of W1 wins (C1); title comes from the badge scan, the latest record with one
    assert rows == [("web_form:W1", "badge_scan, web_form", 2, "Zhang San", "采购总监", "官网注册")]


def test_shared_landline_never_merges_two_people(warehouse):
    rows = query(
        warehouse,
        """
        select lead_key, person_name from marts.dim_leads
        where phone = '+861088888888' order by lead_key""",
    )
    assert rows == [("referral_sheet:R1", "Li Si"), ("referral_sheet:R2", "Wang Wu")]


def test_corporate_domain_and_name_link_but_free_mail_does_not(warehouse):
    linked = query(
        warehouse,
        """
        select lead_key, intake_record_count from marts.dim_leads where person_name = 'Zhou Jiu'""",
    )
    assert linked == [("badge_scan:B3", 2)]
    free = query(warehouse, "select count(*) from marts.dim_leads where person_name = 'Liu Shi'")
    assert free == [(2,)]


def test_activity_resolution_orphan_and_ambiguous_are_kept(warehouse):
    issues = query(
        warehouse,
        """
        select source_record_id, check_name from marts.ops_activity_reference_issues
        order by source_record_id""",
    )
    assert issues == [("follow_up:F3", "orphan_reference"), ("follow_up:F4", "ambiguous_reference")]
    facts = query(
        warehouse,
        """
        select follow_up_id, lead_key, resolved_by, follow_up_channel from marts.fct_follow_ups
        order by follow_up_id""",
    )
    # F6 is after the cut-off; F5's channel is not an accepted value -> NULL
    assert facts == [
        ("follow_up:F1", "web_form:W1", "contact_key", "phone"),
        ("follow_up:F2", "referral_sheet:R1", "company_person", "wechat"),
        ("follow_up:F5", "web_form:W7", "contact_key", None),
    ]


# --- status, grades, owners (C5, C7, C8) -------------------------------------------------------


def test_status_won_lost_and_default_potential(warehouse):
    rows = dict(query(warehouse, "select lead_key, current_status from marts.dim_leads"))
    assert rows["web_form:W2"] == "won"
    assert rows["web_form:W3"] == "lost"
    assert rows["referral_sheet:R1"] == "intent"  # from the sheet's status column
    assert rows["web_form:W6"] == "potential"


def test_grades_manual_rule_and_ungraded(warehouse):
    rows = {
        r[0]: r[1:]
        for r in query(warehouse, "select lead_key, grade, grade_source from marts.dim_leads")
    }
    assert rows["web_form:W1"] == ("A", "manual")
    assert rows["badge_scan:B3"] == ("A", "rule")
    assert rows["web_form:W6"] == (None, None)


def test_owner_is_latest_assignment_else_ops(warehouse):
    rows = {
        r[0]: r[1:]
        for r in query(warehouse, "select lead_key, owner_name, owner_status from marts.dim_leads")
    }
    assert rows["web_form:W1"] == ("bob", "assigned")  # badge scan (later) beats the web form
    assert rows["referral_sheet:R2"] == ("ops", "unknown_owner")
    assert rows["badge_scan:B2"] == ("ops", "inactive_owner")
    assert rows["badge_scan:B3"] == ("ops", "no_owner")


def test_unknown_owner_names(warehouse):
    rows = query(
        warehouse,
        "select owner_name, record_count, files from marts.ops_unknown_owner_names order by 1",
    )
    assert rows == [("dave", 1, "referral_sheets_1.xlsx"), ("eve", 1, "follow_ups_1.csv")]


def test_dim_owners(warehouse):
    rows = query(
        warehouse, "select owner_name, email, language, is_active from marts.dim_owners order by 1"
    )
    assert rows[2] == ("carol", "carol@leadflow.test", "zh", False)
    assert len(rows) == 4


# --- owner queue (C8) --------------------------------------------------------------------------


def queue(warehouse) -> dict[tuple[str, str], tuple]:
    rows = query(
        warehouse,
        """
        select owner_name, lead_key, item_type, next_due, days_past_due, is_new, priority
        from marts.ops_owner_queue""",
    )
    return {(r[1], r[2]): (r[0], str(r[3]) if r[3] else None, r[4], r[5], r[6]) for r in rows}


def test_owner_queue_items(warehouse):
    items = queue(warehouse)
    assert set(items) == {
        ("web_form:W7", "no_plan"),
        ("web_form:W1", "overdue"),
        ("referral_sheet:R1", "nurture_due"),
        ("referral_sheet:R1", "due_today"),
        ("web_form:W2", "care_due"),
        ("badge_scan:B3", "overdue"),
        ("web_form:W6", "grade_lead"),
        ("badge_scan:B2", "overdue"),
        ("badge_scan:B4", "grade_lead"),
        ("referral_sheet:R2", "grade_lead"),
        ("badge_scan:B2", "complete_record"),
    }


def test_overdue_a_lead_from_last_touch_plus_cadence(warehouse):
    # last touch 2026-03-01 (business date) + 7 days (grade A) = 03-08: 2 days overdue on 03-10
    assert queue(warehouse)[("web_form:W1", "overdue")] == ("bob", "2026-03-08", 2, False, 1)


def test_agreed_next_action_date_wins_and_is_due_today(warehouse):
    assert queue(warehouse)[("referral_sheet:R1", "due_today")][:3] == ("bob", "2026-03-10", 0)


def test_ungraded_new_lead_gets_a_grading_item_for_ops(warehouse):
    # acquired 2026-03-09 11:00 business time: due 24 h later, new since the previous run
    assert queue(warehouse)[("referral_sheet:R2", "grade_lead")][:4] == (
        "ops",
        "2026-03-10",
        0,
        True,
    )
    assert queue(warehouse)[("web_form:W6", "grade_lead")][:4] == ("ops", "2026-02-28", 10, False)
    # "days overdue" is a follow-up's: a grading item is late by days_past_due only
    rows = query(
        warehouse,
        """
        select item_type, count(*) from marts.ops_owner_queue
        where days_overdue is not null group by 1 order by 1""",
    )
    assert {item_type for item_type, _ in rows} <= {"overdue", "due_today", "no_plan"}


def test_won_customer_without_survey_this_month_gets_care_item(warehouse):
    rows = query(
        warehouse,
        """
        select owner_name, survey_due_on, report_due_on, greeting_due_on, next_due, days_overdue
        from marts.ops_owner_queue where lead_key = 'web_form:W2'""",
    )
    # report done in Q1 (February), survey only last month; no Spring Festival window on 03-10
    march_31 = datetime(2026, 3, 31).date()
    assert rows == [("bob", march_31, None, None, march_31, None)]


def test_lost_leads_get_no_items(warehouse):
    assert query(
        warehouse, "select count(*) from marts.ops_owner_queue where lead_key = 'web_form:W3'"
    ) == [(0,)]


def test_incomplete_record_names_what_is_missing(warehouse):
    rows = query(
        warehouse,
        """
        select owner_name, missing_fields from marts.ops_owner_queue
        where item_type = 'complete_record'""",
    )
    assert rows == [("ops", "company")]


def test_priority_overdue_a_first_then_most_days_overdue(warehouse):
    rows = query(
        warehouse,
        """
        select lead_key, item_type from marts.ops_owner_queue
        where owner_name = 'ops' order by priority""",
    )
    assert rows == [
        ("badge_scan:B3", "overdue"),  # overdue, grade A
        ("web_form:W6", "grade_lead"),  # 10 days
        ("badge_scan:B2", "overdue"),  # 7 days, overdue before grading at equal days
        ("badge_scan:B4", "grade_lead"),  # 7 days
        ("referral_sheet:R2", "grade_lead"),  # 0 days
        ("badge_scan:B2", "complete_record"),  # no due date
    ]


def test_owner_queue_columns_match_the_interface(warehouse):
    cols = query(
        warehouse,
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'marts' and table_name = 'ops_owner_queue'
        order by ordinal_position""",
    )
    assert cols == [
        ("as_of", "DATE"),
        ("owner_name", "VARCHAR"),
        ("owner_email", "VARCHAR"),
        ("owner_language", "VARCHAR"),
        ("lead_key", "VARCHAR"),
        ("item_type", "VARCHAR"),
        ("is_new", "BOOLEAN"),
        ("company", "VARCHAR"),
        ("person_name", "VARCHAR"),
        ("title", "VARCHAR"),
        ("phone", "VARCHAR"),
        ("email", "VARCHAR"),
        ("grade", "VARCHAR"),
        ("last_touch_at", "TIMESTAMP"),
        ("next_action", "VARCHAR"),
        ("next_due", "DATE"),
        ("days_overdue", "INTEGER"),
        ("priority", "INTEGER"),
        ("days_past_due", "INTEGER"),
        ("due_basis", "VARCHAR"),
        ("contact_days", "INTEGER"),
        ("grade_due_at", "TIMESTAMP"),
        ("waiting_since", "TIMESTAMP"),
        ("hours_waiting", "INTEGER"),
        ("routing_unassigned_reason", "VARCHAR"),
        ("missing_fields", "VARCHAR"),
        ("survey_due_on", "DATE"),
        ("report_due_on", "DATE"),
        ("greeting_due_on", "DATE"),
        ("greeting_occasion", "VARCHAR"),
        ("content_kind", "VARCHAR"),
        ("last_content_on", "DATE"),
        ("plan_text", "VARCHAR"),
        ("follow_up_number", "INTEGER"),
        ("goal_source", "VARCHAR"),
        ("goal_code", "VARCHAR"),
        ("plan_goal", "VARCHAR"),
        ("record_id", "VARCHAR"),
        ("record_at", "TIMESTAMP"),
        ("record_channel", "VARCHAR"),
        ("feedback", "VARCHAR"),
        ("vague_reason", "VARCHAR"),
    ]
    assert query(warehouse, "select distinct as_of from marts.ops_owner_queue") == [
        (datetime(2026, 3, 10).date(),)
    ]


def test_flags_travel_with_the_lead(warehouse):
    assert query(
        warehouse,
        """
        select dq_flag_count, dq_checks from marts.dim_leads where lead_key = 'web_form:W2'""",
    ) == [(1, "invalid_phone")]


# --- analysis marts (C8, R3, R9, R11) -----------------------------------------------------------


def test_source_conversion(warehouse):
    rows = query(
        warehouse,
        """
        select leads, won_leads, conversion_rate, intent_rate from marts.rpt_source_conversion
        where source_label = '官网注册' and acquisition_cohort = date '2026-01-01'""",
    )
    assert rows == [(1, 1, 1.0, 1.0)]
    rows = query(
        warehouse,
        """
        select leads, intent_or_won_leads, intent_rate from marts.rpt_source_conversion
        where source_label = '行业推荐' and acquisition_cohort = date '2026-02-01'""",
    )
    assert rows == [(1, 1, 1.0)]  # Li Si reached intent


def test_cycle_time_by_grade_and_source(warehouse):
    rows = query(
        warehouse,
        """
        select dimension, dimension_value, won_leads, median_days
        from marts.rpt_cycle_time order by 1""",
    )
    # acquired 2026-01-05, won 2026-02-10 (business dates): 36 days
    assert rows == [("grade_at_win", "A", 1, 36.0), ("source", "官网注册", 1, 36.0)]


def test_channel_response(warehouse):
    rows = query(
        warehouse,
        """
        select follow_up_channel, responded_known, response_rate from marts.rpt_channel_response
        where grouping = 'channel' order by 1 nulls last""",
    )
    assert rows == [("phone", 1, 1.0), ("wechat", 1, 0.0), (None, 1, 1.0)]


def test_churn_reasons(warehouse):
    assert query(
        warehouse, "select churn_category, lost_leads, churned_leads from marts.rpt_churn_reasons"
    ) == [("price", 1, 0)]


def test_grading_sla(warehouse):
    rows = dict(query(warehouse, "select lead_key, sla_status from marts.fct_grading_sla"))
    assert rows["web_form:W1"] == "met"
    assert rows["referral_sheet:R2"] == "pending"
    assert query(
        warehouse,
        """
        select sla_status, hours_late from marts.fct_grading_sla where lead_key = 'web_form:W6'""",
    ) == [
        ("breached", 230.0)  # deadline 2026-02-28 02:00 UTC, cut-off 2026-03-09 16:00 UTC
    ]


def test_customer_care_due(warehouse):
    rows = query(
        warehouse, "select lead_key, owner_name, care_stream from marts.ops_customer_care_due"
    )
    assert rows == [("web_form:W2", "bob", "survey")]


def test_data_quality_per_file(warehouse):
    rows = query(
        warehouse,
        """
        select rows_in_file, rows_quarantined, rows_landed, flagged_rows, flags_by_check
        from marts.ops_data_quality where file_name = 'web_forms_1.json'""",
    )
    assert rows == [(9, 1, 8, 1, "invalid_phone: 1")]


# --- other scenarios: each one dbt build -------------------------------------------------------


def test_build_passes_on_empty_tables(tmp_path):
    path = tmp_path / "empty.duckdb"
    create_warehouse(path)
    build(path, tmp_path)
    assert query(path, "select count(*) from marts.ops_owner_queue") == [(0,)]
    assert query(path, "select count(*) from marts.dim_leads") == [(0,)]


def test_lead_keys_never_change_when_a_later_file_brings_an_earlier_record(tmp_path):
    path = tmp_path / "wh.duckdb"
    seed_warehouse(path)
    build(path, tmp_path)
    # A later file brings an earlier scan of Zhang San (same mobile: joins W1, does not re-key it)
    # and a record carrying W7's mobile and W1's email: the two leads merge, W1 (acquired
    # earlier) survives and W7's original key is logged.
    insert_rows(
        path,
        "raw.intake_records",
        [
            record(
                "badge_scan",
                "B9",
                1,
                loaded_at=LOAD_2,
                event_at=ts("2026-02-15 02:00"),
                **person("Zhang San"),
                **mobile("+8613800000001"),
            ),
            record(
                "badge_scan",
                "B10",
                2,
                loaded_at=LOAD_2,
                event_at=ts("2026-03-04 02:00"),
                **person("Qian Shi"),
                **mobile("+8613700000007"),
                **email("zhang@acme.cn"),
            ),
        ],
    )
    build(path, tmp_path)
    key_map = dict(
        query(path, "select source_record_id, lead_key from intermediate.int_lead_key_map")
    )
    assert key_map["badge_scan:B9"] == "web_form:W1"
    assert key_map["web_form:W7"] == "web_form:W1"
    merged = query(
        path,
        """
        select original_lead_key from intermediate.int_lead_key_map
        where source_record_id = 'web_form:W7'""",
    )
    assert merged == [("web_form:W7",)]
    lead = query(
        path,
        """
        select acquired_at, intake_record_count from marts.dim_leads
        where lead_key = 'web_form:W1'""",
    )
    # acquisition moves to the earlier record; the key does not (W1, B1, B9, B10, W7)
    assert lead == [(ts("2026-02-15 02:00"), 5)]
