"""Counts that add up, the "new" badge, and same-day "new leads" emails (C9), over real SMTP.

The marts are hand-made in a real DuckDB file (tests/notify_fixtures.py); the ledgers are the
real ones in it, so each test runs the day (or the days) a rep would live through.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import duckdb
import pytest

from notify import send_owner_emails
from tests.notify_fixtures import (
    AS_OF,
    QUEUE_COLUMN_NAMES,
    Item,
    RecordingHandler,
    _queue_row,
    build_warehouse,
    default_items,
    html_part,
    text_part,
    todays_items,
)

NEXT_DAY = AS_OF + timedelta(days=1)


@pytest.fixture(autouse=True)
def no_pinned_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LEADFLOW_MAIL_NEW_LEADS", "LEADFLOW_TODAY", "LEADFLOW_MAIL_MAX_ITEMS"):
        monkeypatch.delenv(name, raising=False)


def add_items(warehouse: Path, items: list[Item]) -> None:
    """More queue rows (and their leads in dim_leads): a later build of the marts."""
    placeholders = ", ".join("?" for _ in QUEUE_COLUMN_NAMES)
    with duckdb.connect(str(warehouse)) as con:
        con.executemany(
            f"INSERT INTO marts.ops_owner_queue VALUES ({placeholders})",
            [_queue_row(i) for i in items],
        )
        add_book(con, [(i.lead_key, i.owner_name) for i in items])


def add_book(con: duckdb.DuckDBPyConnection, leads: list[tuple[str, str]]) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS marts.dim_leads (lead_key VARCHAR, owner_name VARCHAR)")
    con.execute(
        "DELETE FROM marts.dim_leads WHERE lead_key IN (SELECT unnest(?))", [[k for k, _ in leads]]
    )
    con.executemany("INSERT INTO marts.dim_leads VALUES (?, ?)", leads)


def warehouse_with_book(path: Path, items: list[Item]) -> Path:
    build_warehouse(path, items)
    with duckdb.connect(str(path)) as con:
        add_book(con, sorted({(i.lead_key, i.owner_name) for i in items}))
    return path


def mails_to(handler: RecordingHandler, address: str) -> list[EmailMessage]:
    return [msg for _, rcpts, msg in handler.messages if address in rcpts]


def lead_keys(msg: EmailMessage) -> list[str]:
    return re.findall(r'data-lead-key="([^"]+)"', html_part(msg))


def new_badges(msg: EmailMessage) -> list[str]:
    card = r'data-lead-key="([^"]+)">\s*<div[^>]*>[^<]*(<span[^>]*data-new)?'
    cards = re.findall(card, html_part(msg))
    return [key for key, badge in cards if badge]


def headings(msg: EmailMessage) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\(([\d,]+)\)</h2>", html_part(msg))]


def subject_figures(msg: EmailMessage) -> list[int]:
    after_date = re.split(r"[：:] ?", str(msg["Subject"]), maxsplit=1)[1]
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", after_date)]


# --------------------------------------------------------------------------- counts


def test_subject_figures_are_the_section_counts(tmp_path: Path, server) -> None:
    handler, smtp = server
    send_owner_emails(build_warehouse(tmp_path / "w.duckdb"), tmp_path / "o", AS_OF, smtp=smtp)

    assert len(handler.messages) == 12
    for _, rcpts, msg in handler.messages:
        sections = headings(msg)
        # the first three sections' counts, then the total of all of them (ops' lists included)
        assert subject_figures(msg) == [*sections[:3], sum(sections)], (rcpts, msg["Subject"])


def test_days_overdue_only_on_follow_ups_past_due(tmp_path: Path, server) -> None:
    handler, smtp = server
    send_owner_emails(build_warehouse(tmp_path / "w.duckdb"), tmp_path / "o", AS_OF, smtp=smtp)

    for address in ("zhang.wei@example.com", "li.na@example.com", "ops@example.com"):
        (msg,) = mails_to(handler, address)
        html = html_part(msg)
        sections = re.split(r'(?=<h2 [^>]*data-item-type=")', html)[1:]
        for section in sections:
            item_type = re.match(r'<h2 [^>]*data-item-type="([^"]+)"', section).group(1)
            red = section.count("color:#dc2626;font-weight:bold")
            if item_type == "overdue":
                assert red == section.count("data-lead-key") > 0
            else:
                assert red == 0 and "逾期" not in re.sub(r"<h2.*?</h2>", "", section), item_type


def test_grading_and_completion_items_say_how_long_they_waited(tmp_path: Path, server) -> None:
    handler, smtp = server
    send_owner_emails(build_warehouse(tmp_path / "w.duckdb"), tmp_path / "o", AS_OF, smtp=smtp)

    zhang = text_part(mails_to(handler, "zhang.wei@example.com")[0])
    assert "请为这条线索分级（A、B 或 C），分级期限2026年3月14日 10:00已过" in zhang
    assert "已等待 2 天（获取于2026年3月13日 10:00）" in zhang
    li = text_part(mails_to(handler, "li.na@example.com")[0])
    assert "请补全资料：有效的电话或邮箱\r\n   已等待 2 天" in li
    ops = text_part(mails_to(handler, "ops@example.com")[0])
    assert "已等待 15 小时（获取于2026年3月15日 09:00）" in ops


# --------------------------------------------------------------------------- the new badge


def test_new_badge_only_on_leads_first_shown_to_this_owner(tmp_path: Path, server) -> None:
    handler, smtp = server
    cap = "LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION"
    first_day = [
        Item("张伟", "OLD", "grade_lead", "老线索公司", None, 1, is_new=False),
        Item("张伟", "ROUTED", "grade_lead", "刚分配公司", None, 2, is_new=True),
        Item("张伟", "CAPPED", "grade_lead", "排在后面公司", None, 3, is_new=False),
    ]
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", first_day)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(cap, "2")  # CAPPED is counted, not listed
        send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp)
    (day_one,) = mails_to(handler, "zhang.wei@example.com")
    # The ledger does not know the owner yet: the mart's is_new (routed since yesterday) decides.
    assert lead_keys(day_one) == ["OLD", "ROUTED"] and new_badges(day_one) == ["ROUTED"]

    # Next morning: the mart still says ROUTED is new (stale), a lead arrived overnight, and
    # CAPPED is listed for the first time. Only what this owner never saw is new.
    second_day = [replace(i, as_of=NEXT_DAY) for i in first_day]
    second_day.append(
        Item("张伟", "OVERNIGHT", "grade_lead", "夜间线索公司", None, 4, as_of=NEXT_DAY)
    )
    add_items(warehouse, second_day)
    send_owner_emails(warehouse, tmp_path / "o", NEXT_DAY, smtp=smtp)
    day_two = mails_to(handler, "zhang.wei@example.com")[1]
    assert lead_keys(day_two) == ["OLD", "ROUTED", "CAPPED", "OVERNIGHT"]
    assert new_badges(day_two) == ["CAPPED", "OVERNIGHT"]

    # A resend shows what the first send of that day showed.
    send_owner_emails(warehouse, tmp_path / "o", NEXT_DAY, smtp=smtp, resend=True)
    assert new_badges(mails_to(handler, "zhang.wei@example.com")[2]) == ["CAPPED", "OVERNIGHT"]


# --------------------------------------------------------------------------- same-day new leads


def noon_leads() -> list[Item]:
    """What a noon run adds: two leads routed to 张伟 (one with two items), one to 李娜."""
    return [
        Item("张伟", "N1", "grade_lead", "午间新线索一号公司", None, 20, is_new=True),
        Item("张伟", "N2", "grade_lead", "午间新线索二号公司", None, 21, is_new=True),
        Item(
            "张伟", "N2", "complete_record", "午间新线索二号公司", None, 22,
            missing_fields="company",
        ),
        Item("李娜", "N3", "grade_lead", "午后新线索公司", None, 20, is_new=True),
    ]  # fmt: skip


def test_a_later_run_sends_only_the_new_leads_once(tmp_path: Path, server) -> None:
    handler, smtp = server
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", default_items())
    morning = send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    mailed = len(handler.messages)
    assert morning.emails_sent == mailed and morning.new_lead_emails == 0

    add_items(warehouse, noon_leads())
    noon = send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)

    assert noon.emails_sent == 0 and noon.skipped_already_sent == mailed
    assert (noon.new_lead_emails, noon.new_leads, noon.failed) == (2, 3, 0)
    later = handler.messages[mailed:]
    assert sorted(r for _, rcpts, _ in later for r in rcpts) == [
        "li.na@example.com",
        "zhang.wei@example.com",
    ]
    zhang = mails_to(handler, "zhang.wei@example.com")[-1]
    assert zhang["Subject"] == "新线索 3月16日（周一）：2 条"
    assert lead_keys(zhang) == ["N1", "N2"]  # one card per lead, no morning item again
    text = text_part(zhang)
    assert "又有 2 条线索分配给您" in text and "== 新线索 (2) ==" in text
    assert "请补全资料：公司名称" in text  # N2's second item is on its card
    assert zhang["Message-ID"] != mails_to(handler, "zhang.wei@example.com")[0]["Message-ID"]

    # A third run the same day: nothing left to tell.
    again = send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    assert again.new_lead_emails == 0 and len(handler.messages) == mailed + 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT owner_name, lead_key, first_email_kind FROM mail.lead_ledger "
            "WHERE lead_key LIKE 'N%' ORDER BY lead_key"
        ).fetchall()
    assert rows == [
        ("张伟", "N1", "new_leads"),
        ("张伟", "N2", "new_leads"),
        ("李娜", "N3", "new_leads"),
    ]


def test_a_lead_already_in_the_book_is_no_new_lead(tmp_path: Path, server) -> None:
    """A lead the owner held at the morning email (no item then) that gets an item later the
    same day is not new; a lead reassigned to another owner is new to that owner, once."""
    handler, smtp = server
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", default_items())
    with duckdb.connect(str(warehouse)) as con:
        add_book(con, [("QUIET", "张伟")])  # held without an item in the morning
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    mailed = len(handler.messages)

    add_items(warehouse, [
        Item("张伟", "QUIET", "due_today", "安静老客户公司", "B", 30, 0),
        Item("李娜", "L0006", "grade_lead", "广州物流有限公司", None, 30),  # from 张伟 to 李娜
    ])  # fmt: skip
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)

    later = handler.messages[mailed:]
    assert [(rcpts, lead_keys(msg)) for _, rcpts, msg in later] == [
        (["li.na@example.com"], ["L0006"])
    ]


def test_new_leads_follow_the_run_kind_and_the_setting(
    tmp_path: Path, server, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, smtp = server
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", default_items())
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp)
    add_items(warehouse, noon_leads())
    mailed = len(handler.messages)

    # A backfill (as_of before today) never sends them, nor does a forward run with them off.
    monkeypatch.setenv("LEADFLOW_TODAY", (AS_OF + timedelta(days=7)).isoformat())
    assert send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp).new_lead_emails == 0
    monkeypatch.setenv("LEADFLOW_TODAY", AS_OF.isoformat())
    monkeypatch.setenv("LEADFLOW_MAIL_NEW_LEADS", "off")
    assert send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp).new_lead_emails == 0
    assert len(handler.messages) == mailed
    monkeypatch.setenv("LEADFLOW_MAIL_NEW_LEADS", "on")
    assert send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp).new_lead_emails == 2
    monkeypatch.setenv("LEADFLOW_MAIL_NEW_LEADS", "maybe")
    with pytest.raises(ValueError, match="LEADFLOW_MAIL_NEW_LEADS"):
        send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp)


def test_resend_sends_the_daily_queue_and_the_new_leads_are_in_it(tmp_path: Path, server) -> None:
    handler, smtp = server
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", default_items())
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    add_items(warehouse, noon_leads())
    mailed = len(handler.messages)

    forced = send_owner_emails(
        warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True, resend=True
    )

    assert forced.emails_sent == mailed and forced.new_lead_emails == 0
    zhang = mails_to(handler, "zhang.wei@example.com")[-1]
    assert zhang["Subject"].startswith("跟进提醒") and {"N1", "N2"} <= set(lead_keys(zhang))
    assert {"N1", "N2"} <= set(new_badges(zhang))
    # Told in the resent queue: no new-leads email follows for them.
    assert (
        send_owner_emails(
            warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True
        ).new_lead_emails
        == 0
    )


def test_an_undelivered_new_leads_email_goes_out_on_the_next_run(tmp_path: Path, server) -> None:
    handler, smtp = server
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", default_items())
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    add_items(warehouse, noon_leads())
    handler.refusals["zhang.wei@example.com"] = ["550 5.1.1 mailbox unavailable"]

    refused = send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    assert refused.failed == 1 and refused.new_lead_emails == 1  # 李娜's went out
    retry = send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=smtp, new_leads=True)
    assert retry.failed == 0 and retry.new_lead_emails == 1
    assert lead_keys(mails_to(handler, "zhang.wei@example.com")[-1]) == ["N1", "N2"]
    assert len(mails_to(handler, "li.na@example.com")) == 2  # the daily and one new-leads email


def test_new_leads_emails_are_eml_files_beside_the_daily_one(tmp_path: Path) -> None:
    warehouse = warehouse_with_book(tmp_path / "w.duckdb", todays_items(default_items()))
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=None, new_leads=True)
    add_items(warehouse, noon_leads())
    send_owner_emails(warehouse, tmp_path / "o", AS_OF, smtp=None, new_leads=True)

    zhang = sorted(p.name for p in (tmp_path / "o").rglob("*张伟*.eml"))
    assert len(zhang) == 2 and "_new_" in zhang[1]  # the daily .eml is not overwritten
