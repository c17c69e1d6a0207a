"""Helpers for the notify tests: a hand-made warehouse and a real SMTP server on 127.0.0.1.

Kept out of conftest.py (not ours); the test modules import these helpers and wrap them in
fixtures of their own.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import duckdb
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

AS_OF = date(2026, 3, 16)
SCRIPT_COMPANY = "<script>alert(1)</script>"
SMTP_LOGIN = "mailer@example.com"
SMTP_PASSWORD = "s3cret-Pa55word!"

OWNER_QUEUE_COLUMNS = """
    as_of DATE, owner_name VARCHAR, owner_email VARCHAR, owner_language VARCHAR,
    lead_key VARCHAR, item_type VARCHAR, is_new BOOLEAN,
    company VARCHAR, person_name VARCHAR, title VARCHAR, phone VARCHAR, email VARCHAR,
    grade VARCHAR, last_touch_at TIMESTAMP, next_action VARCHAR, next_due DATE,
    days_overdue INTEGER, priority INTEGER, days_past_due INTEGER, due_basis VARCHAR,
    contact_days INTEGER, grade_due_at TIMESTAMP, waiting_since TIMESTAMP, hours_waiting INTEGER,
    routing_unassigned_reason VARCHAR, missing_fields VARCHAR, survey_due_on DATE,
    report_due_on DATE, greeting_due_on DATE, greeting_occasion VARCHAR, content_kind VARCHAR,
    last_content_on DATE, plan_text VARCHAR, follow_up_number INTEGER, goal_source VARCHAR,
    goal_code VARCHAR, plan_goal VARCHAR, record_id VARCHAR, record_at TIMESTAMP,
    record_channel VARCHAR, feedback VARCHAR, vague_reason VARCHAR
"""
QUEUE_COLUMN_NAMES = tuple(
    line.split()[0] for line in OWNER_QUEUE_COLUMNS.replace("\n", " ").split(",") if line.strip()
)

# name -> (email, language, manager, is_active)
DIRECTORY: dict[str, tuple[str, str, str | None, bool]] = {
    "张伟": ("zhang.wei@example.com", "zh", "王经理", True),
    "李娜": ("li.na@example.com", "zh", "王经理", True),
    "Alice Smith": ("alice@example.com", "en", "Bob", True),
    "王芳": ("wang.fang@example.com", "zh", "王经理", True),  # in the directory, no items
    "ops": ("ops@example.com", "zh", None, True),
    **{
        f"rep{i:02d}": (f"rep{i:02d}@example.com", "en" if i % 2 else "zh", None, True)
        for i in range(1, 9)
    },
}
NO_ITEMS_OWNER = "王芳"
UNKNOWN_OWNERS = [("赵六", 3, "referral_2026-03.xlsx"), ("<b>Ghost</b>", 1, "badge_scan.csv")]
# detail: as validation words it (expectations/freshness.py)
STALE_CHANNELS = [
    (
        "badge_scan",
        "badge_scans_expo.csv",
        "latest file loaded 2026-01-30 08:00 UTC, 45.7 days before the cut-off (freshness_days 30)",
    )
]


@dataclass(frozen=True)
class Item:
    """One marts.ops_owner_queue row; the structured columns default to a plausible follow-up."""

    owner_name: str
    lead_key: str
    item_type: str
    company: str
    grade: str | None = "B"
    priority: int = 1
    days_overdue: int | None = None
    person_name: str | None = "陈静"
    title: str | None = "采购总监"
    phone: str | None = "+8613812345678"
    email: str | None = "chen.jing@factory.example.cn"
    next_action: str | None = "发送培训资料"
    is_new: bool = False
    as_of: date = AS_OF
    due_basis: str | None = None  # follow-ups: agreed when next_action is set, else cadence
    contact_days: int | None = 14
    grade_due_at: datetime | None = None
    waiting_since: datetime | None = None
    hours_waiting: int | None = None
    routing_unassigned_reason: str | None = None
    missing_fields: str | None = None
    survey_due_on: date | None = None
    report_due_on: date | None = None
    greeting_due_on: date | None = None
    greeting_occasion: str | None = None
    content_kind: str | None = None
    last_content_on: date | None = None
    last_touch_at: datetime | None = datetime(2026, 3, 2, 6, 30)  # naive UTC: 14:30 Shanghai
    next_due: date | None = None  # None: as_of - days_overdue (0 when not overdue)
    # R6 on follow-ups: the plan, and the goal from the seed (goal_code) or the plan (plan_goal)
    plan_text: str | None = None
    follow_up_number: int | None = None
    goal_code: str | None = None
    plan_goal: str | None = None
    goal_source: str | None = None  # None: plan when plan_goal, seed when goal_code
    # R7 on specify_record items: the follow-up record to make specific
    record_id: str | None = None
    record_at: datetime | None = None
    record_channel: str | None = None
    feedback: str | None = None
    vague_reason: str | None = None


def default_items() -> list[Item]:
    """Many owners, both languages, an ops item, a <script> company and a stale-date row."""
    waited = {"waiting_since": datetime(2026, 3, 13, 2, 0), "hours_waiting": 70}
    items = [
        Item("张伟", "L0001", "overdue", "苏州精密制造有限公司", "A", 1, 9),
        Item("张伟", "L0002", "overdue", SCRIPT_COMPANY, "A", 2, 3, phone="+8613900001111"),
        Item("张伟", "L0003", "overdue", "宁波纺织集团", "B", 3, 12, next_action=None),
        Item("张伟", "L0004", "due_today", "杭州云软件公司", "B", 4, 0),
        Item("张伟", "L0005", "no_plan", "深圳电子有限公司", "C", 5, next_action=None),
        Item(
            "张伟", "L0006", "grade_lead", "广州物流有限公司", None, 6, is_new=True,
            grade_due_at=datetime(2026, 3, 14, 2, 0), **waited,
        ),
        Item(
            "李娜", "L0101", "care_due", "上海医疗器械公司", "A", 1,
            survey_due_on=date(2026, 3, 31), report_due_on=date(2026, 3, 31),
        ),
        Item(
            "李娜", "L0102", "nurture_due", "北京教育科技", "A", 2, content_kind="case_study",
            last_content_on=date(2026, 2, 1),
        ),
        Item(
            "李娜", "L0103", "complete_record", "天津化工厂", "B", 3, phone=None,
            missing_fields="contact", email=None, **waited,
        ),
        Item("Alice Smith", "L0201", "overdue", "Acme Robotics Ltd", "B", 1, 5,
             person_name="Jane Doe", title="CTO", next_action="Send the pricing sheet"),
        Item("Alice Smith", "L0202", "due_today", "Globex Trading", "A", 2, 0,
             person_name="John Roe", title="Buyer", next_action=None),
        Item("Alice Smith", "L0203", "due_today", "Initech Systems", "C", 3, 0,
             person_name="Ann Poe", title="CFO", next_action="Call about the demo"),
        Item(
            "ops", "L0301", "complete_record", "无主线索贸易公司", None, 1,
            missing_fields="person_name, contact", person_name=None, phone=None, email=None,
        ),
        Item(
            "ops", "L0302", "grade_lead", "Orphan Imports", None, 2, is_new=True,
            routing_unassigned_reason="no_rule_matched",
            grade_due_at=datetime(2026, 3, 16, 1, 0), waiting_since=datetime(2026, 3, 15, 1, 0),
            hours_waiting=15,
        ),
        # Yesterday's queue: must never reach today's email.
        Item(
            "张伟", "L0999", "overdue", "昨日遗留公司", "A", 1, 1, as_of=AS_OF - timedelta(days=1)
        ),
    ]  # fmt: skip
    for i in range(1, 9):
        for j in range(1, i % 3 + 2):
            kind = ("overdue", "due_today", "no_plan")[j % 3]
            items.append(Item(f"rep{i:02d}", f"R{i:02d}{j:02d}", kind, f"Rep{i:02d}-Firm-{j:02d}"))
    return items


def todays_items(items: list[Item]) -> list[Item]:
    return [item for item in items if item.as_of == AS_OF]


def build_warehouse(path: Path, items: list[Item] | None = None) -> Path:
    """A DuckDB file with the three marts notify reads, filled with `items`."""
    items = default_items() if items is None else items
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"CREATE TABLE marts.ops_owner_queue ({OWNER_QUEUE_COLUMNS})")
        con.execute(
            "CREATE TABLE marts.dim_owners (owner_name VARCHAR, email VARCHAR, language VARCHAR, "
            "manager VARCHAR, is_active BOOLEAN)"
        )
        con.execute(
            "CREATE TABLE marts.ops_unknown_owner_names "
            "(owner_name VARCHAR, record_count BIGINT, files VARCHAR)"
        )
        con.executemany(
            "INSERT INTO marts.dim_owners VALUES (?, ?, ?, ?, ?)",
            [(name, *entry) for name, entry in DIRECTORY.items()],
        )
        con.executemany(
            "INSERT INTO marts.ops_unknown_owner_names VALUES (?, ?, ?)", UNKNOWN_OWNERS
        )
        con.execute(
            "CREATE TABLE marts.ops_stale_channels "
            "(as_of DATE, channel VARCHAR, last_file_name VARCHAR, detail VARCHAR)"
        )
        con.executemany(
            "INSERT INTO marts.ops_stale_channels VALUES (?, ?, ?, ?)",
            [(AS_OF, *stale) for stale in STALE_CHANNELS]
            + [(AS_OF.replace(day=1), "web_form", None, "an older run's finding")],
        )
        placeholders = ", ".join("?" for _ in QUEUE_COLUMN_NAMES)
        con.executemany(
            f"INSERT INTO marts.ops_owner_queue VALUES ({placeholders})",
            [_queue_row(item) for item in items],
        )
    return path


FOLLOW_UPS = ("overdue", "due_today", "no_plan")


def _queue_row(item: Item) -> tuple:
    """The row as the mart builds it: follow-up columns only on follow-ups (ops_owner_queue.yml)."""
    email, language = DIRECTORY.get(item.owner_name, ("ops@example.com", "zh"))[:2]
    follow_up = item.item_type in FOLLOW_UPS
    days = item.days_overdue
    next_due = item.next_due or (item.as_of - timedelta(days=days or 0))
    basis = item.due_basis or ("agreed" if item.next_action else "cadence")
    values = {
        **{name: getattr(item, name, None) for name in QUEUE_COLUMN_NAMES},
        "owner_email": email,
        "owner_language": language,
        "next_due": next_due if item.item_type != "complete_record" else None,
        "days_overdue": (days or 0) if follow_up else None,
        "days_past_due": days,
        "due_basis": basis if follow_up else None,
        "contact_days": item.contact_days if follow_up else None,
        "last_touch_at": item.last_touch_at if follow_up else None,
        "goal_source": (
            item.goal_source or ("plan" if item.plan_goal else "seed" if item.goal_code else None)
        )
        if follow_up
        else None,
    }
    return tuple(values[name] for name in QUEUE_COLUMN_NAMES)


def ledger_rows(warehouse: Path) -> dict[str, tuple]:
    """owner_name -> (status, message_id, error) of the ledger rows for AS_OF."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT owner_name, status, message_id, error FROM mail.send_ledger "
            "WHERE business_date = ?",
            [AS_OF],
        ).fetchall()
    return {name: (status, msg_id, error) for name, status, msg_id, error in rows}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RecordingHandler:
    """Stores every accepted message; `refusals[address]` replies to that address's next RCPTs."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refusals: dict[str, list[str]] = field(default_factory=dict)
    rcpt_attempts: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpt_attempts.append(address)
        planned = self.refusals.get(address)
        if planned:
            return planned.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def by_recipient(self) -> dict[str, EmailMessage]:
        found: dict[str, EmailMessage] = {}
        for _, rcpts, msg in self.messages:
            for rcpt in rcpts:
                assert rcpt not in found, f"{rcpt} received two messages"
                found[rcpt] = msg
        return found


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == SMTP_LOGIN
        and auth_data.password.decode() == SMTP_PASSWORD
    )
    # handled=False: let aiosmtpd send the 535 reply itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def start_smtp(handler: RecordingHandler, port: int, *, require_auth: bool = False) -> Controller:
    kwargs = {"auth_require_tls": False}
    if require_auth:
        kwargs |= {"authenticator": _authenticate, "auth_required": True}
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller


def html_part(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


def text_part(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()
