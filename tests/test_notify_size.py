"""Bounded size: every field shortened in mail, the HTML under 100 KB at the default caps.

The fields are as long as the caps allow and made of the characters that cost the most bytes in
HTML (`&`, `<`, `"` escape to 4-5 bytes, an emoji is 4), in a real DuckDB file delivered over a
real SMTP server; one company name is 3,000,000 characters, as a real export carried.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import duckdb
import pytest

from leadflow.core.settings import (
    DEFAULT_MAIL_MAX_FIELD_CHARS,
    DEFAULT_MAIL_MAX_ITEMS,
    DEFAULT_MAIL_MAX_ITEMS_PER_SECTION,
)
from notify import send_owner_emails
from notify.queue import ITEM_TYPES, read_owner_queues
from tests.notify_fixtures import (
    AS_OF,
    Item,
    build_warehouse,
    html_part,
    text_part,
)

GMAIL_CLIPS_AT = 100 * 1024  # Gmail hides the rest of an HTML part beyond about 102 KB
COSTLY = '&<"😀'  # 18 bytes of HTML for 4 characters
HUGE = "公" * 3_000_000
CAP_VARIABLES = (
    "LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION",
    "LEADFLOW_MAIL_MAX_ITEMS",
    "LEADFLOW_MAIL_MAX_FIELD_CHARS",
)


@pytest.fixture(autouse=True)
def default_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CAP_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def longest(n: int = 10_000) -> str:
    return (COSTLY * (n // len(COSTLY) + 1))[:n]


def longest_items(owner: str) -> list[Item]:
    """More items than any cap lets through, in every section, every field at its longest."""
    value = longest()
    coded = {
        "missing_fields": "person_name, company, contact",
        "routing_unassigned_reason": "pool_full",
        "greeting_occasion": "spring_festival",
        "content_kind": "case_study",
        "survey_due_on": AS_OF,
        "report_due_on": AS_OF,
        "greeting_due_on": AS_OF,
    }
    items = [
        Item(
            owner, f"{value[:200]}-{item_type}-{n:03d}", item_type, value, "A", n + 1, 5,
            person_name=value, title=value, phone=value, email=value, next_action=value, **coded,
        )
        for item_type in ITEM_TYPES
        for n in range(DEFAULT_MAIL_MAX_ITEMS_PER_SECTION + 5)
    ]  # fmt: skip
    items[0] = Item(owner, "huge", "overdue", HUGE, "A", 1, 90, next_action=HUGE)
    return items


def test_longest_fields_stay_under_100_kb_and_are_shortened(tmp_path: Path, server) -> None:
    handler, smtp = server
    warehouse = build_warehouse(tmp_path / "w.duckdb", longest_items("张伟"))
    with duckdb.connect(str(warehouse)) as con:  # ops' lists at their longest too
        con.execute("DELETE FROM marts.ops_unknown_owner_names")
        con.executemany(
            "INSERT INTO marts.ops_unknown_owner_names VALUES (?, ?, ?)",
            [(f"{longest(5000)}{n}", n, HUGE[:100_000]) for n in range(60)],
        )

    result = send_owner_emails(warehouse, tmp_path / "out", AS_OF, smtp=smtp)

    assert result.emails_sent == 2 and result.failed == 0
    for address, msg in handler.by_recipient().items():
        html = html_part(msg)
        size = len(html.encode("utf-8"))
        print(f"{address}: HTML {size:,} bytes, plain text {len(text_part(msg).encode()):,}")
        assert size < GMAIL_CLIPS_AT, address
    ops = html_part(handler.by_recipient()["ops@example.com"])
    assert ops.count('data-entry="unknown_owners"') == DEFAULT_MAIL_MAX_ITEMS_PER_SECTION
    assert (
        "名录中没有的负责人姓名 (60)" in ops and "BI 快照的 marts.ops_unknown_owner_names 表" in ops
    )
    zhang = html_part(handler.by_recipient()["zhang.wei@example.com"])
    listed = re.findall(r'data-lead-key="([^"]*)"', zhang)
    assert len(listed) == DEFAULT_MAIL_MAX_ITEMS  # shared out over the seven sections
    assert re.findall(r'data-item-type="([^"]+)"', zhang) == list(ITEM_TYPES)
    # Every section shows its whole count, and says how many it does not list.
    total = DEFAULT_MAIL_MAX_ITEMS_PER_SECTION + 5
    assert all(f"({total})</h2>" in zhang for _ in ITEM_TYPES)
    notes = [int(n) for n in re.findall(r'data-more-items="(\d+)"', zhang)]
    assert sum(notes) == len(ITEM_TYPES) * total - DEFAULT_MAIL_MAX_ITEMS
    # No value is longer than the cap (an ellipsis marks each cut); the 3M characters never show.
    assert "公" * (DEFAULT_MAIL_MAX_FIELD_CHARS + 1) not in zhang
    assert "公" * (DEFAULT_MAIL_MAX_FIELD_CHARS - 1) + "…" in zhang
    assert "&amp;&lt;&#34;😀" * (DEFAULT_MAIL_MAX_FIELD_CHARS // 4 + 1) not in zhang


def test_long_values_are_read_cut_and_the_warehouse_keeps_them_whole(tmp_path: Path) -> None:
    warehouse = build_warehouse(tmp_path / "w.duckdb", longest_items("张伟")[:3])
    with duckdb.connect(str(warehouse)) as con:
        (queue,) = [
            q
            for q in read_owner_queues(
                con,
                AS_OF,
                max_items_per_section=DEFAULT_MAIL_MAX_ITEMS_PER_SECTION,
                max_field_chars=DEFAULT_MAIL_MAX_FIELD_CHARS,
            )
            if q.owner_name == "张伟"
        ]
        whole = con.execute(
            "SELECT length(company) FROM marts.ops_owner_queue WHERE lead_key = 'huge'"
        ).fetchone()[0]
    assert whole == len(HUGE)
    huge = next(i for i in queue.items if i.lead_key == "huge")
    assert len(huge.company) == DEFAULT_MAIL_MAX_FIELD_CHARS + 1  # one past: the cut shows
    assert len(huge.next_action) == DEFAULT_MAIL_MAX_FIELD_CHARS + 1


def test_field_cap_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MAIL_MAX_FIELD_CHARS", "12")
    warehouse = build_warehouse(
        tmp_path / "w.duckdb",
        [Item("张伟", "L1", "overdue", "苏州精密制造有限公司华东分公司", "A", 1, 3)],
    )
    send_owner_emails(warehouse, tmp_path / "out", AS_OF, smtp=None)
    (eml,) = (tmp_path / "out").rglob("*张伟*.eml")
    plain = text_part(BytesParser(policy=policy.default).parsebytes(eml.read_bytes()))
    assert "1. 苏州精密制造有限公司华…" in plain
