"""Read one business date's follow-up queue from the marts, grouped by owner (C5, C8).

Only the warehouse is read here (`marts.ops_owner_queue`, `marts.dim_owners`,
`marts.ops_unknown_owner_names`); who owns what was decided by the marts, never re-derived.

DuckDB does the work: counts per owner and item type come from a GROUP BY, and only the first
`max_items_per_section` items of each owner and type (in the mart's order) reach Python, so
memory is bounded by owners x types x N, not by the queue (773k rows at 1M leads).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb

from leadflow.core.errors import WarehouseNotReady
from leadflow.core.warehouse import table_exists
from notify.contact import EMAIL_WHOLE_CHARS

log = logging.getLogger(__name__)

OPS_OWNER = "ops"

# Section order of the email: the item types of C8, most urgent first.
ITEM_TYPES: tuple[str, ...] = (
    "overdue",
    "due_today",
    "no_plan",
    "grade_lead",
    "complete_record",
    "specify_record",
    "care_due",
    "nurture_due",
)

_ITEM_COLUMNS = (
    "owner_name",
    "owner_email",
    "owner_language",
    "lead_key",
    "item_type",
    "is_new",
    "company",
    "person_name",
    "title",
    "phone",
    "email",
    "grade",
    "last_touch_at",
    "next_action",
    "next_due",
    "days_overdue",
    "priority",
    "days_past_due",
    "due_basis",
    "contact_days",
    "grade_due_at",
    "waiting_since",
    "hours_waiting",
    "routing_unassigned_reason",
    "missing_fields",
    "survey_due_on",
    "report_due_on",
    "greeting_due_on",
    "greeting_occasion",
    "content_kind",
    "last_content_on",
    "plan_text",
    "follow_up_number",
    "goal_source",
    "goal_code",
    "plan_goal",
    "record_id",
    "record_at",
    "record_channel",
    "feedback",
    "vague_reason",
)
# Free text from the exports: read cut to the field cap (+1, so the renderer knows it was cut),
# so a 3 MB company name never reaches Python. The warehouse keeps the whole value.
_FREE_TEXT_COLUMNS = frozenset(
    {
        "lead_key",
        "company",
        "person_name",
        "title",
        "phone",
        "next_action",
        "plan_text",
        "plan_goal",
        "record_id",
        "feedback",
    }  # fmt: skip
)
_EMAIL_READ_CHARS = EMAIL_WHOLE_CHARS + 1  # a valid address is shown whole (notify/contact.py)


class WarehouseNotReadyError(WarehouseNotReady):
    """The marts the email is built from are missing: build them before sending."""


@dataclass(frozen=True)
class QueueItem:
    """One row of marts.ops_owner_queue (docs: dbt_project/models/marts/ops_owner_queue.yml)."""

    owner_name: str
    owner_email: str | None
    owner_language: str | None
    lead_key: str
    item_type: str
    is_new: bool | None
    company: str | None
    person_name: str | None
    title: str | None
    phone: str | None
    email: str | None
    grade: str | None
    last_touch_at: datetime | None
    next_action: str | None
    next_due: date | None
    days_overdue: int | None
    priority: int | None
    days_past_due: int | None = None
    due_basis: str | None = None
    contact_days: int | None = None
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
    plan_text: str | None = None  # follow-ups: the lead's plan (R6)
    follow_up_number: int | None = None
    goal_source: str | None = None  # plan / seed
    goal_code: str | None = None  # seed follow_up_goals
    plan_goal: str | None = None
    record_id: str | None = None  # specify_record: the follow-up to make specific (R7)
    record_at: datetime | None = None
    record_channel: str | None = None
    feedback: str | None = None
    vague_reason: str | None = None


@dataclass(frozen=True)
class UnknownOwner:
    owner_name: str
    record_count: int | None
    files: str | None


@dataclass(frozen=True)
class StaleChannel:
    """A channel with no new file for longer than its YAML allows (an ops item)."""

    channel: str
    last_file_name: str | None
    detail: str | None  # validation's observed value (expectations/freshness.py), parsed to words


@dataclass(frozen=True)
class OwnerQueue:
    """Everything one owner's email for one date holds.

    `items` are the listed items (at most N per type, at most M in all); `counts` are the mart's
    totals per type, which the subject and headings show. Built from items alone, the items are
    the whole queue. The ops lists likewise hold the listed entries beside their totals.
    """

    owner_name: str
    email: str | None
    language: str
    items: tuple[QueueItem, ...]
    unknown_owners: tuple[UnknownOwner, ...] = ()
    stale_channels: tuple[StaleChannel, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    unknown_owner_total: int | None = None  # None: the listed ones are all
    stale_channel_total: int | None = None

    def __post_init__(self) -> None:
        listed = Counter(item.item_type for item in self.items)
        if not self.counts:
            object.__setattr__(self, "counts", dict(listed))
        # A listed item the counts do not cover would make the headings lie.
        short = {t: n for t, n in listed.items() if n > self.counts.get(t, 0)}
        if short:
            raise ValueError(f"owner {self.owner_name!r}: more items listed than counted: {short}")

    def count(self, item_type: str) -> int:
        return self.counts.get(item_type, 0)

    @property
    def total(self) -> int:
        """Items of the queue (every type), not the ops lists."""
        return sum(self.counts.values())

    @property
    def unknown_owner_count(self) -> int:
        listed = len(self.unknown_owners)
        return listed if self.unknown_owner_total is None else self.unknown_owner_total

    @property
    def stale_channel_count(self) -> int:
        listed = len(self.stale_channels)
        return listed if self.stale_channel_total is None else self.stale_channel_total


@dataclass(frozen=True)
class ReadLimits:
    """How much of the queue an email lists (docs/mail.md); the counts are always whole."""

    per_section: int
    per_email: int | None = None  # None: per_section alone
    field_chars: int | None = None  # None: free text read whole

    def __post_init__(self) -> None:
        named = {
            "max_items_per_section": self.per_section,
            "max_items": self.per_email,
            "max_field_chars": self.field_chars,
        }
        for name, value in named.items():
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")

    def cut(self, column: str) -> str:
        """The SQL that reads a free-text column: cut one past the cap (the cut is visible)."""
        if self.field_chars is None:
            return column
        return f"left({column}, {self.field_chars + 1})"

    def read(self, column: str) -> str:
        """The SQL that reads one column of marts.ops_owner_queue (alias q) for the email."""
        if column in _FREE_TEXT_COLUMNS:
            return self.cut(f"q.{column}")
        if column == "email" and self.field_chars is not None:
            return f"left(q.email, {max(self.field_chars + 1, _EMAIL_READ_CHARS)})"
        return f"q.{column}"


def read_owner_queues(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    *,
    max_items_per_section: int,
    max_items: int | None = None,
    max_field_chars: int | None = None,
) -> list[OwnerQueue]:
    """One queue per owner with items on `as_of` (plus `ops` when names are unknown), by name.

    Each lists the first `max_items_per_section` items per type, at most `max_items` in all
    (shared out section by section, so every section shows its most urgent), and counts them
    all; free text is read cut to `max_field_chars` + 1 characters."""
    limits = ReadLimits(max_items_per_section, max_items, max_field_chars)
    _require_table(con, "ops_owner_queue")
    counts = _read_counts(con, as_of)
    if not counts:
        _warn_if_built_for_other_dates(con, as_of)
    by_owner: dict[str, list[QueueItem]] = {name: [] for name in counts}
    for item in _read_top_items(con, as_of, limits):
        by_owner[item.owner_name].append(item)
    directory = _read_directory(con)
    notices = OpsNotices(
        *_read_unknown_owners(con, limits), *_read_stale_channels(con, as_of, limits)
    )
    # Ops hears about unknown names and stale channels even on a day without ops items (C5).
    if notices.unknown_owners or notices.stale_channels:
        by_owner.setdefault(OPS_OWNER, [])
    return [
        _owner_queue(name, owner_items, counts.get(name), directory.get(name), notices, limits)
        for name, owner_items in sorted(by_owner.items())
    ]


@dataclass(frozen=True)
class OpsNotices:
    """What only ops is told: names missing from the directory, channels gone quiet."""

    unknown_owners: tuple[UnknownOwner, ...]
    unknown_owner_total: int
    stale_channels: tuple[StaleChannel, ...]
    stale_channel_total: int


@dataclass(frozen=True)
class _OwnerCounts:
    """One owner's totals per item type, and the queue's own address columns (a fallback)."""

    by_type: dict[str, int]
    owner_email: str | None
    owner_language: str | None


def _owner_queue(
    name: str,
    items: list[QueueItem],
    counts: _OwnerCounts | None,
    directory_entry: tuple[str | None, str | None] | None,
    notices: OpsNotices,
    limits: ReadLimits,
) -> OwnerQueue:
    # The directory is the owner's address book; the queue's own columns are the fallback.
    counts = counts or _OwnerCounts({}, None, None)
    dir_email, dir_language = directory_entry or (None, None)
    email = dir_email or counts.owner_email
    is_ops = name == OPS_OWNER
    return OwnerQueue(
        owner_name=name,
        email=email.strip() if email else None,
        language=normalise_language(dir_language or counts.owner_language),
        items=share_out(sorted(items, key=_item_order), limits.per_email),
        unknown_owners=notices.unknown_owners if is_ops else (),
        stale_channels=notices.stale_channels if is_ops else (),
        counts=counts.by_type,
        unknown_owner_total=notices.unknown_owner_total if is_ops else 0,
        stale_channel_total=notices.stale_channel_total if is_ops else 0,
    )


def share_out(items: list[QueueItem], budget: int | None) -> tuple[QueueItem, ...]:
    """At most `budget` of `items` (sorted by section), one section at a time in turn: a long
    overdue section cannot crowd out the first care item. Order within sections is kept."""
    if budget is None or len(items) <= budget:
        return tuple(items)
    sections: dict[str, list[QueueItem]] = {}
    for item in items:
        sections.setdefault(item.item_type, []).append(item)
    taken = dict.fromkeys(sections, 0)
    left = budget
    while left:
        for item_type, section in sections.items():
            if left and taken[item_type] < len(section):
                taken[item_type] += 1
                left -= 1
    return tuple(item for t, section in sections.items() for item in section[: taken[t]])


def normalise_language(value: str | None) -> str:
    """'en', 'en-US', 'English' -> 'en'; anything else -> 'zh' (Chinese is the default)."""
    return "en" if value and value.strip().lower().startswith("en") else "zh"


def _item_order(item: QueueItem) -> tuple:
    # The mart's priority decides (overdue: grade A first, then most days overdue).
    # Within a type this must stay the order of _SECTION_ORDER_SQL (a test compares them).
    known = item.item_type in ITEM_TYPES
    type_rank = ITEM_TYPES.index(item.item_type) if known else len(ITEM_TYPES)
    priority = item.priority if item.priority is not None else 1 << 30
    return (
        type_rank,
        item.item_type,
        priority,
        -(item.days_overdue or 0),
        item.lead_key,
        item.record_id or "",
    )


# _item_order within one section, in SQL: the window that picks a section's first N items.
_SECTION_ORDER_SQL = (
    "q.priority NULLS LAST, coalesce(q.days_overdue, 0) DESC, q.lead_key, coalesce(q.record_id, '')"
)


def _owner_sql(alias: str = "q") -> str:
    """The owner of a row of `alias`: the mart gives ownerless items to ops; a blank name would
    otherwise go nowhere, so it is read as ops too (\\p{Z}: full-width and other Unicode spaces,
    like Python's str.strip)."""
    return (
        f"CASE WHEN regexp_full_match(coalesce({alias}.owner_name, ''), '[\\s\\p{{Z}}]*') "
        f"THEN '{OPS_OWNER}' ELSE {alias}.owner_name END"
    )


_OWNER_SQL = _owner_sql()


def _read_counts(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, _OwnerCounts]:
    """owner -> items per type; address fallbacks from the owner's first rows in mart order."""
    by_type = con.execute(
        f"SELECT {_OWNER_SQL} AS owner, q.item_type, count(*) FROM marts.ops_owner_queue q "
        "WHERE q.as_of = ? GROUP BY ALL",
        [as_of],
    ).fetchall()
    mart_order = "ORDER BY q.owner_name NULLS LAST, q.priority NULLS LAST, q.lead_key"
    contacts = con.execute(
        f"SELECT {_OWNER_SQL} AS owner, "
        f"first(q.owner_email {mart_order}) FILTER (WHERE q.owner_email <> ''), "
        f"first(q.owner_language {mart_order}) FILTER (WHERE q.owner_language <> '') "
        "FROM marts.ops_owner_queue q WHERE q.as_of = ? GROUP BY ALL",
        [as_of],
    ).fetchall()
    counts = {owner: _OwnerCounts({}, email, lang) for owner, email, lang in contacts}
    for owner, item_type, n in by_type:
        counts[owner].by_type[item_type] = n
    return counts


def _read_top_items(
    con: duckdb.DuckDBPyConnection, as_of: date, limits: ReadLimits
) -> list[QueueItem]:
    """The first `limits.per_section` items per owner and type, in the mart's order.

    The window ranks only the key columns, then the chosen rows are fetched whole: ranking all
    19 columns held ~600 MB at 1M leads, this ~200 MB. (owner, type, lead, record) is the
    mart's grain (record_id: specify_record items, one per follow-up, R7).
    """
    columns = ", ".join(limits.read(c) for c in _ITEM_COLUMNS if c != "owner_name")
    rows = con.execute(
        f"""
        WITH top_items AS (
            SELECT q.owner_name, q.item_type, q.lead_key, q.record_id
            FROM marts.ops_owner_queue q
            WHERE q.as_of = $as_of
            QUALIFY row_number() OVER (
                PARTITION BY {_OWNER_SQL}, q.item_type ORDER BY {_SECTION_ORDER_SQL}
            ) <= $limit
        )
        SELECT {_OWNER_SQL} AS owner_name, {columns}
        FROM marts.ops_owner_queue q
        SEMI JOIN top_items t
            ON q.owner_name IS NOT DISTINCT FROM t.owner_name
            AND q.item_type IS NOT DISTINCT FROM t.item_type
            AND q.lead_key IS NOT DISTINCT FROM t.lead_key
            AND q.record_id IS NOT DISTINCT FROM t.record_id
        WHERE q.as_of = $as_of
        """,
        {"as_of": as_of, "limit": limits.per_section},
    ).fetchall()
    return [QueueItem(**dict(zip(_ITEM_COLUMNS, row, strict=True))) for row in rows]


def owner_book_sql(
    con: duckdb.DuckDBPyConnection, owner_name: str, as_of: date
) -> tuple[str, list]:
    """SQL (and its parameters) selecting the lead keys this owner holds at as_of: every lead
    of marts.dim_leads they own (built for the same as_of as the queue), and their queue's."""
    queue_sql = (
        f"SELECT q.lead_key FROM marts.ops_owner_queue q WHERE q.as_of = ? AND {_OWNER_SQL} = ?"
    )
    params: list = [as_of, owner_name]
    if _table_exists(con, "dim_leads"):
        queue_sql += f" UNION SELECT d.lead_key FROM marts.dim_leads d WHERE {_owner_sql('d')} = ?"
        params.append(owner_name)
    return queue_sql, params


# The owner's queue rows on as_of whose lead is not in their book yet (notify.ledger).
_NOT_IN_BOOK = f"""
    q.as_of = $as_of AND {_OWNER_SQL} = $owner
    AND NOT EXISTS (
        SELECT 1 FROM mail.lead_ledger l WHERE l.owner_name = $owner AND l.lead_key = q.lead_key
    )
"""


def read_new_lead_items(
    con: duckdb.DuckDBPyConnection, as_of: date, owner_name: str, limits: ReadLimits
) -> tuple[list[QueueItem], int]:
    """Every item of the first `limits.per_email` leads (by priority) of the owner's queue that
    are not in their book yet, and how many such leads there are."""
    params = {"as_of": as_of, "owner": owner_name}
    total = con.execute(
        f"SELECT count(DISTINCT q.lead_key) FROM marts.ops_owner_queue q WHERE {_NOT_IN_BOOK}",
        params,
    ).fetchone()[0]
    if not total:
        return [], 0
    columns = ", ".join(limits.read(c) for c in _ITEM_COLUMNS if c != "owner_name")
    rows = con.execute(
        f"""
        WITH first_leads AS (
            SELECT q.lead_key, min(q.priority) AS first_priority
            FROM marts.ops_owner_queue q WHERE {_NOT_IN_BOOK}
            GROUP BY q.lead_key ORDER BY first_priority NULLS LAST, q.lead_key LIMIT $limit
        )
        SELECT {_OWNER_SQL} AS owner_name, {columns}
        FROM marts.ops_owner_queue q JOIN first_leads f ON f.lead_key = q.lead_key
        WHERE {_NOT_IN_BOOK}
        ORDER BY f.first_priority NULLS LAST, q.lead_key, q.priority NULLS LAST
        """,
        params | {"limit": limits.per_email or limits.per_section},
    ).fetchall()
    return [QueueItem(**dict(zip(_ITEM_COLUMNS, row, strict=True))) for row in rows], total


def _read_directory(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    if not _table_exists(con, "dim_owners"):
        log.warning("marts.dim_owners is missing: owner addresses come from marts.ops_owner_queue")
        return {}
    rows = con.execute("SELECT owner_name, email, language FROM marts.dim_owners").fetchall()
    return {name: (email, language) for name, email, language in rows if name}


def _read_unknown_owners(
    con: duckdb.DuckDBPyConnection, limits: ReadLimits
) -> tuple[tuple[UnknownOwner, ...], int]:
    """The first names (most records first) and how many there are."""
    if not _table_exists(con, "ops_unknown_owner_names"):
        return (), 0
    total = con.execute("SELECT count(*) FROM marts.ops_unknown_owner_names").fetchone()[0]
    files = limits.cut("CAST(files AS VARCHAR)")
    rows = con.execute(
        f"SELECT {limits.cut('owner_name')}, record_count, {files} "
        "FROM marts.ops_unknown_owner_names "
        "ORDER BY record_count DESC NULLS LAST, owner_name LIMIT ?",
        [limits.per_section],
    ).fetchall()
    listed = tuple(UnknownOwner(str(name), count, _text(files)) for name, count, files in rows)
    return listed, total


def _read_stale_channels(
    con: duckdb.DuckDBPyConnection, as_of: date, limits: ReadLimits
) -> tuple[tuple[StaleChannel, ...], int]:
    if not _table_exists(con, "ops_stale_channels"):
        return (), 0
    total = con.execute(
        "SELECT count(*) FROM marts.ops_stale_channels WHERE as_of = ?", [as_of]
    ).fetchone()[0]
    rows = con.execute(
        f"SELECT {limits.cut('channel')}, {limits.cut('last_file_name')}, detail "
        "FROM marts.ops_stale_channels WHERE as_of = ? ORDER BY channel LIMIT ?",
        [as_of, limits.per_section],
    ).fetchall()
    listed = tuple(StaleChannel(str(channel), last, detail) for channel, last, detail in rows)
    return listed, total


def _text(value: object) -> str | None:
    # `files` may be a list column or text, depending on how the mart aggregates it.
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _warn_if_built_for_other_dates(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    dates = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT as_of FROM marts.ops_owner_queue ORDER BY as_of DESC LIMIT 3"
        ).fetchall()
    ]
    if dates:
        log.warning(
            "marts.ops_owner_queue has no items for %s but has items for %s: "
            "were the marts built for another date?",
            as_of,
            ", ".join(str(d) for d in dates),
        )


def _require_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    if not _table_exists(con, table):
        raise WarehouseNotReadyError(f"marts.{table} does not exist: build the marts first")


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table_exists(con, "marts", table)
