"""End to end: marts in a real DuckDB file, mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

import notify.deliver
from notify import SmtpSettings, send_owner_emails
from notify.queue import WarehouseNotReadyError
from tests.notify_fixtures import (
    AS_OF,
    DIRECTORY,
    NO_ITEMS_OWNER,
    SCRIPT_COMPANY,
    SMTP_LOGIN,
    SMTP_PASSWORD,
    STALE_CHANNELS,
    UNKNOWN_OWNERS,
    Item,
    RecordingHandler,
    build_warehouse,
    default_items,
    free_port,
    html_part,
    ledger_rows,
    start_smtp,
    text_part,
    todays_items,
)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify.deliver, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "leadflow.duckdb")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def server(handler: RecordingHandler, port: int) -> Iterator[RecordingHandler]:
    controller = start_smtp(handler, port)
    yield handler
    controller.stop()


def settings(port: int, **changes) -> SmtpSettings:
    values = {
        "host": "127.0.0.1",
        "port": port,
        "login": None,
        "password": None,
        "starttls": False,
        "ssl": False,
        "from_address": "销售助手 <leadflow@example.com>",
        "timeout": 5,
    }
    return SmtpSettings(**(values | changes))


def send(warehouse: Path, tmp_path: Path, smtp: SmtpSettings | None, **kwargs) -> dict:
    return send_owner_emails(warehouse, tmp_path / "outbox", AS_OF, smtp=smtp, **kwargs)


def owners_with_mail() -> set[str]:
    return {item.owner_name for item in todays_items(default_items())}


def lead_keys_in(html: str) -> list[str]:
    return re.findall(r'data-lead-key="([^"]+)"', html)


def test_each_owner_gets_exactly_their_own_items(warehouse, tmp_path, server, port):
    result = send(warehouse, tmp_path, settings(port))

    items = todays_items(default_items())
    expected = owners_with_mail()
    assert result.emails_sent == len(expected) == len(server.messages)
    assert result.failed == result.skipped_already_sent == result.emails_written == 0
    assert sorted(result.owners) == sorted(expected)
    received = server.by_recipient()
    assert set(received) == {DIRECTORY[name][0] for name in expected}
    assert DIRECTORY[NO_ITEMS_OWNER][0] not in received
    for owner in expected:
        msg = received[DIRECTORY[owner][0]]
        html, text = html_part(msg), text_part(msg)
        own = [i for i in items if i.owner_name == owner]
        # Same number of items as mart rows for that owner, and exactly those leads.
        assert sorted(lead_keys_in(html)) == sorted(i.lead_key for i in own)
        foreign = {i.company for i in default_items() if i.owner_name != owner}
        for company in foreign:
            assert company not in html and company not in text, (owner, company)
        for item in own:
            assert item.company in text


def test_subject_and_parts_in_chinese(warehouse, tmp_path, server, port):
    send(warehouse, tmp_path, settings(port))

    msg = server.by_recipient()["zhang.wei@example.com"]
    # 3 overdue, 1 due today, 6 items in all for 张伟 (yesterday's row excluded): the subject
    # names the first three sections with their heading counts.
    assert (
        msg["Subject"]
        == "跟进提醒 3月16日（周一）：逾期 3 项、今日到期 1 项、缺少计划 1 项（共 6 项）"
    )
    assert msg["To"].addresses[0].display_name == "张伟"
    assert msg["From"].addresses[0].display_name == "销售助手"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, html = text_part(msg), html_part(msg)
    assert "苏州精密制造有限公司" in text and "苏州精密制造有限公司" in html
    assert "张伟，您好" in text and "已逾期 (3)" in html and "今日到期 (1)" in html
    assert "应于3月7日（周六）跟进，已逾期 9 天" in text
    assert "上次跟进：2026年3月2日 14:30" in text  # last touch in business time, not UTC
    assert "昨日遗留公司" not in text


def test_sections_follow_item_types_and_mart_priority(warehouse, tmp_path, server, port):
    send(warehouse, tmp_path, settings(port))

    html = html_part(server.by_recipient()["zhang.wei@example.com"])
    sections = re.findall(r'data-item-type="([^"]+)"', html)
    assert sections == ["overdue", "due_today", "no_plan", "grade_lead"]
    # Overdue by the mart's priority (A first), not by days overdue alone.
    assert lead_keys_in(html)[:3] == ["L0001", "L0002", "L0003"]


def test_english_owner_gets_english_email(warehouse, tmp_path, server, port):
    send(warehouse, tmp_path, settings(port))

    msg = server.by_recipient()["alice@example.com"]
    assert msg["Subject"] == "Follow-ups Mon 16 Mar: 1 overdue, 2 due today (3 items)"
    text = text_part(msg)
    assert text.startswith("Hello Alice Smith,")
    assert "== Overdue (1) ==" in text and "== Due today (2) ==" in text
    assert "Due Wed 11 Mar, 5 days overdue" in text
    assert "Contact: Jane Doe / CTO" in text and "Agreed next step: Send the pricing sheet" in text
    assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]", text + msg["Subject"])


def test_ops_gets_ownerless_items_and_unknown_owner_names(warehouse, tmp_path, server, port):
    send(warehouse, tmp_path, settings(port))

    msg = server.by_recipient()["ops@example.com"]
    html, text = html_part(msg), text_part(msg)
    assert sorted(lead_keys_in(html)) == ["L0301", "L0302"]
    assert "名录中没有的负责人姓名 (2)" in text
    for name, count, files in UNKNOWN_OWNERS:
        assert f"- {name}（{count} 条记录）：{files}" in text
    assert "&lt;b&gt;Ghost&lt;/b&gt;" in html and "<b>Ghost</b>" not in html
    # Stale channels of this date (not of older runs) are an ops item too (issue 4).
    channel, last_file, _ = STALE_CHANNELS[0]
    assert "没有按时收到新文件的渠道 (1)" in text
    assert (
        f"- {channel}：最近的文件 {last_file} 载入于2026年1月30日 16:00，已有 45 天没有新文件"
        "（约定 30 天内至少一个）"
    ) in text
    # The subject counts what the body shows: two items and three names or channels.
    assert msg["Subject"] == (
        "跟进提醒 3月16日（周一）：待分级 1 项、待补全 1 项、名录外姓名 2 项（共 5 项）"
    )
    assert "web_form" not in text
    # Nobody else hears about unknown owners or stale channels.
    for address, other in server.by_recipient().items():
        if address != "ops@example.com":
            assert "赵六" not in text_part(other)
            assert "badge_scans_expo.csv" not in text_part(other)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_values_are_html_escaped(warehouse, tmp_path, server, port):
    send(warehouse, tmp_path, settings(port))

    msg = server.by_recipient()["zhang.wei@example.com"]
    html = html_part(msg)
    assert SCRIPT_COMPANY not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = _Elements()
    parsed.feed(html)
    assert "script" not in parsed.tags
    assert SCRIPT_COMPANY in "".join(parsed.text)  # arrives as text
    assert SCRIPT_COMPANY in text_part(msg)  # the plain part is not escaped
    # Nothing external: no scripts, images, fonts or style sheets to fetch.
    assert not parsed.tags & {"img", "link", "iframe", "object"}
    assert "http" not in html


def test_rerun_sends_nothing_and_resend_sends_again(warehouse, tmp_path, server, port):
    first = send(warehouse, tmp_path, settings(port))
    ids = {name: row[1] for name, row in ledger_rows(warehouse).items()}
    n = len(owners_with_mail())
    assert first.emails_sent == n

    again = send(warehouse, tmp_path, settings(port))
    assert again.emails_sent == 0 and again.skipped_already_sent == n
    assert len(server.messages) == n

    forced = send(warehouse, tmp_path, settings(port), resend=True)
    assert forced.emails_sent == n and forced.skipped_already_sent == 0
    assert len(server.messages) == 2 * n
    rows = ledger_rows(warehouse)
    assert {row[0] for row in rows.values()} == {"sent"}
    # A deliberate resend is a new message: clients drop a repeated Message-ID.
    assert all(rows[name][1] != ids[name] for name in rows)


def test_recovers_after_server_was_down(warehouse, tmp_path, handler, port, caplog):
    caplog.set_level(logging.INFO, logger="notify")
    down = send(warehouse, tmp_path, settings(port), max_attempts=2)

    n = len(owners_with_mail())
    assert down.failed == n and down.emails_sent == 0
    rows = ledger_rows(warehouse)
    assert {row[0] for row in rows.values()} == {"failed"}
    assert all(
        f"127.0.0.1:{port} unreachable after 2 attempt(s)" in row[2] for row in rows.values()
    )
    # Gave up on the first owner, then did not hammer the dead server for the others.
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 1

    controller = start_smtp(handler, port)
    try:
        up = send(warehouse, tmp_path, settings(port))
    finally:
        controller.stop()
    assert up.emails_sent == n and up.failed == 0
    assert len(handler.by_recipient()) == n
    after = ledger_rows(warehouse)
    assert {row[0] for row in after.values()} == {"sent"}
    assert all(after[name][2] is None for name in after)
    # The Message-ID is per owner and date, the same on the retry.
    assert {name: row[1] for name, row in after.items()} == {
        name: row[1] for name, row in rows.items()
    }


def test_partial_failure_retry_sends_only_the_unsent(warehouse, tmp_path, server, port):
    server.refusals["li.na@example.com"] = ["550 5.1.1 mailbox unavailable"]
    first = send(warehouse, tmp_path, settings(port))

    n = len(owners_with_mail())
    assert first.failed == 1 and first.emails_sent == n - 1
    status, _, error = ledger_rows(warehouse)["李娜"]
    assert status == "failed"
    assert f"127.0.0.1:{port} refused the recipient" in error and "550" in error
    assert server.rcpt_attempts.count("li.na@example.com") == 1  # 5xx is not retried

    retry = send(warehouse, tmp_path, settings(port))
    assert (retry.emails_sent, retry.failed, retry.skipped_already_sent) == (1, 0, n - 1)
    assert [rcpts for _, rcpts, _ in server.messages].count(["li.na@example.com"]) == 1
    assert len(server.messages) == n


def test_temporary_refusal_is_retried_within_the_run(warehouse, tmp_path, server, port):
    server.refusals["alice@example.com"] = ["451 4.3.0 try again later"] * 2
    result = send(warehouse, tmp_path, settings(port), max_attempts=3)

    assert result.failed == 0 and result.emails_sent == len(owners_with_mail())
    assert server.rcpt_attempts.count("alice@example.com") == 3
    assert "alice@example.com" in server.by_recipient()


def test_temporary_refusal_beyond_max_attempts_fails_only_that_owner(
    warehouse, tmp_path, server, port
):
    server.refusals["alice@example.com"] = ["451 4.3.0 try again later"] * 5
    result = send(warehouse, tmp_path, settings(port), max_attempts=2)

    assert result.failed == 1 and result.emails_sent == len(owners_with_mail()) - 1
    assert server.rcpt_attempts.count("alice@example.com") == 2
    assert ledger_rows(warehouse)["Alice Smith"][0] == "failed"


def test_outbox_eml_files_when_no_smtp(warehouse, tmp_path):
    result = send(warehouse, tmp_path, None)

    n = len(owners_with_mail())
    assert result.emails_written == n and result.emails_sent == 0
    files = sorted((tmp_path / "outbox" / AS_OF.isoformat()).glob("*.eml"))
    assert len(files) == n
    parsed = {
        msg["To"].addresses[0].addr_spec: msg
        for msg in (BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files)
    }
    assert set(parsed) == {DIRECTORY[name][0] for name in owners_with_mail()}
    zhang = parsed["zhang.wei@example.com"]
    assert zhang["Subject"].startswith("跟进提醒 3月16日（周一）：逾期 3 项")
    assert "苏州精密制造有限公司" in text_part(zhang)
    assert {row[0] for row in ledger_rows(warehouse).values()} == {"written"}
    assert send(warehouse, tmp_path, None).emails_written == 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_logs_hold_no_password_and_no_full_phone(tmp_path, handler, port, caplog):
    caplog.set_level(logging.DEBUG, logger="notify")
    warehouse = build_warehouse(tmp_path / "w.duckdb")
    controller = start_smtp(handler, port, require_auth=True)
    try:
        wrong = settings(port, login=SMTP_LOGIN, password="wrong-" + SMTP_PASSWORD)
        refused = send(warehouse, tmp_path, wrong)
        ok = send(warehouse, tmp_path, settings(port, login=SMTP_LOGIN, password=SMTP_PASSWORD))
    finally:
        controller.stop()

    n = len(owners_with_mail())
    assert refused.failed == n and ok.emails_sent == n
    # The success run replaced the failures in the ledger: the logs keep the refusal.
    assert {row[0] for row in ledger_rows(warehouse).values()} == {"sent"}
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("notify")]
    log_text = "\n".join(messages)
    assert f"127.0.0.1:{port} refused the login of '{SMTP_LOGIN}'" in log_text
    assert "items sent" in log_text  # the logs were captured, so the checks below can fail
    assert SMTP_PASSWORD not in log_text
    phones = {item.phone for item in default_items() if item.phone}
    for phone in phones:
        assert phone not in log_text and phone.lstrip("+") not in log_text
    assert SMTP_PASSWORD not in repr(wrong)


def test_owner_without_items_gets_no_mail_and_empty_day_sends_nothing(tmp_path, caplog):
    warehouse = build_warehouse(tmp_path / "w.duckdb", [Item("张伟", "L1", "overdue", "X公司")])
    result = send_owner_emails(warehouse, tmp_path / "out", AS_OF.replace(day=20), smtp=None)

    assert result.owners == ["ops"]  # only ops, for the unknown owner names
    assert "marts built for another date" in caplog.text


def test_missing_marts_are_a_clear_error(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(WarehouseNotReadyError, match="marts.ops_owner_queue"):
        send(empty, tmp_path, None)
    with pytest.raises(FileNotFoundError):
        send(tmp_path / "missing.duckdb", tmp_path, None)
