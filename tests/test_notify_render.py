"""Rendering, message encoding, ordering and redaction, without a server."""

from __future__ import annotations

import re
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import duckdb
import pytest

from notify import send_owner_emails
from notify.deliver import DeliveryError, build_message, message_id
from notify.queue import OwnerQueue, QueueItem, normalise_language
from notify.redact import mask_phone, redact
from notify.render import render_owner_email
from tests.notify_fixtures import AS_OF, Item, build_warehouse, ledger_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def item(lead_key: str, item_type: str, priority: int | None, **values) -> QueueItem:
    fields = dict.fromkeys(QueueItem.__dataclass_fields__)
    fields |= {"owner_name": "张伟", "lead_key": lead_key, "item_type": item_type}
    fields |= {"priority": priority, "company": f"Co-{lead_key}"} | values
    return QueueItem(**fields)


def queue(*items: QueueItem, language: str = "zh") -> OwnerQueue:
    return OwnerQueue("张伟", "zhang.wei@example.com", language, tuple(items))


def test_mask_phone_keeps_only_prefix_and_last_four():
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone(None) == ""


def test_redact_masks_phones_and_secrets_but_not_dates():
    line = "to +86 138 1234 5678 / 010-6552-9988 with hunter22 on 2026-03-16"
    assert redact(line, "hunter22", None) == (
        "to +86138****5678 / 010****9988 with *** on 2026-03-16"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), ("en-US", "en"), ("English", "en"), ("zh", "zh"), ("", "zh"), (None, "zh")],
)
def test_language_defaults_to_chinese(value, expected):
    assert normalise_language(value) == expected


def test_items_with_only_required_fields_render_in_both_languages():
    bare = item("L1", "no_plan", None)
    for language in ("zh", "en"):
        rendered = render_owner_email(queue(bare, language=language), AS_OF, SHANGHAI)
        assert "Co-L1" in rendered.text and "Co-L1" in rendered.html
        assert "None" not in rendered.text and "None" not in rendered.html


def test_unknown_item_type_gets_its_own_section_last():
    rendered = render_owner_email(
        queue(item("L2", "mystery", 1), item("L1", "overdue", 1, days_overdue=2)), AS_OF, SHANGHAI
    )
    assert re.findall(r'data-item-type="([^"]+)"', rendered.html) == ["overdue", "mystery"]


def test_last_touch_shown_in_business_time():
    touched = item("L1", "overdue", 1, last_touch_at=datetime(2026, 3, 15, 17, 5))
    assert (
        "上次跟进：2026年3月16日 01:05" in render_owner_email(queue(touched), AS_OF, SHANGHAI).text
    )


def test_headers_are_rfc2047_and_bodies_utf8():
    rendered = render_owner_email(queue(item("L1", "overdue", 1, days_overdue=4)), AS_OF, SHANGHAI)
    msg = build_message(
        rendered,
        owner_name="张伟",
        owner_email="zhang.wei@example.com",
        from_address="销售助手 <leadflow@example.com>",
        msg_id=message_id("张伟", AS_OF, "leadflow@example.com"),
        as_of=AS_OF,
    )
    raw = msg.as_bytes()
    raw.decode("ascii")  # 7-bit clean on the wire: encoded words and base64 only
    assert b"=?utf-8?" in raw
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == "跟进提醒 3月16日（周一）：逾期 1 项（共 1 项）"
    assert str(parsed["To"]) == "张伟 <zhang.wei@example.com>"
    assert parsed["Message-ID"] == message_id("张伟", AS_OF, "leadflow@example.com")


def test_message_id_is_per_owner_and_date_unless_resent():
    one = message_id("张伟", AS_OF, "a@example.com")
    assert one == message_id("张伟", AS_OF, "a@example.com")
    assert one.endswith("@example.com>")
    assert one != message_id("李娜", AS_OF, "a@example.com")
    assert one != message_id("张伟", date(2026, 3, 17), "a@example.com")
    assert one != message_id("张伟", AS_OF, "a@example.com", resend=True)


def test_owner_without_valid_address_is_recorded_as_failed(tmp_path):
    # "nobody" is not in the directory, so the queue's own owner_email is used.
    warehouse = build_warehouse(tmp_path / "w.duckdb", [Item("nobody", "L1", "overdue", "X")])
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE marts.ops_owner_queue SET owner_email = 'not-an-address'")

    result = send_owner_emails(warehouse, tmp_path / "out", AS_OF, smtp=None)
    assert result.failed == 1
    status, _, error = ledger_rows(warehouse)["nobody"]
    assert status == "failed" and "no valid email address" in error
    with pytest.raises(DeliveryError):
        build_message(
            render_owner_email(queue(), AS_OF, SHANGHAI),
            owner_name="x",
            owner_email="x",
            from_address="a@b.c",
            msg_id="<id@b.c>",
            as_of=AS_OF,
        )
