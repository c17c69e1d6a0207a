"""Render one owner's email as subject, plain text and HTML (Jinja2; the HTML is autoescaped).

Two kinds: the daily queue (one section per item type, C8, plus ops' lists) and the same-day
"new leads" email (one card per lead). Everything a reader sees is worded here from the locale
of the owner's language; the templates only lay the words out. The subject's figures are the
section headings' counts, so the two always agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from leadflow.core.settings import DEFAULT_MAIL_MAX_FIELD_CHARS, SNAPSHOT_NAME
from notify.locale import load_locale
from notify.queue import ITEM_TYPES, OPS_OWNER, OwnerQueue, QueueItem
from notify.wording import (
    FOLLOW_UP_TYPES,
    Field,
    Line,
    Wording,
    card_fields,
    item_lines,
    stale_channel_line,
    unknown_owner_line,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"
SUBJECT_PARTS = 3  # sections named in a subject; the total counts them all
BI_TABLE = "marts.ops_owner_queue"
NEW_LEADS_SECTION = "new_leads"
# Heading rule colours: red for what is late, amber for ops' data problems, blue for the rest.
_ACCENTS = {"overdue": "#dc2626", "unknown_owners": "#d97706", "stale_channels": "#d97706"}
_ACCENT = "#2563eb"
_NAMED_SECTIONS = frozenset({*ITEM_TYPES, "unknown_owners", "stale_channels"})
_OPS_TABLES = {
    "unknown_owners": "marts.ops_unknown_owner_names",
    "stale_channels": "marts.ops_stale_channels",
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Card:
    """One lead as the email shows it: who, how to reach them, what to do by when."""

    lead_key: str
    title: str
    is_new: bool
    fields: tuple[Field, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Section:
    key: str  # an item type, `new_leads`, or an ops list (`unknown_owners`, `stale_channels`)
    title: str
    total: int  # what the heading and the subject show
    cards: tuple[Card, ...] = ()
    entries: tuple[str, ...] = ()  # ops lists: one line each
    intro: str | None = None
    more_note: str | None = None  # set when the section lists fewer than it counts

    @property
    def accent(self) -> str:
        return _ACCENTS.get(self.key, _ACCENT)

    @property
    def listed(self) -> int:
        return len(self.cards) + len(self.entries)

    @property
    def more(self) -> int:
        return self.total - self.listed


def render_owner_email(
    queue: OwnerQueue,
    as_of: date,
    tz: ZoneInfo,
    *,
    new_leads: Collection[str] | None = None,
    field_chars: int = DEFAULT_MAIL_MAX_FIELD_CHARS,
) -> RenderedEmail:
    """The daily queue email. `new_leads`: the lead keys this email shows the owner for the
    first time (the mail ledger's answer); None: the mart's `is_new`."""
    w = Wording(load_locale(queue.language), tz, field_chars, as_of)
    loc = w.loc
    sections = [
        *_item_sections(queue, w, new_leads),
        *(_ops_sections(queue, w) if queue.owner_name == OPS_OWNER else ()),
    ]
    date_text = w.day(as_of)
    context = _context(queue, w, as_of, sections)
    context |= {
        "greeting": loc.text("daily.greeting", name=w.cut(queue.owner_name)),
        "intro": loc.text("daily.intro", date=date_text),
        "empty_note": loc.text("daily.no_items") if not sections else None,
    }
    return _rendered(_daily_subject(sections, w, date_text), context)


def render_new_leads_email(
    queue: OwnerQueue,
    as_of: date,
    tz: ZoneInfo,
    *,
    lead_count: int,
    field_chars: int = DEFAULT_MAIL_MAX_FIELD_CHARS,
) -> RenderedEmail:
    """The same-day "new leads" email: `queue` holds only the new leads' items, `lead_count`
    how many new leads there are (the listed ones may be fewer)."""
    w = Wording(load_locale(queue.language), tz, field_chars, as_of)
    loc = w.loc
    cards = _lead_cards(queue.items, w)
    count = loc.count("leads", lead_count)
    title = loc.text("new_leads.section")
    section = Section(
        NEW_LEADS_SECTION, title, lead_count, cards=cards, more_note=_more(w, lead_count, cards)
    )
    date_text = w.day(as_of)
    context = _context(queue, w, as_of, [section])
    context |= {
        "greeting": loc.text("new_leads.greeting", name=w.cut(queue.owner_name)),
        "intro": loc.text("new_leads.intro", count=count),
        "empty_note": None,
    }
    return _rendered(loc.text("new_leads.subject", date=date_text, count=count), context)


# --------------------------------------------------------------------------- sections


def _item_sections(
    queue: OwnerQueue, w: Wording, new_leads: Collection[str] | None
) -> list[Section]:
    # Known types in C8 order; an unexpected type still gets its own section, never dropped.
    extra_types = sorted(set(queue.counts) - set(ITEM_TYPES))
    sections = []
    for item_type in (*ITEM_TYPES, *extra_types):
        total = queue.count(item_type)
        if not total:
            continue
        cards = tuple(
            _card([item], w, _is_new(item, new_leads))
            for item in queue.items
            if item.item_type == item_type
        )
        title_key = item_type if item_type in ITEM_TYPES else "other"
        title = w.loc.text(f"sections.{title_key}")
        sections.append(
            Section(item_type, title, total, cards=cards, more_note=_more(w, total, cards))
        )
    return sections


def _ops_sections(queue: OwnerQueue, w: Wording) -> list[Section]:
    loc, sections = w.loc, []
    lists = (
        ("unknown_owners", queue.unknown_owner_count, queue.unknown_owners, unknown_owner_line),
        ("stale_channels", queue.stale_channel_count, queue.stale_channels, stale_channel_line),
    )
    for key, total, listed, line in lists:
        if not total:
            continue
        entries = tuple(line(entry, w) for entry in listed)
        sections.append(
            Section(
                key,
                loc.text(f"sections.{key}"),
                total,
                entries=entries,
                intro=loc.text(f"ops.{key}_intro"),
                more_note=_more(w, total, entries, table=_OPS_TABLES[key]),
            )
        )
    return sections


def _more(w: Wording, total: int, listed: tuple, *, table: str | None = None) -> str | None:
    """What a capped section leaves out, and where the rest is: the queue's items in the table
    the email's end names, an ops list in its own mart."""
    if total <= len(listed):
        return None
    loc = w.loc
    counts = {
        "total": loc.count("items", total),
        "shown": loc.count("items", len(listed)),
        "more": loc.count("items", total - len(listed)),
    }
    return loc.text("more_list", table=table, **counts) if table else loc.text("more", **counts)


def _is_new(item: QueueItem, new_leads: Collection[str] | None) -> bool:
    if new_leads is None:
        return bool(item.is_new)
    return item.lead_key in new_leads


def _card(items: list[QueueItem], w: Wording, is_new: bool) -> Card:
    """One card per lead: its first item names it; every item adds what it asks for."""
    first = items[0]
    title = w.cut(first.company) or w.cut(first.person_name) or w.loc.text("format.none")
    with_follow_up = any(i.item_type in FOLLOW_UP_TYPES for i in items)
    # a lead's items may share a line (how long it has waited): said once
    lines = tuple(dict.fromkeys(line for item in items for line in item_lines(item, w)))
    return Card(
        lead_key=w.cut(first.lead_key) or "",
        title=title,
        is_new=is_new,
        fields=card_fields(first, w, with_follow_up=with_follow_up),
        lines=lines,
    )


def _lead_cards(items: tuple[QueueItem, ...], w: Wording) -> tuple[Card, ...]:
    by_lead: dict[str, list[QueueItem]] = {}
    for item in items:
        by_lead.setdefault(item.lead_key, []).append(item)
    return tuple(_card(lead_items, w, is_new=False) for lead_items in by_lead.values())


def _daily_subject(sections: list[Section], w: Wording, date_text: str) -> str:
    loc = w.loc
    if not sections:
        return loc.text("daily.subject_empty", date=date_text)
    parts = [
        loc.text(
            "daily.subject_part",
            title=loc.text(f"subject_sections.{s.key if s.key in _NAMED_SECTIONS else 'other'}"),
            count=loc.count("items", s.total),
            n=loc.number(s.total),
        )
        for s in sections[:SUBJECT_PARTS]
    ]
    total = loc.count("items", sum(s.total for s in sections))
    return loc.text(
        "daily.subject", date=date_text, parts=loc.text("format.list_separator").join(parts),
        total=total,
    )  # fmt: skip


# --------------------------------------------------------------------------- templates


def _context(queue: OwnerQueue, w: Wording, as_of: date, sections: list[Section]) -> dict:
    loc = w.loc
    return {
        "lang": loc.text("html_lang"),
        "label_sep": loc.text("format.label_separator"),
        "labels": {key: loc.text(f"labels.{key}") for key in ("lead_key", "new")},
        "sections": sections,
        "where": loc.text(
            "where",
            snapshot=SNAPSHOT_NAME,
            table=BI_TABLE,
            owner=w.cut(queue.owner_name),
            date=as_of.isoformat(),
        ),
        "footer": loc.text("footer", date=loc.date(as_of)),
    }


def _rendered(subject: str, context: dict) -> RenderedEmail:
    context = context | {"title": subject}
    env = _environment()
    return RenderedEmail(
        subject=subject,
        text=env.get_template("owner_email.txt.j2").render(context),
        html=env.get_template("owner_email.html.j2").render(context),
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Escape everything in the HTML template; the text template must stay unescaped.
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
