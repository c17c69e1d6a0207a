"""Validation (issue 4): real GX runs on a crafted warehouse, every planted problem one by one.

One module-scoped warehouse and `validate_loads` run carry most assertions (GX's import and
context are the slow part); two more runs check re-validation and "only the given loads".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from expectations.suites import batch_suite, build_suite, channels_by_name
from expectations.validate import ValidationResult
from ingest.landing import ensure_raw_schema
from leadflow.core.canonical import ENTITIES
from leadflow.core.channels import ChannelConfigError

AS_OF = date(2024, 6, 15)  # cut-off: 2024-06-14 16:00 UTC
TZ = "Asia/Shanghai"
REPO_CHANNELS = Path(__file__).resolve().parent.parent / "ingest" / "channels"

CHANNEL_YAML = {
    "web_form": "entity: intake\nrequired: [person_name, {any_of: [phone, email]}, event_at]\n"
    "freshness_days: 3\n",
    "badge_scan": "entity: intake\nrequired: [person_name, {any_of: [phone, email]}, event_at]\n"
    "freshness_days: 30\n",
    "referral_sheet": "entity: intake\nrequired: [person_name, company]\nfreshness_days: 30\n",
    "follow_up": "entity: follow_up\nrequired: [contacted_at, follow_up_channel, owner_name]\n"
    "freshness_days: 3\n",
    "status_change": "entity: status\nrequired: [changed_at, status]\nfreshness_days: 7\n",
    "care_action": "entity: care_action\nrequired: [acted_at, care_type]\nfreshness_days: 31\n",
    "owner_directory": "entity: owner\nrequired: [owner_name, email]\n",
}

# (load id, channel, loaded at); W0 and O0 are older loads that the run does not validate.
LOADS = {
    "W0": ("web_form", datetime(2024, 5, 1, 2)),
    "O0": ("owner_directory", datetime(2024, 5, 1, 2)),
    "W1": ("web_form", datetime(2024, 6, 14, 2)),
    "B1": ("badge_scan", datetime(2024, 6, 14, 2)),
    "F1": ("follow_up", datetime(2024, 6, 1, 2)),  # > 3 days before the cut-off: stale
    "S1": ("status_change", datetime(2024, 6, 13, 2)),
    "C1": ("care_action", datetime(2024, 6, 10, 2)),
    "O1": ("owner_directory", datetime(2024, 6, 14, 2)),
    "M1": ("mystery", datetime(2024, 6, 14, 2)),  # a channel without YAML
}
NEW_LOADS = ["W1", "B1", "F1", "S1", "C1", "O1", "M1"]
BIG_BAD_ROWS = 250  # more than GX's default sample of 20 (and the 200 of partial lists)

PHONE = {"phone": "+8613800138000", "phone_valid": True, "phone_masked": False}
EMAIL = {"email": "zhang@corp.cn", "email_valid": True}
TS = datetime(2024, 6, 10, 2)  # a valid event time


def intake(**fields: Any) -> dict[str, Any]:
    return {"person_name": "张三", **PHONE, **EMAIL, "event_at": TS, "grade": "A", **fields}


def follow_up(**fields: Any) -> dict[str, Any]:
    base = {
        "contacted_at": TS,
        "logged_at": datetime(2024, 6, 10, 2, 30),
        "follow_up_channel": "phone",
        "owner_name": "张伟",
        "next_action_due": date(2024, 7, 30),  # a plan: the future is fine
        "feedback": "客户要求提供3家同行业合作案例",  # specific (R7)
        **EMAIL,
    }
    return {**base, **fields}


# Each row: (load, row number, fields, expected flags as (column, check[, observed])).
ROWS: list[tuple[str, int, dict[str, Any], list[tuple]]] = [
    ("W1", 1, intake(), []),
    ("W1", 2, intake(person_name="  "), [("person_name", "missing_required")]),
    (
        "W1",
        3,
        intake(phone="138****5678", phone_valid=False, phone_masked=True, email=None),
        [("phone", "masked_phone", "138****5678"), ("phone|email", "missing_required")],
    ),
    ("W1", 4, intake(email="foo@", email_valid=False), [("email", "invalid_email", "foo@")]),
    (
        "W1",
        5,
        intake(event_at=None, _original={"event_at": "昨天下午"}),
        [("event_at", "unparseable_value", "昨天下午"), ("event_at", "missing_required")],
    ),
    (
        "W1",
        6,
        intake(event_at=datetime(2024, 6, 14, 16)),  # exactly the cut-off: after the morning
        [("event_at", "future_date", "2024-06-14 16:00:00")],
    ),
    ("W1", 7, intake(event_at=datetime(1999, 12, 31, 15)), [("event_at", "date_before_2000")]),
    ("W1", 8, intake(grade="D"), [("grade", "invalid_grade", "D")]),
    ("W1", 9, intake(_id="W1-dup", _hash="dup"), []),
    ("W1", 10, intake(_id="W1-dup", _hash="dup"), [(None, "duplicate_row", "row 9")]),
    (
        "W1",
        11,
        intake(phone="12345", phone_valid=False),
        [("phone", "invalid_phone", "12345")],
    ),
    ("W1", 12, intake(event_at=datetime(2024, 6, 14, 15, 59)), []),
    ("W1", 13, intake(event_at=datetime(1999, 12, 31, 16)), []),  # 2000-01-01 00:00 business
    # E.164-shaped but rejected by the ingest validator (phonenumbers)
    ("W1", 14, intake(phone="+8612345678", phone_valid=False), [("phone", "invalid_phone")]),
    ("W1", 15, intake(email="a@b.c0m", email_valid=False), [("email", "invalid_email")]),
    ("W1", 16, intake(status="maybe"), [("status", "invalid_status", "maybe")]),
    ("W1", 17, intake(owner_name="Nobody"), [("owner_name", "unknown_owner", "Nobody")]),
    ("W1", 18, intake(owner_name=" Li Lei"), []),  # trimmed on both sides
    (
        "W1",
        19,
        intake(
            graded_at=None,
            budget_amount=None,
            _original={"graded_at": "上周", "budget_amount": "十万"},
        ),
        [
            ("graded_at", "unparseable_value", "上周"),
            ("budget_amount", "unparseable_value", "十万"),
        ],
    ),
    ("W1", 20, intake(event_at=datetime(202, 3, 1)), [("event_at", "date_before_2000")]),
    ("W1", 21, intake(phone=None, email=None), [("phone|email", "missing_required")]),
    # blank original text is missing, not unparseable
    (
        "W1",
        22,
        intake(event_at=None, _original={"event_at": "  "}),
        [("event_at", "missing_required")],
    ),
    # over-long text (issue 15): a 10 KB company name is flagged with an excerpt and its length,
    # a name of exactly the limit is not
    (
        "W1",
        23,
        intake(company="甲" * 10_000),
        [("company", "field_too_long", "甲" * 40 + "… (10000 characters, at most 500)")],
    ),
    ("W1", 24, intake(company="乙" * 500), []),
    ("F1", 1, follow_up(), []),
    (
        "F1",
        2,
        follow_up(logged_at=datetime(2024, 6, 10, 1)),
        [
            (
                "logged_at",
                "logged_before_contact",
                "logged_at=2024-06-10 01:00:00; contacted_at=2024-06-10 02:00:00",
            )
        ],
    ),
    # date-only logged_at on the contact's business day (00:00 business = 16:00 UTC the day before)
    ("F1", 3, follow_up(logged_at=datetime(2024, 6, 9, 16), logged_at_is_date_only=True), []),
    (
        "F1",
        4,
        follow_up(logged_at=datetime(2024, 6, 8, 16), logged_at_is_date_only=True),
        [("logged_at", "logged_before_contact")],
    ),
    (
        "F1",
        5,
        follow_up(follow_up_channel="飞鸽传书"),
        [("follow_up_channel", "invalid_follow_up_channel", "飞鸽传书")],
    ),
    ("F1", 6, follow_up(owner_name=None), [("owner_name", "missing_required")]),
    ("F1", 7, follow_up(owner_name="Ghost"), [("owner_name", "unknown_owner", "Ghost")]),
    (
        "F1",
        8,
        follow_up(next_action_due=date(1999, 5, 1)),
        [("next_action_due", "date_before_2000", "1999-05-01")],
    ),
    (
        "F1",
        9,
        follow_up(responded=None, _original={"responded": "也许"}),
        [("responded", "unparseable_value", "也许")],
    ),
    ("F1", 10, follow_up(feedback="好" * 4000), []),  # prose fields get 4,000 characters
    (
        "F1",
        11,
        follow_up(feedback="x" * 4001),
        [("feedback", "field_too_long", "x" * 40 + "… (4001 characters, at most 4000)")],
    ),
    # R7: empty, too short, a seed phrase across width, case and punctuation; specific is clean
    ("F1", 12, follow_up(feedback=None), [("feedback", "vague_feedback", None)]),
    ("F1", 13, follow_up(feedback="好的"), [("feedback", "vague_feedback", "好的")]),
    (
        "F1",
        14,
        follow_up(feedback="客户有兴趣。"),
        [("feedback", "vague_feedback", "客户有兴趣。")],
    ),
    (
        "F1",
        15,
        follow_up(feedback="ＣＵＳＴＯＭＥＲ Interested!"),
        [("feedback", "vague_feedback", "ＣＵＳＴＯＭＥＲ Interested!")],
    ),
    ("F1", 16, follow_up(feedback="Asked for 3 reference customers"), []),
    ("S1", 1, {"changed_at": TS, "status": "won", "owner_name": "张伟"}, []),
    (
        "S1",
        2,
        {"changed_at": TS, "status": "maybe", "owner_name": "Nobody"},
        [("status", "invalid_status", "maybe"), ("owner_name", "unknown_owner", "Nobody")],
    ),
    ("C1", 1, {"acted_at": TS, "care_type": "survey", "owner_name": "ops"}, []),
    ("C1", 2, {"acted_at": TS, "care_type": "gift"}, [("care_type", "invalid_care_type", "gift")]),
    ("O0", 1, {"owner_name": "Ghost", "_id": "owner_directory:x", **EMAIL}, []),
    ("O1", 1, {"owner_name": "张伟", "_id": "owner_directory:x", **EMAIL}, []),  # renames x
    ("O1", 2, {"owner_name": "Li Lei ", **EMAIL}, []),
    ("O1", 3, {"owner_name": "ops", **EMAIL}, []),
    (
        "O1",
        4,
        {"owner_name": "王芳", "email": "wangfang@", "email_valid": False},
        [("email", "invalid_email", "wangfang@"), ("email", "missing_required")],
    ),
    ("W0", 1, intake(grade="Q"), []),  # an older load: not validated by this run
    # no YAML: no required fields, but every entity check still applies
    ("M1", 1, intake(person_name=None, grade="Q"), [("grade", "invalid_grade", "Q")]),
    *[("B1", n, intake(grade="Z"), [("grade", "invalid_grade", "Z")]) for n in range(1, 251)],
    *[("B1", n, intake(), []) for n in range(251, 301)],
]


@dataclass
class Run:
    warehouse: Path
    reports: Path
    channels: Path
    summary: ValidationResult | None


def entity_of(channel: str) -> str:
    return {
        "web_form": "intake",
        "badge_scan": "intake",
        "follow_up": "follow_up",
        "status_change": "status",
        "care_action": "care_action",
        "owner_directory": "owner",
        "mystery": "intake",
    }[channel]


def raw_row(load_id: str, row_number: int, fields: dict[str, Any]) -> dict[str, Any]:
    channel, loaded_at = LOADS[load_id]
    fields = dict(fields)
    original = {k: str(v) for k, v in fields.items() if not k.startswith("_") and v is not None}
    original.update(fields.pop("_original", {}))
    export_id = fields.pop("_id", f"{channel}:{load_id}-{row_number}")
    record_hash = fields.pop("_hash", f"{load_id}-{row_number}")
    return {
        "source_record_id": export_id,
        "record_hash": record_hash,
        "channel": channel,
        "file_name": f"{load_id}.csv",
        "file_sha256": f"sha-{load_id}",
        "row_number": row_number,
        "load_id": load_id,
        "loaded_at": loaded_at,
        "original_values": json.dumps(original, ensure_ascii=False),
        **fields,
    }


def build_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    ensure_raw_schema(con)  # the raw tables exactly as ingest creates them
    by_table: dict[str, list[dict[str, Any]]] = {}
    for load_id, row_number, fields, _ in ROWS:
        table = ENTITIES[entity_of(LOADS[load_id][0])].table
        by_table.setdefault(table, []).append(raw_row(load_id, row_number, fields))
    for table, rows in by_table.items():
        columns = sorted({c for r in rows for c in r})
        marks = ", ".join("?" * len(columns))
        con.executemany(
            f"INSERT INTO raw.{table} ({', '.join(columns)}) VALUES ({marks})",
            [[r.get(c) for c in columns] for r in rows],
        )
    for load_id, (channel, loaded_at) in LOADS.items():
        n = sum(1 for r in ROWS if r[0] == load_id)
        con.execute(
            "INSERT INTO raw.load_manifest (load_id, run_id, file_name, file_sha256, channel, "
            "entity, rows_in_file, records_added, rows_already_loaded, rows_quarantined, status, "
            "error, loaded_at) VALUES (?, 'r0', ?, ?, ?, ?, ?, ?, 0, 0, 'loaded', NULL, ?)",
            [
                load_id,
                f"{load_id}.csv",
                f"sha-{load_id}",
                channel,
                entity_of(channel),
                n,
                n,
                loaded_at,
            ],
        )
    con.close()


def write_channels(folder: Path) -> None:
    """The channels above as complete files: the schema wants a pattern, a format and a
    header for every required field (validation reads the channels ingest reads)."""
    folder.mkdir()
    for channel, body in CHANNEL_YAML.items():
        doc = yaml.safe_load(body)
        named = [f for i in doc["required"] for f in (i["any_of"] if isinstance(i, dict) else [i])]
        fields = {name: [name] for name in named}
        doc.update(channel=channel, files=[f"{channel}*.csv"], format="csv", fields=fields)
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        (folder / f"{channel}.yaml").write_text(text, encoding="utf-8")


def validate(run: Run, load_ids: list[str], run_id: str) -> ValidationResult:
    from expectations import validate_loads

    return validate_loads(
        run.warehouse,
        load_ids,
        channels_dir=run.channels,
        as_of=AS_OF,
        business_timezone=TZ,
        reports_dir=run.reports,
        run_id=run_id,
    )


def query(run: Run, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def raw_counts(run: Run) -> dict[str, int]:
    return {
        e.table: query(run, f"SELECT count(*) FROM raw.{e.table}")[0][0] for e in ENTITIES.values()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("validation")
    build_warehouse(root / "wh.duckdb")
    write_channels(root / "channels")
    run = Run(root / "wh.duckdb", root / "reports", root / "channels", None)
    before = raw_counts(run)
    run.summary = validate(run, NEW_LOADS, "run-1")
    assert raw_counts(run) == before  # validation never removes or rejects a row
    yield run


def row_flags(run: Run, run_id: str | None = None) -> list[tuple]:
    sql = (
        "SELECT load_id, row_number, column_name, check_name, source_record_id, observed_value, "
        "severity, file_name, record_hash FROM dq.flags WHERE check_name <> 'channel_stale'"
    )
    if run_id:
        sql += f" AND run_id = '{run_id}'"
    return query(run, sql)


PLANTED = [
    (load_id, row_number, fields, flag)
    for load_id, row_number, fields, flags in ROWS
    for flag in flags
    if load_id != "B1"
]


@pytest.mark.parametrize(
    "load_id,row_number,fields,flag",
    PLANTED,
    ids=[f"{p[0]}-row{p[1]}-{p[3][1]}-{p[3][0]}" for p in PLANTED],
)
def test_each_planted_problem_gives_exactly_its_flag(
    run: Run, load_id: str, row_number: int, fields: dict[str, Any], flag: tuple
) -> None:
    column, check = flag[0], flag[1]
    expected = raw_row(load_id, row_number, fields)
    found = [
        f
        for f in row_flags(run)
        if f[0] == load_id and f[1] == row_number and f[2] == column and f[3] == check
    ]
    assert len(found) == 1, found
    _, _, _, _, record, observed, severity, file_name, record_hash = found[0]
    assert (record, file_name, record_hash) == (
        expected["source_record_id"],
        f"{load_id}.csv",
        expected["record_hash"],
    )
    if len(flag) > 2:
        assert observed == flag[2]
    warnings = {
        "masked_phone", "duplicate_row", "unknown_owner", "channel_stale", "field_too_long",
        "vague_feedback",
    }  # fmt: skip
    assert severity == ("warning" if check in warnings else "error")


def test_flags_are_exactly_the_planted_ones(run: Run) -> None:
    """No extra flag anywhere: clean rows (and clean fields of flagged rows) get none."""
    expected = sorted(
        (load_id, row_number, flag[0], flag[1])
        for load_id, row_number, _, flags in ROWS
        if load_id in NEW_LOADS
        for flag in flags
    )
    got = sorted(f[:4] for f in row_flags(run))
    assert got == expected


def test_clean_rows_get_no_flags(run: Run) -> None:
    clean = {(load_id, n) for load_id, n, _, flags in ROWS if not flags and load_id in NEW_LOADS}
    flagged = {(f[0], f[1]) for f in row_flags(run)}
    assert len(clean) > 50 and not clean & flagged


def test_a_batch_with_more_than_200_bad_rows_gets_every_row_flagged(run: Run) -> None:
    rows = query(
        run,
        "SELECT row_number, observed_value FROM dq.flags WHERE load_id = 'B1' ORDER BY row_number",
    )
    assert rows == [(n, "Z") for n in range(1, BIG_BAD_ROWS + 1)]


def test_only_the_given_loads_are_validated(run: Run) -> None:
    assert query(run, "SELECT count(*) FROM dq.flags WHERE load_id IN ('W0', 'O0')") == [(0,)]


def test_stale_channels_are_flagged_once_each(run: Run) -> None:
    stale = query(
        run,
        "SELECT channel, file_name, row_number, column_name, severity, observed_value, as_of "
        "FROM dq.flags WHERE check_name = 'channel_stale' ORDER BY channel",
    )
    assert [s[:6] for s in stale] == [
        (
            "follow_up",
            "F1.csv",
            None,
            None,
            "warning",
            "latest file loaded 2024-06-01 02:00 UTC, 13.6 days before the cut-off "
            "(freshness_days 3)",
        ),
        ("referral_sheet", None, None, None, "warning", "no file loaded (freshness_days 30)"),
    ]
    assert {s[6] for s in stale} == {AS_OF}


def test_summary_counts_match_the_table(run: Run) -> None:
    summary = run.summary
    by_check = dict(query(run, "SELECT check_name, count(*) FROM dq.flags GROUP BY ALL"))
    assert summary.flags == sum(by_check.values())
    assert summary.flags_by_check == by_check
    assert summary.batches == 7  # one per channel with new rows
    assert summary.rows_validated == sum(1 for r in ROWS if r[0] in NEW_LOADS)


def test_data_docs_are_written(run: Run) -> None:
    index = Path(run.summary.data_docs)
    assert index == run.reports / "data_docs" / "index.html"
    assert index.exists()
    html = index.read_text(encoding="utf-8")
    assert "web_form" in html and "follow_up" in html


def test_revalidating_replaces_flags_and_an_older_load_validates_on_its_own(run: Run) -> None:
    before = sorted(f[:4] for f in row_flags(run))
    again = validate(run, ["W1", "F1"], "run-2")
    after = sorted(f[:4] for f in row_flags(run))
    assert after == before  # re-validation replaced W1's and F1's flags, no doubles
    assert again.batches == 2
    assert {f[0] for f in row_flags(run, "run-2")} == {"W1", "F1"}

    validate(run, ["W0"], "run-3")
    old = row_flags(run, "run-3")
    assert [f[:4] for f in old] == [("W0", 1, "grade", "invalid_grade")]
    assert sorted(f[:4] for f in row_flags(run) if f[0] != "W0") == before
    stale = query(run, "SELECT count(*) FROM dq.flags WHERE check_name = 'channel_stale'")
    assert stale == [(2,)]  # one per channel and as-of, however many runs

    nothing_new = validate(run, [], "run-4")
    assert (nothing_new.batches, nothing_new.rows_validated) == (0, 0)
    assert nothing_new.flags_by_check == {"channel_stale": 2}
    assert Path(nothing_new.data_docs).exists()


def test_every_repository_channel_builds_a_suite() -> None:
    channels = channels_by_name(REPO_CHANNELS)
    assert {"web_form", "follow_up", "owner_directory"} <= channels.keys()
    for config in channels.values():
        suite = build_suite(config, as_of=AS_OF, tz=ZoneInfo(TZ), owner_names=frozenset({"ops"}))
        required = [c for c in suite.checks if c.check_name == "missing_required"]
        assert len(required) == len(config.required), config.name


def test_a_required_field_outside_the_entity_is_named_when_the_yaml_is_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "channel: bad\nentity: intake\nfiles: [bad*.csv]\nformat: csv\n"
        "fields: {person_name: [name]}\nrequired: [person_nam]\n",
        encoding="utf-8",
    )
    with pytest.raises(ChannelConfigError) as raised:
        channels_by_name(tmp_path)
    assert str(raised.value) == (
        "bad.yaml:6: required[1]: `person_nam` is not a field of intake, did you mean "
        "`person_name`? (docs/channels.md lists the canonical fields)"
    )


def test_a_batch_validated_in_small_parts_gets_exactly_the_same_flags(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big batches go to GX in parts (memory); a part boundary must not change any flag, also
    for a repeated row whose first copy lies in an earlier part."""
    import expectations.validate as validate_module

    def flags_with_parts_of(rows: int | None, folder: Path) -> tuple[list, dict]:
        if rows:
            monkeypatch.setattr(validate_module, "PART_ROWS", rows)
        folder.mkdir()
        build_warehouse(folder / "wh.duckdb")
        fresh = Run(folder / "wh.duckdb", folder / "reports", run.channels, {})
        summary = validate(fresh, NEW_LOADS, "run-1")
        return sorted(f[:7] for f in row_flags(fresh)), summary

    whole, whole_summary = flags_with_parts_of(None, tmp_path / "whole")
    parted, parted_summary = flags_with_parts_of(25, tmp_path / "parted")
    assert parted == whole
    assert parted_summary.rows_validated == whole_summary.rows_validated > 25
    assert "duplicate_row" in parted_summary.flags_by_check


def test_the_pandas_evaluation_of_the_suites_gives_the_same_flags_as_gx(
    run: Run, tmp_path: Path
) -> None:
    """`leadflow check` evaluates the suites' checks without GX (its start-up is the whole
    budget of a dry run): on every planted problem it must find exactly GX's flags."""
    from expectations.evaluate import suite_flags
    from expectations.validate import owner_directory, read_batch

    build_warehouse(tmp_path / "wh.duckdb")
    fresh = Run(tmp_path / "wh.duckdb", tmp_path / "reports", run.channels, None)
    validate(fresh, NEW_LOADS, "run-gx")
    gx = sorted(
        query(
            fresh,
            "SELECT load_id, source_record_id, row_number, column_name, check_name, "
            "observed_value, severity FROM dq.flags WHERE check_name <> 'channel_stale'",
        ),
        key=str,
    )
    channels = channels_by_name(run.channels)
    con = duckdb.connect(str(fresh.warehouse), read_only=True)
    found = []
    try:
        owners = owner_directory(con)
        for load_id in NEW_LOADS:
            channel = LOADS[load_id][0]
            suite = batch_suite(
                channels,
                channel,
                entity_of(channel),
                as_of=AS_OF,
                tz=ZoneInfo(TZ),
                owner_names=owners,
            )
            for frame in read_batch(con, suite, [load_id]):
                flags = suite_flags(frame, suite)
                found += [
                    (r.load_id, r.source_record_id, r.row_number, r.column_name, r.check_name,
                     None if r.observed_value != r.observed_value else r.observed_value,
                     r.severity)
                    for r in flags.itertuples()
                ]  # fmt: skip
    finally:
        con.close()
    assert len(gx) > 250
    assert sorted(found, key=str) == gx
