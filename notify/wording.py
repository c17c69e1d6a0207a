"""What each item says, built from the mart's structured columns through the owner's locale.

One function per concern: the lines that say what to do and by when (`item_lines`) and the
fields that say who the lead is and how to reach them (`card_fields`). No words here: every
text comes from notify/locales/<language>.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from leadflow.core.clock import cutoff_utc
from notify.contact import Link, email_link, phone_link, shorten
from notify.goals import goal_text
from notify.locale import Locale
from notify.queue import QueueItem, StaleChannel, UnknownOwner

FOLLOW_UP_TYPES = frozenset({"overdue", "due_today", "no_plan"})
CARE_STREAMS = ("survey", "report", "greeting")  # R9, in the order an email lists them
_HOURS_SHOWN_AS_HOURS = 48  # under two days a wait reads better in hours


@dataclass(frozen=True)
class Line:
    """One sentence of an item's note; `urgent` ones are shown in red (a follow-up past due)."""

    text: str
    urgent: bool = False


@dataclass(frozen=True)
class Field:
    label: str
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Wording:
    """A locale with the run's business timezone and field cap: all an item needs to be worded."""

    loc: Locale
    tz: ZoneInfo
    field_chars: int
    as_of: date

    def day(self, value: date | None) -> str:
        """A due date with its weekday; the year only when it is not the email's year."""
        year = value is not None and value.year != self.as_of.year
        return self.loc.date(value, weekday=True, year=year)

    def cut(self, value: str | None) -> str | None:
        return shorten(value, self.field_chars, self.loc.text("format.ellipsis"))

    def local(self, value: datetime) -> datetime:
        """Mart timestamps are naive UTC; reps read business time."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.tz)

    def datetime(self, value: datetime | None) -> str:
        return self.loc.datetime(self.local(value) if value is not None else None)

    def business_date(self, value: datetime | None) -> date | None:
        return self.local(value).date() if value is not None else None

    def duration(self, hours: int) -> str:
        if hours < _HOURS_SHOWN_AS_HOURS:
            return self.loc.count("hours", max(hours, 0))
        return self.loc.count("days", hours // 24)


def item_lines(item: QueueItem, w: Wording) -> tuple[Line, ...]:
    """What to do about the item and by when, in the owner's language."""
    builder = _LINES.get(item.item_type)
    return tuple(builder(item, w)) if builder else ()


def card_fields(item: QueueItem, w: Wording, *, with_follow_up: bool) -> tuple[Field, ...]:
    """Who the lead is and how to reach them; grade and last touch on follow-up cards only."""
    loc = w.loc
    contact = " / ".join(v for v in (w.cut(item.person_name), w.cut(item.title)) if v)
    fields = [Field(loc.text("labels.contact"), contact)] if contact else []
    for label, link in (
        ("labels.phone", phone_link(w.cut(item.phone))),
        ("labels.email", email_link(item.email, w.field_chars, loc.text("format.ellipsis"))),
    ):
        if link is not None:
            fields.append(_link_field(loc.text(label), link))
    if item.grade and (with_follow_up or item.item_type == "nurture_due"):
        fields.append(Field(loc.text("labels.grade"), item.grade))
    if with_follow_up and item.last_touch_at is not None:
        fields.append(Field(loc.text("labels.last_touch"), w.datetime(item.last_touch_at)))
    if with_follow_up and item.plan_text:
        fields.append(Field(loc.text("labels.plan"), w.cut(item.plan_text) or ""))
    return tuple(fields)


def _link_field(label: str, link: Link) -> Field:
    return Field(label, link.text, link.href)


# --------------------------------------------------------------------------- item types


def _follow_up(item: QueueItem, w: Wording) -> list[Line]:
    loc = w.loc
    lines = [Line(_plan(item, w))]
    goal = _goal(item, w)
    if goal:
        lines.append(Line(goal))
    if item.next_due is None:  # the mart always has one; a hand-made row may not
        return lines
    due = w.day(item.next_due)
    if item.item_type == "overdue":
        days = loc.count("days", item.days_overdue or 0)
        lines.append(Line(loc.text("items.overdue", date=due, days=days), urgent=True))
    elif item.item_type == "due_today":
        lines.append(Line(loc.text("items.due_today")))
    else:
        lines.append(Line(loc.text("items.no_plan_due", date=due)))
    return lines


def _plan(item: QueueItem, w: Wording) -> str:
    """The step that is due: agreed with the customer (R6), or the grade's cadence (R5)."""
    loc = w.loc
    if item.item_type == "no_plan":
        return loc.text("items.no_plan")
    if item.due_basis == "agreed":
        action = w.cut(item.next_action)
        if action:
            return loc.text("items.agreed_action", action=action)
        return loc.text("items.agreed_no_action")
    last = loc.date(w.business_date(item.last_touch_at))
    if not item.grade or not item.contact_days:
        return loc.text("items.cadence_ungraded", last=last)
    days = loc.count("days", item.contact_days)
    if item.last_touch_at is None:
        return loc.text("items.cadence_never", grade=item.grade, days=days)
    return loc.text("items.cadence", grade=item.grade, days=days, last=last)


def _goal(item: QueueItem, w: Wording) -> str | None:
    """R6: the goal of the follow-up now due, beside its next action: the plan's own, else the
    seed's for its number (words from the seed, notify/goals.py)."""
    loc = w.loc
    if item.goal_source == "plan" and item.plan_goal:
        return loc.text("items.goal_plan", goal=w.cut(item.plan_goal))
    words = goal_text(item.goal_code, loc.code)
    if not words:
        return None
    if item.follow_up_number:
        return loc.text("items.goal_seed", n=loc.number(item.follow_up_number), goal=words)
    return loc.text("items.goal_seed_unnumbered", goal=words)


def _specify_record(item: QueueItem, w: Wording) -> list[Line]:
    """R7: which follow-up record is vague, what it says, and what a specific one says."""
    loc = w.loc
    values = {
        "date": w.datetime(item.record_at),
        "channel": loc.choose("follow_up_channels", item.record_channel),
    }
    feedback = w.cut(item.feedback.strip() if item.feedback else None)
    if feedback:
        line = loc.text("items.specify", feedback=feedback, **values)
    else:
        line = loc.text("items.specify_empty", **values)
    return [Line(line), Line(loc.text("items.specify_hint"))]


def _grade_lead(item: QueueItem, w: Wording) -> list[Line]:
    loc = w.loc
    lines = []
    if item.routing_unassigned_reason:
        reason = loc.choose("unassigned_reasons", item.routing_unassigned_reason)
        lines.append(Line(loc.text("items.unassigned", reason=reason)))
    if item.grade_due_at is None:
        lines.append(Line(loc.text("items.grade_no_deadline")))
    else:
        late = item.grade_due_at < cutoff_utc(w.as_of, w.tz)  # both naive UTC
        key = "items.grade_late" if late else "items.grade"
        lines.append(Line(loc.text(key, deadline=w.datetime(item.grade_due_at))))
    lines += _waited(item, w)
    return lines


def _complete_record(item: QueueItem, w: Wording) -> list[Line]:
    codes = [c.strip() for c in (item.missing_fields or "").split(",") if c.strip()]
    words = [w.loc.choose("missing_fields", code) for code in codes]
    lines = [Line(w.loc.text("items.complete", fields=w.loc.join(words)))] if words else []
    return lines + _waited(item, w)


def _waited(item: QueueItem, w: Wording) -> list[Line]:
    if item.hours_waiting is None or item.waiting_since is None:
        return []
    since = w.datetime(item.waiting_since)
    return [Line(w.loc.text("items.waited", waited=w.duration(item.hours_waiting), since=since))]


def _care_due(item: QueueItem, w: Wording) -> list[Line]:
    loc = w.loc
    due = {
        "survey": item.survey_due_on,
        "report": item.report_due_on,
        "greeting": item.greeting_due_on,
    }
    lines = []
    for stream in CARE_STREAMS:
        if due[stream] is None:
            continue
        values = {"date": w.day(due[stream])}
        if stream == "greeting":
            values["occasion"] = loc.choose("occasions", item.greeting_occasion)
        lines.append(Line(loc.text(f"items.{stream}", **values)))
    return lines


def _nurture_due(item: QueueItem, w: Wording) -> list[Line]:
    loc = w.loc
    kind = loc.choose("content_kinds", item.content_kind)
    due = w.day(item.next_due)
    lines = [Line(loc.text("items.nurture", kind=kind, date=due))]
    if item.last_content_on is None:
        lines.append(Line(loc.text("items.nurture_never")))
    else:
        lines.append(Line(loc.text("items.nurture_last", date=loc.date(item.last_content_on))))
    return lines


_LINES: dict[str, Callable[[QueueItem, Wording], list[Line]]] = {
    "overdue": _follow_up,
    "due_today": _follow_up,
    "no_plan": _follow_up,
    "grade_lead": _grade_lead,
    "complete_record": _complete_record,
    "specify_record": _specify_record,
    "care_due": _care_due,
    "nurture_due": _nurture_due,
}


# --------------------------------------------------------------------------- ops lists

# Validation words a stale channel's observed value (expectations/freshness.py `_describe`);
# the email reads its figures back out, so no English reaches a Chinese email.
_STALE_LIMIT = re.compile(r"freshness_days (\d+)")
_STALE_LOADED = re.compile(r"loaded (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")
_STALE_AGE = re.compile(r"(\d+(?:\.\d+)?) days")


def unknown_owner_line(unknown: UnknownOwner, w: Wording) -> str:
    records = w.loc.count("records", unknown.record_count or 0)
    files = w.cut(unknown.files) or w.loc.text("format.none")
    return w.loc.text("ops.unknown_owner", name=w.cut(unknown.owner_name), records=records,
                      files=files)  # fmt: skip


def stale_channel_line(stale: StaleChannel, w: Wording) -> str:
    loc, detail = w.loc, stale.detail or ""
    channel = w.cut(stale.channel)
    limit = _STALE_LIMIT.search(detail)
    limit_text = loc.count("days", int(limit.group(1))) if limit else loc.text("format.none")
    if not stale.last_file_name:
        return loc.text("ops.stale_channel_never", channel=channel, limit=limit_text)
    loaded, age = _STALE_LOADED.search(detail), _STALE_AGE.search(detail)
    file = w.cut(stale.last_file_name)
    if not (loaded and age and limit):
        return loc.text("ops.stale_channel_unknown_age", channel=channel, file=file)
    loaded_at = datetime.strptime(loaded.group(1), "%Y-%m-%d %H:%M")
    return loc.text(
        "ops.stale_channel",
        channel=channel,
        file=file,
        loaded=w.datetime(loaded_at),
        age=loc.count("days", int(float(age.group(1)))),
        limit=limit_text,
    )
