"""Capped sections: counts from the mart, only the first N items listed, owners never mixed.

Real components as in test_notify_service: a DuckDB file with the marts notify reads, and an
aiosmtpd server on loopback; N comes from `LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION` (default:
`leadflow.core.settings.DEFAULT_MAIL_MAX_ITEMS_PER_SECTION`, CAP below).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from leadflow.core.settings import DEFAULT_MAIL_MAX_ITEMS_PER_SECTION as CAP
from notify import send_owner_emails
from notify.queue import OwnerQueue, QueueItem, _item_order, read_owner_queues
from notify.render import render_owner_email
from tests.notify_fixtures import (
    AS_OF,
    DIRECTORY,
    STALE_CHANNELS,
    UNKNOWN_OWNERS,
    Item,
    build_warehouse,
    html_part,
    text_part,
)

CAP_ENV = "LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION"


@pytest.fixture(autouse=True)
def default_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CAP_ENV, raising=False)  # each test sets the cap it means


def random_items(owner: str | None, item_type: str, n: int, rng: random.Random) -> list[Item]:
    """Items with many ties, missing priorities and missing or negative days overdue."""
    tag = owner.strip() if owner and owner.strip() else "ops"
    return [
        Item(
            owner,
            f"{tag}-{item_type}-{rng.randrange(10**6):06d}-{i:03d}",
            item_type,
            f"{tag}-{item_type}-Co-{i:03d}",
            priority=rng.choice([1, 2, 2, 3, 3, 3, 50, None]),
            days_overdue=rng.choice([None, -2, 0, 1, 1, 7, 30]),
        )
        for i in range(n)
    ]


def mart_order(items: list[Item]) -> list[Item]:
    """The mart's order within a section, as the contract states it: priority (missing last),
    then most days overdue (missing as 0), then lead key."""
    return sorted(
        items,
        key=lambda i: (i.priority is None, i.priority or 0, -(i.days_overdue or 0), i.lead_key),
    )


def keys_by_section(html: str) -> dict[str, list[str]]:
    """item type -> lead keys listed in that section, in the order shown (ops' lists aside)."""
    sections: dict[str, list[str]] = {}
    current = None
    for match in re.finditer(r'data-(item-type|lead-key)="([^"]+)"', html):
        kind, value = match.groups()
        if kind == "item-type":
            current = sections.setdefault(value, [])
        else:
            current.append(value)
    return {key: keys for key, keys in sections.items() if key not in OPS_LISTS}


OPS_LISTS = ("unknown_owners", "stale_channels")


def more_notes(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-more-items="(\d+)"', html)]


def subject(owner: str, overdue: int, no_plan: int) -> str:
    """The subject names the first three sections with their headings' counts, and the total
    of all sections: ops' also lists the fixture's 2 unknown names and 1 stale channel."""
    if owner == "ops":
        total = overdue + no_plan + len(UNKNOWN_OWNERS) + len(STALE_CHANNELS)
        parts = f"逾期 {overdue} 项、缺少计划 {no_plan} 项、名录外姓名 {len(UNKNOWN_OWNERS)} 项"
        return f"跟进提醒 3月16日（周一）：{parts}（共 {total} 项）"
    total = overdue + no_plan
    if DIRECTORY[owner][1] == "en":
        parts = f"{overdue} overdue, {no_plan} without a next step"
        return f"Follow-ups Mon 16 Mar: {parts} ({total} items)"
    return f"跟进提醒 3月16日（周一）：逾期 {overdue} 项、缺少计划 {no_plan} 项（共 {total} 项）"


def outbox_messages(outbox: Path) -> dict[str, EmailMessage]:
    parsed = (
        BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in outbox.rglob("*.eml")
    )
    return {msg["To"].addresses[0].addr_spec: msg for msg in parsed}


def test_capped_section_lists_the_first_n_in_mart_order_and_counts_the_rest(tmp_path, server):
    handler, smtp = server
    rng = random.Random(6)
    overdue = random_items("张伟", "overdue", CAP + 30, rng)
    due_today = random_items("张伟", "due_today", 5, rng)
    build_warehouse(tmp_path / "w.duckdb", [*overdue, *due_today])

    result = send_owner_emails(tmp_path / "w.duckdb", tmp_path / "out", AS_OF, smtp=smtp)

    assert result.owners == ["ops", "张伟"]  # ops: for the fixture's unknown owner names
    msg = handler.by_recipient()["zhang.wei@example.com"]
    html, text = html_part(msg), text_part(msg)
    # Subject and headings: the mart's totals, not what is listed.
    overdue_n, total_n = CAP + 30, CAP + 35
    assert msg["Subject"] == (
        f"跟进提醒 3月16日（周一）：逾期 {overdue_n} 项、今日到期 5 项（共 {total_n} 项）"
    )
    assert f"已逾期 ({CAP + 30})" in html and f"== 已逾期 ({CAP + 30}) ==" in text
    assert "今日到期 (5)" in html
    # Exactly the first CAP (the default cap) of the mart's order, in that order.
    listed = keys_by_section(html)
    assert listed["overdue"] == [i.lead_key for i in mart_order(overdue)[:CAP]]
    assert listed["due_today"] == [i.lead_key for i in mart_order(due_today)]
    assert more_notes(html) == [30]  # the uncapped section has no note
    assert "另有 30 项未列出" in html and "另有 30 项未列出" in text
    assert f"本类共 {CAP + 30} 项" in text and f"列出 {CAP} 项" in text
    # Where the rest is, said once at the end, not per section.
    assert text.count("marts.ops_owner_queue") == 1
    assert "owner_name = 张伟，as_of = 2026-03-16" in text
    # The plain part lists the same CAP, then the due-today ones, and none of the 30 left out.
    numbered = re.findall(r"^\d+\. (\S+)", text, flags=re.MULTILINE)
    assert numbered == [i.company for i in (*mart_order(overdue)[:CAP], *mart_order(due_today))]
    for item in mart_order(overdue)[CAP:]:
        assert item.company not in text and item.company not in html


def test_cap_follows_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(CAP_ENV, "3")
    rng = random.Random(7)
    items = [
        *random_items("张伟", "overdue", 12, rng),
        *random_items("张伟", "no_plan", 3, rng),  # exactly N: nothing left out
        *random_items("Alice Smith", "due_today", 4, rng),
        *random_items("李娜", "care_due", 2, rng),
    ]
    build_warehouse(tmp_path / "w.duckdb", items)

    send_owner_emails(tmp_path / "w.duckdb", tmp_path / "out", AS_OF, smtp=None)

    received = outbox_messages(tmp_path / "out")
    zhang = html_part(received["zhang.wei@example.com"])
    assert {t: len(keys) for t, keys in keys_by_section(zhang).items()} == {
        "overdue": 3,
        "no_plan": 3,
    }
    assert more_notes(zhang) == [9]
    assert "已逾期 (12)" in zhang and "缺少下一步计划 (3)" in zhang
    alice = received["alice@example.com"]
    assert alice["Subject"] == "Follow-ups Mon 16 Mar: 4 due today (4 items)"
    assert more_notes(html_part(alice)) == [1]
    assert (
        "4 items in this section; the first 3 items by priority are listed above, 1 item not "
        "listed here"
    ) in text_part(alice)
    assert "marts.ops_owner_queue table of the BI snapshot leadflow_marts.duckdb" in text_part(
        alice
    )
    assert more_notes(html_part(received["li.na@example.com"])) == []


@pytest.mark.parametrize("value", ["0", "-1", "ten", "2.5"])
def test_a_cap_that_is_not_a_positive_number_is_a_clear_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv(CAP_ENV, value)
    build_warehouse(tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match=CAP_ENV):
        send_owner_emails(tmp_path / "w.duckdb", tmp_path / "out", AS_OF, smtp=None)


def test_owners_never_mix_when_sections_are_capped(tmp_path, server, monkeypatch):
    monkeypatch.setenv(CAP_ENV, "4")
    handler, smtp = server
    rng = random.Random(8)
    owners = ["张伟", "李娜", "Alice Smith", "rep01", "rep02", "ops"]
    by_owner = {
        owner: [*random_items(owner, "overdue", 10, rng), *random_items(owner, "no_plan", 6, rng)]
        for owner in owners
    }
    # Ownerless rows (NULL, blank, a full-width space) belong to ops, ranked with ops's own.
    for blank in (None, "", "\u3000"):
        by_owner["ops"] += random_items(blank, "overdue", 3, rng)
    all_items = [item for items in by_owner.values() for item in items]
    build_warehouse(tmp_path / "w.duckdb", all_items)

    result = send_owner_emails(tmp_path / "w.duckdb", tmp_path / "out", AS_OF, smtp=smtp)

    assert result.emails_sent == len(owners) and result.failed == 0
    received = handler.by_recipient()
    for owner, own in by_owner.items():
        msg = received[DIRECTORY[owner][0]]
        html, text = html_part(msg), text_part(msg)
        totals = Counter(item.item_type for item in own)
        assert keys_by_section(html) == {
            item_type: [i.lead_key for i in mart_order(own) if i.item_type == item_type][:4]
            for item_type in ("overdue", "no_plan")
        }
        assert more_notes(html) == [totals["overdue"] - 4, totals["no_plan"] - 4]
        assert msg["Subject"] == subject(owner, totals["overdue"], totals["no_plan"])
        foreign = {i.company for i in all_items if i not in own}
        assert not {c for c in foreign if c in html or c in text}, owner


def test_sql_top_n_is_the_python_order_of_the_whole_queue(tmp_path):
    rng = random.Random(9)
    items = [
        *random_items("张伟", "overdue", 300, rng),
        *random_items("张伟", "grade_lead", 40, rng),
        *random_items("张伟", "mystery", 30, rng),  # an unknown type is capped the same way
        *random_items("李娜", "overdue", 50, rng),
    ]
    build_warehouse(tmp_path / "w.duckdb", items)

    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        everything = read_owner_queues(con, AS_OF, max_items_per_section=10_000)
        capped = read_owner_queues(con, AS_OF, max_items_per_section=25)

    for whole, top in zip(everything, capped, strict=True):
        assert whole.counts == top.counts and whole.owner_name == top.owner_name
        for item_type in whole.counts:
            full = [i for i in sorted(whole.items, key=_item_order) if i.item_type == item_type]
            assert [i for i in top.items if i.item_type == item_type] == full[:25]


def test_truncation_note_is_escaped_in_html():
    items = tuple(
        QueueItem(**(dict.fromkeys(QueueItem.__dataclass_fields__) | values))
        for values in (
            {"owner_name": "<i>Ghost</i>", "lead_key": f"L{n}", "item_type": "overdue"}
            for n in range(2)
        )
    )
    queue = OwnerQueue("<i>Ghost</i>", "g@example.com", "en", items, counts={"overdue": 9})
    rendered = render_owner_email(queue, AS_OF, ZoneInfo("Asia/Shanghai"))
    assert "owner_name = &lt;i&gt;Ghost&lt;/i&gt;" in rendered.html
    assert "<i>" not in rendered.html
    assert "owner_name = <i>Ghost</i>" in rendered.text  # plain text is not escaped
    assert "7 items not listed here" in rendered.text
    assert rendered.subject == "Follow-ups Mon 16 Mar: 9 overdue (9 items)"


def test_listing_more_items_than_counted_is_refused():
    item = QueueItem(**(dict.fromkeys(QueueItem.__dataclass_fields__) | {"item_type": "overdue"}))
    with pytest.raises(ValueError, match="more items listed than counted"):
        OwnerQueue("张伟", None, "zh", (item, item), counts={"overdue": 1})
