"""The queue email shows each follow-up's goal and plan (R6) and asks for vague records to be
made specific (R7): a hand-made warehouse, a real SMTP server on loopback, and the received HTML
rendered in headless Chromium at phone and desktop width, as a rep reads it."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest

from notify import send_owner_emails
from tests.mail_browser import Browser, chromium_path
from tests.notify_fixtures import AS_OF, Item, build_warehouse, html_part, text_part

GOALS_SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "follow_up_goals.csv"
SCRIPT_PLAN = "<script>alert(1)</script>每周1次电话"
PLAN_ZH = "每两周1次电话，每月1次邮件推送产品动态"
PLAN_WITH_GOAL = "每周1次电话+方案演示；目标：敲定试点范围"
PLAN_EN = "A call every two weeks, product news monthly"
WIDTHS = (420, 1200)


def seed_goals() -> dict[str, dict[str, str]]:
    with GOALS_SEED.open(encoding="utf-8", newline="") as fh:
        return {
            r["goal_code"]: {"zh": r["goal_zh"], "en": r["goal_en"]} for r in csv.DictReader(fh)
        }


def items() -> list[Item]:
    recorded = {"waiting_since": datetime(2026, 3, 12, 2), "hours_waiting": 94}
    return [
        Item("张伟", "L1", "overdue", "苏州精密制造有限公司", "A", 1, 3, plan_text=PLAN_ZH,
             follow_up_number=2, goal_code="quote"),
        Item("张伟", "L2", "due_today", "宁波纺织集团", "B", 2, 0, plan_text=PLAN_WITH_GOAL,
             follow_up_number=3, goal_code=None, plan_goal="敲定试点范围"),
        Item("张伟", "L3", "no_plan", "杭州云软件公司", "C", 3, plan_text=SCRIPT_PLAN,
             follow_up_number=6, goal_code="requalify", next_action=None),
        Item("张伟", "L1", "specify_record", "苏州精密制造有限公司", "A", 4, record_id="FU-1",
             record_at=datetime(2026, 3, 12, 2), record_channel="phone", feedback="客户有兴趣",
             vague_reason="vague_phrase", **recorded),
        Item("张伟", "L1", "specify_record", "苏州精密制造有限公司", "A", 5, record_id="FU-2",
             record_at=datetime(2026, 3, 13, 2), record_channel="wechat", feedback=None,
             vague_reason="empty", **recorded),
        Item("Alice Smith", "L9", "overdue", "Acme Robotics", "B", 1, 2, person_name="Jane Doe",
             title="CTO", next_action="Send the pricing sheet", plan_text=PLAN_EN,
             follow_up_number=1, goal_code="confirm_needs"),
        Item("Alice Smith", "L9", "specify_record", "Acme Robotics", "B", 2, record_id="FU-9",
             record_at=datetime(2026, 3, 14, 2), record_channel="email",
             feedback="customer interested", vague_reason="vague_phrase", **recorded),
    ]  # fmt: skip


@pytest.fixture
def received(tmp_path: Path, server) -> dict[str, str]:
    handler, smtp = server
    warehouse = build_warehouse(tmp_path / "w.duckdb", items())
    result = send_owner_emails(warehouse, tmp_path / "out", AS_OF, smtp=smtp)
    assert result.failed == 0
    return {address: msg for address, msg in handler.by_recipient().items()}


def cards(html: str) -> dict[tuple[str, str], str]:
    """(section, lead key) -> the HTML of that lead's cards in that section."""
    out: dict[tuple[str, str], str] = {}
    for section in html.split("<h2")[1:]:
        item_type = re.search(r'data-item-type="([^"]+)"', section).group(1)
        for card in section.split('data-lead-key="')[1:]:
            key = card.split('"', 1)[0]
            out[(item_type, key)] = out.get((item_type, key), "") + card
    return out


def test_follow_up_cards_show_the_goal_beside_the_next_action_and_the_plan(received) -> None:
    goals = seed_goals()
    zhang = html_part(received["zhang.wei@example.com"])
    shown = cards(zhang)
    first = shown[("overdue", "L1")]
    assert f"第 2 次跟进的目标：{goals['quote']['zh']}" in first
    assert f"跟进计划：</span>{PLAN_ZH}" in first
    # the plan states its own goal: that one shows, not the seed's of the 3rd follow-up
    second = shown[("due_today", "L2")]
    assert "本次跟进的目标（见跟进计划）：敲定试点范围" in second
    assert goals["negotiate"]["zh"] not in second
    # after the numbered goals, the status's (R6 "then by status"); the plan is escaped
    third = shown[("no_plan", "L3")]
    assert f"第 6 次跟进的目标：{goals['requalify']['zh']}" in third
    assert "<script>" not in zhang and "&lt;script&gt;alert(1)&lt;/script&gt;" in third
    alice = html_part(received["alice@example.com"])
    assert f"Goal of follow-up 1: {goals['confirm_needs']['en']}" in cards(alice)[("overdue", "L9")]
    assert f"Plan: </span>{PLAN_EN}" in alice
    # the plain-text part says the same
    assert f"第 2 次跟进的目标：{goals['quote']['zh']}" in text_part(
        received["zhang.wei@example.com"]
    )


def test_each_vague_record_is_one_item_of_its_own_section(received) -> None:
    zhang = html_part(received["zhang.wei@example.com"])
    assert "待写具体的跟进记录 (2)" in zhang
    assert zhang.count('data-lead-key="L1"') == 3  # one overdue card and two records
    assert "请把这条记录写具体：2026年3月12日 10:00的电话跟进记录为“客户有兴趣”" in zhang
    assert "请把这条记录写具体：2026年3月13日 10:00的微信跟进没有填写客户反馈" in zhang
    alice = html_part(received["alice@example.com"])
    assert "Follow-up records to make specific (1)" in alice
    assert "the email contact of 14 Mar 2026 10:00 says “customer interested”" in alice
    assert "records to make specific" in received["alice@example.com"]["Subject"]


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")
def test_goal_plan_and_specify_items_as_a_rep_sees_them(received, tmp_path: Path) -> None:
    goals = seed_goals()
    expected = {
        "zhang.wei@example.com": [
            f"第 2 次跟进的目标：{goals['quote']['zh']}", f"跟进计划：{PLAN_ZH}",
            "本次跟进的目标（见跟进计划）：敲定试点范围", "待写具体的跟进记录 (2)",
            "“客户有兴趣”",
        ],
        "alice@example.com": [
            f"Goal of follow-up 1: {goals['confirm_needs']['en']}", f"Plan: {PLAN_EN}",
            "Follow-up records to make specific (1)", "“customer interested”",
        ],
    }  # fmt: skip
    with Browser() as browser:
        for address, lines in expected.items():
            for width in WIDTHS:
                shot = tmp_path / f"{address}-{width}.png"
                view = browser.view(html_part(received[address]), width, shot)
                assert not view.scrolls_sideways, (address, width)
                for line in lines:
                    assert line in view.text, (address, width, line)
                assert shot.stat().st_size > 2000
    print(f"screenshots: {tmp_path}")
