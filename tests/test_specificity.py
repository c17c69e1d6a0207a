"""R7 through the whole pipeline: vague follow-up records are flagged by validation, marked by
the warehouse, and become one "make this record specific" item each for the rep who wrote them.

A forward run on demo data plus one follow-up export of hand-written records. What is vague is
decided again here in Python (NFKC, case folding, Unicode punctuation and spaces), from the same
seed and var the project ships, and compared with validation, with int_follow_up_specificity and
with the queue; the rep's email is read from the outbox.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import duckdb
import pytest
import yaml

from leadflow.core.settings import load_settings
from leadflow.pipeline import run_all
from tests.conftest import AS_OF, SEED
from tests.notify_fixtures import html_part
from tools.demo.data import generate

DBT = Path(__file__).resolve().parents[1] / "dbt_project"
HEADER = [
    "记录编号",
    "跟进时间",
    "邮箱",
    "跟进方式",
    "客户是否回应",
    "客户反馈",
    "跟进人",
    "记录时间",
]
# (id, days before as_of, rep, feedback): written by hand, as reps do
RECORDS = [
    ("R7-1", 2, "王强", "客户有兴趣。"),
    ("R7-2", 3, "李娜", ""),
    ("R7-3", 4, "王强", "ＯＫ"),
    ("R7-4", 5, "张敏", "Customer  Interested!"),
    ("R7-5", 6, "王强", "客户要求提供3家同行业合作案例，下周二前发送"),
    ("R7-6", 80, "王强", "再联系"),  # vague, but too old for a queue item
    ("R7-7", 3, "周杰", "跟进中"),  # an inactive rep: the lead's owner gets the item
]


def folded(text: str) -> str:
    """Text as R7 compares it, written independently: NFKC (full width), case-folded, without
    spaces, punctuation, symbols and control characters (Unicode categories Z, P, S, C)."""
    return "".join(
        c
        for c in unicodedata.normalize("NFKC", text).casefold()
        if not unicodedata.category(c).startswith(("P", "Z", "C", "S"))
    )


def vague(feedback: str, phrases: set[str], min_chars: int) -> bool:
    text = folded(feedback)
    return not text or len(text) < min_chars or text in phrases


def rule() -> tuple[set[str], int]:
    """The shipped seed's phrases (folded) and var: the one rule the project states."""
    with (DBT / "seeds" / "vague_feedback_phrases.csv").open(encoding="utf-8") as fh:
        phrases = {folded(row["phrase"]) for row in csv.DictReader(fh)}
    variables = yaml.safe_load((DBT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return phrases, int(variables["specific_feedback_min_chars"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("r7")
    inbox = root / "inbox"
    generate(inbox, seed=SEED, leads=40, as_of=AS_OF, truth_path=root / "truth.json")
    forms = json.loads(next(inbox.glob("web_forms_*.json")).read_text(encoding="utf-8"))
    emails = [f["contact"]["email"] for f in forms if f["contact"].get("email")][:3]
    rows = []
    for n, (export_id, days, rep, feedback) in enumerate(RECORDS):
        at = datetime.combine(AS_OF - timedelta(days=days), datetime.min.time()) + timedelta(
            hours=10
        )
        logged = at + timedelta(minutes=20)
        email = emails[n % len(emails)]
        rows.append([export_id, f"{at:%Y-%m-%d %H:%M}", email, "电话", "是", feedback, rep,
                     f"{logged:%Y-%m-%d %H:%M}"])  # fmt: skip
    with (inbox / "follow_ups_r7.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    settings = load_settings().with_paths(
        data_dir=root, inbox=inbox, warehouse=root / "wh.duckdb", outbox=root / "outbox",
        reports_dir=root / "reports", publish_dir=root / "publish",
    )  # fmt: skip
    mp = pytest.MonkeyPatch()
    mp.setenv("LEADFLOW_TODAY", AS_OF.isoformat())
    try:
        summary = run_all(settings, AS_OF)
    finally:
        mp.undo()
    return {"root": root, "warehouse": root / "wh.duckdb", "summary": summary, "emails": emails}


def query(run: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(run["warehouse"]), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_validation_flags_exactly_the_vague_records_of_the_export(run: dict) -> None:
    phrases, min_chars = rule()
    expected = {f"follow_up:{r[0]}" for r in RECORDS if vague(r[3], phrases, min_chars)}
    assert expected == {f"follow_up:R7-{n}" for n in (1, 2, 3, 4, 6, 7)}
    flagged = query(
        run,
        "SELECT source_record_id, column_name, severity FROM dq.flags "
        "WHERE check_name = 'vague_feedback' AND file_name = 'follow_ups_r7.csv'",
    )
    assert sorted(r[0] for r in flagged) == sorted(expected)
    assert {(r[1], r[2]) for r in flagged} == {("feedback", "warning")}
    # the demo's own follow-up exports are specific (R7 style): none of them is flagged
    demo = query(
        run,
        "SELECT count(*) FROM dq.flags WHERE check_name = 'vague_feedback' "
        "AND file_name LIKE 'follow_ups_2%'",
    )
    assert demo == [(0,)]


def test_the_warehouse_agrees_with_validation_record_by_record(run: dict) -> None:
    rows = query(
        run,
        "SELECT s.follow_up_id, s.is_specific, f.source_record_id IS NOT NULL "
        "FROM intermediate.int_follow_up_specificity s LEFT JOIN (SELECT DISTINCT "
        "source_record_id FROM dq.flags WHERE check_name = 'vague_feedback') f "
        "ON f.source_record_id = s.follow_up_id",
    )
    assert len(rows) > 50
    assert all(specific != flagged for _, specific, flagged in rows), [
        r for r in rows if r[1] == r[2]
    ]


def test_each_recent_vague_record_is_one_item_for_the_rep_who_wrote_it(run: dict) -> None:
    phrases, min_chars = rule()
    owners = {r[0]: r[1] for r in query(run, "SELECT owner_name, is_active FROM marts.dim_owners")}
    lead_owner = dict(
        query(
            run,
            "SELECT f.follow_up_id, d.owner_name FROM marts.fct_follow_ups f "
            "JOIN marts.dim_leads d USING (lead_key) WHERE f.file_name = 'follow_ups_r7.csv'",
        )
    )
    expected = set()
    for export_id, days, rep, feedback in RECORDS:
        record = f"follow_up:{export_id}"
        if vague(feedback, phrases, min_chars) and days <= 30:
            expected.add((record, rep if owners.get(rep) else lead_owner[record]))
    items = query(
        run,
        "SELECT record_id, owner_name FROM marts.ops_owner_queue "
        "WHERE item_type = 'specify_record' AND record_id LIKE 'follow_up:R7-%'",
    )
    assert sorted(items) == sorted(expected)
    assert ("follow_up:R7-7", "周杰") not in items  # inactive: not theirs
    specificity = query(
        run,
        "SELECT rep_name, follow_ups, specific_follow_ups FROM marts.rpt_record_specificity "
        "WHERE period_kind = 'month' AND period_start = DATE '2026-11-01' AND rep_name = '王强'",
    )
    assert specificity and specificity[0][1] > specificity[0][2]


def test_the_rep_email_asks_to_make_the_record_specific(run: dict) -> None:
    emls = list((run["root"] / "outbox").rglob("*.eml"))
    by_owner = {}
    for path in emls:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        by_owner[msg["To"].addresses[0].display_name] = html_part(msg)
    wang = by_owner["王强"]
    assert "待写具体的跟进记录" in wang
    assert "“客户有兴趣。”" in wang and "“ＯＫ”" in wang
    assert "再联系" not in wang.split('data-item-type="specify_record"')[1]
    assert "没有填写客户反馈" in by_owner["李娜"]
