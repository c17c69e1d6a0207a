"""Sample queues with every item type and every coded value, in each language's own data.

Used by the language, link and size tests and by tests/mail_browser.py (docs screenshots). The
data values are listed (`DATA_VALUES`) so a test can tell the email's own words from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from notify.queue import OwnerQueue, QueueItem, StaleChannel, UnknownOwner
from notify.render import RenderedEmail, render_new_leads_email, render_owner_email

AS_OF = date(2026, 3, 16)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class People:
    """One language's data: what an export for such owners would hold."""

    owner: str
    companies: tuple[str, ...]
    person: str
    title: str
    action: str
    email: str
    unknown_owner: str
    plan: str  # a plan naming no goal of its own (the seed's goal shows, R6)
    plan_with_goal: str  # a plan stating its goal (it shows instead)
    plan_goal: str
    vague: str  # feedback that says nothing specific (R7)


PEOPLE = {
    "zh": People(
        owner="张伟",
        companies=("苏州精密制造有限公司", "宁波纺织集团", "杭州云软件公司", "深圳电子有限公司"),
        person="陈静",
        title="采购总监",
        action="发送培训资料",
        email="chen.jing@factory.example.cn",
        unknown_owner="赵六",
        plan="每两周1次电话，每月1次邮件推送产品动态",
        plan_with_goal="每周1次电话+方案演示；目标：敲定试点范围",
        plan_goal="敲定试点范围",
        vague="客户有兴趣",
    ),
    "en": People(
        owner="Alice Smith",
        companies=("Acme Robotics", "Globex Trading", "Initech Systems", "Umbrella Labs"),
        person="Jane Doe",
        title="Head of Purchasing",
        action="Send the training plan",
        email="jane.doe@acme.example.com",
        unknown_owner="Bob Ghost",
        plan="A call every two weeks, product news monthly",
        plan_with_goal="Weekly call and demo; goal: agree the pilot scope",
        plan_goal="agree the pilot scope",
        vague="customer interested",
    ),
}
PHONE = "+8613812345678"
LANDLINE = "+861065529988"
MASKED_PHONE = "138****5678"
FILES = "referral_2026-03.xlsx, badge_scan.csv"
CHANNELS = ("badge_scan", "web_form", "care_action")
LAST_FILE = "badge_scans_expo.csv"
STALE_DETAIL = (
    "latest file loaded 2026-01-30 08:00 UTC, 45.7 days before the cut-off (freshness_days 30)"
)


def item(lead_key: str, item_type: str, people: People, n: int, **values: object) -> QueueItem:
    base = dict.fromkeys(QueueItem.__dataclass_fields__)
    base |= {
        "owner_name": people.owner,
        "lead_key": lead_key,
        "item_type": item_type,
        "company": people.companies[n % len(people.companies)],
        "person_name": people.person,
        "title": people.title,
        "phone": PHONE,
        "email": people.email,
        "grade": "A",
        "priority": n,
    }
    return QueueItem(**(base | values))


def every_item(language: str) -> list[QueueItem]:
    """Every item type, every due basis, reason, missing field, occasion and content kind."""
    p = PEOPLE[language]
    touched = datetime(2026, 3, 2, 6, 30)
    follow_up = {"last_touch_at": touched, "contact_days": 7}
    waited = {"waiting_since": datetime(2026, 3, 13, 2), "hours_waiting": 70}
    seed_goal = {"plan_text": p.plan, "follow_up_number": 2, "goal_source": "seed",
                 "goal_code": "quote"}  # fmt: skip
    rows = [
        ("overdue", {"due_basis": "agreed", "next_action": p.action, "days_overdue": 9,
                     **seed_goal}),  # fmt: skip
        ("overdue", {"due_basis": "agreed", "next_action": None, "days_overdue": 1}),
        ("overdue", {"due_basis": "cadence", "days_overdue": 3, "grade": "B"}),
        ("overdue", {"due_basis": "cadence", "days_overdue": 40, "last_touch_at": None}),
        ("overdue", {"due_basis": "cadence", "days_overdue": 2, "grade": None}),
        ("due_today", {"due_basis": "agreed", "next_action": p.action, "days_overdue": 0}),
        ("due_today", {"due_basis": "cadence", "days_overdue": 0, "phone": LANDLINE}),
        ("no_plan", {"due_basis": "cadence", "days_overdue": 0, "phone": MASKED_PHONE}),
        ("grade_lead", {"grade_due_at": datetime(2026, 3, 16, 2), "hours_waiting": 14,
                        "waiting_since": datetime(2026, 3, 15, 2), "grade": None}),
        ("grade_lead", {"grade_due_at": datetime(2026, 3, 14, 2), "days_past_due": 2, **waited}),
        ("grade_lead", {"grade_due_at": None, "grade": None}),
        *[
            ("grade_lead", {"routing_unassigned_reason": reason, **waited})
            for reason in ("no_rule_matched", "no_active_owner", "pool_full", "a_new_reason")
        ],
        ("complete_record", {"missing_fields": "person_name, company, contact", **waited,
                             "person_name": None, "phone": None, "email": None}),
        ("complete_record", {"missing_fields": "a_new_field"}),
        ("care_due", {"survey_due_on": date(2026, 3, 31), "report_due_on": date(2026, 3, 31),
                      "greeting_due_on": date(2027, 2, 6), "greeting_occasion": "spring_festival"}),
        ("care_due", {"greeting_due_on": date(2026, 4, 1),
                      "greeting_occasion": "company_anniversary"}),
        ("care_due", {"greeting_due_on": date(2026, 4, 1), "greeting_occasion": "a_new_day"}),
        ("nurture_due", {"content_kind": "case_study", "last_content_on": date(2026, 2, 1)}),
        ("nurture_due", {"content_kind": "product_news", "grade": "B"}),
        ("nurture_due", {"content_kind": "a_new_kind"}),
        ("a_new_item_type", {}),
        # R6: the plan states its own goal; R7: records to make specific (vague, empty)
        ("due_today", {"due_basis": "agreed", "next_action": p.action, "days_overdue": 0,
                       "plan_text": p.plan_with_goal, "follow_up_number": 3,
                       "goal_source": "plan", "plan_goal": p.plan_goal}),
        ("specify_record", {"record_id": "follow_up:FU-0001", "record_channel": "phone",
                            "record_at": datetime(2026, 3, 12, 2), "feedback": p.vague,
                            "vague_reason": "vague_phrase", **waited}),
        ("specify_record", {"record_id": "follow_up:FU-0002", "record_channel": "wechat",
                            "record_at": datetime(2026, 3, 13, 2), "feedback": None,
                            "vague_reason": "empty", **waited}),
    ]  # fmt: skip
    items = []
    for n, (item_type, values) in enumerate(rows, start=1):
        extra = follow_up if item_type in ("overdue", "due_today", "no_plan") else {}
        days = values.get("days_overdue")
        due = {"next_due": date.fromordinal(AS_OF.toordinal() - (days or 0))}
        items.append(item(f"L{n:04d}", item_type, p, n, **(due | extra | values)))
    return items


def sample_queue(language: str, *, ops: bool = False, capped: bool = True) -> OwnerQueue:
    """A queue with every item type; capped sections count more than they list."""
    p = PEOPLE[language]
    items = every_item(language)
    counts: dict[str, int] = {}
    for i in items:
        counts[i.item_type] = counts.get(i.item_type, 0) + 1
    if capped:
        counts["overdue"] += 1_234  # thousands separator and the "not listed" note
    name = "ops" if ops else p.owner
    unknown = (
        UnknownOwner(p.unknown_owner, 3, FILES),
        UnknownOwner(p.unknown_owner + "2", 1, None),
    )
    stale = (
        StaleChannel(CHANNELS[0], LAST_FILE, STALE_DETAIL),
        StaleChannel(CHANNELS[1], None, "no file loaded (freshness_days 3)"),
        StaleChannel(CHANNELS[2], LAST_FILE, "a detail in a format the mail does not know"),
    )
    return OwnerQueue(
        name,
        f"{language}@example.com",
        language,
        tuple(i if not ops else _as_ops(i) for i in items),
        unknown_owners=unknown if ops else (),
        stale_channels=stale if ops else (),
        counts=counts,
        unknown_owner_total=len(unknown) + 5 if ops else 0,
        stale_channel_total=len(stale) if ops else 0,
    )


def _as_ops(i: QueueItem) -> QueueItem:
    return QueueItem(**(i.__dict__ | {"owner_name": "ops"}))


def render_all(language: str) -> dict[str, RenderedEmail]:
    """Every email kind in one language: an owner's daily, ops' daily, a new-leads email."""
    queue = sample_queue(language)
    new_items = tuple(i for i in queue.items if i.item_type in ("grade_lead", "complete_record"))
    new_queue = OwnerQueue(queue.owner_name, queue.email, language, new_items)
    first_shown = {i.lead_key for i in queue.items[::2]}
    return {
        "daily": render_owner_email(queue, AS_OF, SHANGHAI, new_leads=first_shown),
        "ops": render_owner_email(sample_queue(language, ops=True), AS_OF, SHANGHAI),
        "new_leads": render_new_leads_email(
            new_queue, AS_OF, SHANGHAI, lead_count=len({i.lead_key for i in new_items}) + 3
        ),
    }


def data_values(language: str) -> set[str]:
    """Every value of the samples that comes from the data, not from the email's words."""
    p = PEOPLE[language]
    values = {
        p.owner, "ops", p.person, p.title, p.action, p.email, p.unknown_owner,
        p.unknown_owner + "2", *p.companies, FILES, *CHANNELS, LAST_FILE, f"{language}@example.com",
        p.plan, p.plan_with_goal, p.plan_goal, p.vague,
    }  # fmt: skip
    values |= {i.lead_key for i in every_item(language)}
    return values


def sample_emails() -> dict[str, str]:
    """name -> HTML of the screenshots docs/mail.md shows (a short daily email per language)."""
    out = {}
    for language in ("zh", "en"):
        items = every_item(language)
        shown = [items[0], items[5], items[8], items[17], items[20], items[-2]]
        queue = OwnerQueue(PEOPLE[language].owner, "x@example.com", language, tuple(shown))
        new = {items[8].lead_key}
        out[f"mail-{language}"] = render_owner_email(queue, AS_OF, SHANGHAI, new_leads=new).html
    return out
