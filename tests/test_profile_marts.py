"""Issue 20 on the demo run (the real DAG): what the sheet records reaches the lead's profile,
its tags, its timeline and speed to lead, each figure counted again here from the inbox files
or from per-lead rows with pandas, never read back from the mart under test."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import DemoRun

TAG_COLUMN = "客户标签"
# The separators people put between tags (R4): the issue's , ， 、 ; / and their kin.
TAG_SPLIT = re.compile(r"[,，、;；/|｜\n\r\t]+")
SHEET_FIELDS = {
    "first_responder": "首次响应人(姓名)",
    "plan_text": "跟进计划(频率/方式/目标)",
    "background": "背景信息(企业规模、决策链、痛点等)",
    "notes": "备注(如竞品信息、特殊需求)",
}


def frame(run: DemoRun, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def sheet_rows(run: DemoRun) -> pd.DataFrame:
    """Every row of every referral workbook in the inbox, with its file, sheet and row."""
    parts = []
    for path in sorted(Path(run.inbox_copy).rglob("referrals*.xlsx")):
        for sheet, rows in pd.read_excel(
            path, sheet_name=None, dtype=str, engine="openpyxl"
        ).items():
            rows = rows.assign(file_name=path.name, sheet=sheet, row_number=range(1, len(rows) + 1))
            parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def tags_of(cell: object) -> set[str]:
    """A cell's tags as a person filtering means them: NFKC (full width), case-folded."""
    if not isinstance(cell, str):
        return set()
    pieces = TAG_SPLIT.split(unicodedata.normalize("NFKC", cell))
    return {p.strip().casefold() for p in pieces if p.strip()}


def lead_of_row(run: DemoRun) -> dict[tuple[str, str, int], str]:
    """(file, sheet, row) -> lead key, from the timeline's intake lineage (another mart)."""
    rows = frame(
        run,
        "SELECT file_name, source_sheet, source_row_number, lead_key "
        "FROM marts.fct_lead_timeline WHERE event_type = 'intake'",
    )
    return {
        (r.file_name, r.source_sheet, int(r.source_row_number)): r.lead_key
        for r in rows.itertuples()
    }


@pytest.mark.parametrize("tag", ["决策链复杂", "制造业", "vip"])
def test_filtering_by_a_tag_gives_exactly_the_leads_whose_sheet_rows_carry_it(
    demo_run: DemoRun, tag: str
) -> None:
    rows = sheet_rows(demo_run)
    leads = lead_of_row(demo_run)
    carrying = rows[rows[TAG_COLUMN].map(lambda cell: tag in tags_of(cell))]
    expected = {leads[(r.file_name, r.sheet, r.row_number)] for r in carrying.itertuples()}
    found = frame(demo_run, f"SELECT lead_key FROM marts.dim_lead_tags WHERE tag = '{tag}'")
    print(f"{tag}: {len(carrying)} sheet rows, {len(expected)} leads")
    assert len(expected) > 0
    assert sorted(found["lead_key"]) == sorted(expected)  # each lead once


def test_tags_spelled_in_full_width_or_any_case_are_one_tag(demo_run: DemoRun) -> None:
    rows = sheet_rows(demo_run)
    spellings = {
        raw.strip()
        for cell in rows[TAG_COLUMN].dropna()
        for raw in TAG_SPLIT.split(cell)
        if unicodedata.normalize("NFKC", raw).strip().casefold() == "vip"
    }
    assert len(spellings) >= 3, spellings  # the demo writes VIP, vip, ＶＩＰ, Vip
    tags = frame(demo_run, "SELECT tag FROM marts.dim_lead_tags")["tag"]
    assert not tags.str.contains("ｖｉｐ|VIP|Vip", regex=True).any()
    assert not tags.str.contains(r"[,，、;；/]", regex=True).any()


def test_the_profile_carries_the_sheet_fields_of_each_lead(demo_run: DemoRun) -> None:
    rows = sheet_rows(demo_run)
    leads = lead_of_row(demo_run)
    rows["lead_key"] = [leads[(r.file_name, r.sheet, r.row_number)] for r in rows.itertuples()]
    # leads whose one intake record is their sheet row: its cells are theirs (a badge scan's
    # notes, newer than a timeless sheet row, would rightly win for a lead that has one)
    intakes = frame(
        demo_run, "SELECT lead_key FROM marts.fct_lead_timeline WHERE event_type = 'intake'"
    )["lead_key"].value_counts()
    only = intakes[intakes == 1].index
    single = rows[rows["lead_key"].isin(only)].set_index("lead_key")
    profile = frame(
        demo_run, f"SELECT lead_key, {', '.join(SHEET_FIELDS)} FROM marts.dim_leads"
    ).set_index("lead_key")
    print(f"{len(single)} sheet-only leads")
    assert len(single) >= 3
    for field, header in SHEET_FIELDS.items():
        expected = single[header].map(lambda v: v.strip() if isinstance(v, str) else None)
        assert profile.loc[single.index, field].tolist() == expected.tolist(), field


def test_speed_to_lead_per_source_and_rep_from_the_per_lead_hours(demo_run: DemoRun) -> None:
    follow_ups = frame(
        demo_run,
        "SELECT lead_key, contacted_at, actor_name, logged_at, file_name, source_row_number "
        "FROM marts.fct_follow_ups WHERE contacted_at IS NOT NULL",
    ).sort_values(["lead_key", "contacted_at", "logged_at", "file_name", "source_row_number"])
    first = follow_ups.groupby("lead_key").first()
    leads = frame(
        demo_run,
        "SELECT lead_key, acquired_at, source_label, hours_to_first_follow_up FROM marts.dim_leads",
    ).set_index("lead_key")
    hours = (first["contacted_at"] - leads["acquired_at"]).dt.total_seconds() / 3600
    expected = hours.clip(lower=0).reindex(leads.index)
    pd.testing.assert_series_equal(
        leads["hours_to_first_follow_up"], expected, check_names=False, atol=1 / 3600
    )
    leads["rep"] = first["actor_name"].reindex(leads.index)
    known = leads[leads["acquired_at"].notna()]
    report = frame(demo_run, "SELECT * FROM marts.rpt_speed_to_lead").set_index(
        ["dimension", "dimension_value"]
    )
    for dimension, column in (("source", "source_label"), ("rep", "rep")):
        group = known if dimension == "source" else known[known["rep"].notna()]
        for value, part in group.groupby(column):
            measured = part["hours_to_first_follow_up"].dropna()
            row = report.loc[(dimension, value)]
            assert row["leads"] == len(part) and row["measured_leads"] == len(measured)
            assert row["median_hours"] == pytest.approx(measured.median())
            assert row["share_within_1h"] == pytest.approx((measured <= 1).mean())
            assert row["share_within_24h"] == pytest.approx((measured <= 24).mean())
    assert (report.loc["source"]["measured_leads"] > 0).all()


def test_the_timeline_has_every_follow_up_once_in_time_order(demo_run: DemoRun) -> None:
    timeline = frame(demo_run, "SELECT * FROM marts.fct_lead_timeline")
    follow_ups = frame(demo_run, "SELECT follow_up_id, lead_key FROM marts.fct_follow_ups")
    listed = timeline[timeline["event_type"] == "follow_up"]
    assert sorted(listed["source_record_id"]) == sorted(follow_ups["follow_up_id"])
    for _, events in timeline.groupby("lead_key"):
        events = events.sort_values("event_sequence")
        assert events["event_sequence"].tolist() == list(range(1, len(events) + 1))
        timeless = int(events["event_at"].isna().sum())
        assert events["event_at"].head(timeless).isna().all()  # timeless first (C8) ...
        assert events["event_at"].iloc[timeless:].is_monotonic_increasing  # ... then in time
        assert (events["event_type"] == "intake").any()  # the first touch is on the path
    # each row names its file and row, but routing's assignments, which have none
    routed = (timeline["event_type"] == "owner_change") & (timeline["actor_name"] == "routing")
    assert timeline.loc[~routed, "file_name"].notna().all()
    assert timeline.loc[~routed, "source_row_number"].notna().all()
