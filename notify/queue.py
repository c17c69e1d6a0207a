"""Read one business date's follow-up queue from the marts, grouped by owner (C5, C8).

Only the warehouse is read here (`marts.owner_queue`, `marts.dim_owners`,
`marts.unknown_owner_names`); who owns what was decided by the marts, never re-derived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

log = logging.getLogger(__name__)

OPS_OWNER = "ops"

# Section order of the email: the item types of C8, most urgent first.
ITEM_TYPES: tuple[str, ...] = (
    "overdue",
    "due_today",
    "no_plan",
    "grade_lead",
    "complete_record",
    "care_due",
    "nurture_due",
)

_ITEM_COLUMNS = (
    "owner_name",
    "owner_email",
    "owner_language",
    "lead_key",
    "item_type",
    "item_detail",
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
)


class WarehouseNotReadyError(RuntimeError):
    """The marts the email is built from are missing: build them before sending."""


@dataclass(frozen=True)
class QueueItem:
    owner_name: str
    owner_email: str | None
    owner_language: str | None
    lead_key: str
    item_type: str
    item_detail: str | None
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
    detail: str | None


@dataclass(frozen=True)
class OwnerQueue:
    """Everything one owner's email for one date holds."""

    owner_name: str
    email: str | None
    language: str
    items: tuple[QueueItem, ...]
    unknown_owners: tuple[UnknownOwner, ...] = ()
    stale_channels: tuple[StaleChannel, ...] = ()

    def count(self, item_type: str) -> int:
        return sum(1 for item in self.items if item.item_type == item_type)


def read_owner_queues(con: duckdb.DuckDBPyConnection, as_of: date) -> list[OwnerQueue]:
    """One queue per owner with items on `as_of` (plus `ops` when names are unknown), by name."""
    _require_table(con, "owner_queue")
    items = _read_items(con, as_of)
    if not items:
        _warn_if_built_for_other_dates(con, as_of)
    directory = _read_directory(con)
    notices = OpsNotices(_read_unknown_owners(con), _read_stale_channels(con, as_of))
    by_owner: dict[str, list[QueueItem]] = {}
    for item in items:
        by_owner.setdefault(item.owner_name, []).append(item)
    # Ops hears about unknown names and stale channels even on a day without ops items (C5).
    if notices.unknown_owners or notices.stale_channels:
        by_owner.setdefault(OPS_OWNER, [])
    return [
        _owner_queue(name, owner_items, directory.get(name), notices)
        for name, owner_items in sorted(by_owner.items())
    ]


@dataclass(frozen=True)
class OpsNotices:
    """What only ops is told: names missing from the directory, channels gone quiet."""

    unknown_owners: tuple[UnknownOwner, ...]
    stale_channels: tuple[StaleChannel, ...]


def _owner_queue(
    name: str,
    items: list[QueueItem],
    directory_entry: tuple[str | None, str | None] | None,
    notices: OpsNotices,
) -> OwnerQueue:
    # The directory is the owner's address book; the queue's own columns are the fallback.
    dir_email, dir_language = directory_entry or (None, None)
    email = dir_email or next((i.owner_email for i in items if i.owner_email), None)
    language = dir_language or next((i.owner_language for i in items if i.owner_language), None)
    return OwnerQueue(
        owner_name=name,
        email=email.strip() if email else None,
        language=normalise_language(language),
        items=tuple(sorted(items, key=_item_order)),
        unknown_owners=notices.unknown_owners if name == OPS_OWNER else (),
        stale_channels=notices.stale_channels if name == OPS_OWNER else (),
    )


def normalise_language(value: str | None) -> str:
    """'en', 'en-US', 'English' -> 'en'; anything else -> 'zh' (Chinese is the default)."""
    return "en" if value and value.strip().lower().startswith("en") else "zh"


def _item_order(item: QueueItem) -> tuple:
    # The mart's priority decides (overdue: grade A first, then most days overdue).
    known = item.item_type in ITEM_TYPES
    type_rank = ITEM_TYPES.index(item.item_type) if known else len(ITEM_TYPES)
    priority = item.priority if item.priority is not None else 1 << 30
    return (type_rank, item.item_type, priority, -(item.days_overdue or 0), item.lead_key)


def _read_items(con: duckdb.DuckDBPyConnection, as_of: date) -> list[QueueItem]:
    columns = ", ".join(_ITEM_COLUMNS)
    rows = con.execute(
        f"SELECT {columns} FROM marts.owner_queue WHERE as_of = ? "
        "ORDER BY owner_name, priority NULLS LAST, lead_key",
        [as_of],
    ).fetchall()
    items = [QueueItem(**dict(zip(_ITEM_COLUMNS, row, strict=True))) for row in rows]
    return [_with_owner(item) for item in items]


def _with_owner(item: QueueItem) -> QueueItem:
    # The mart assigns ownerless items to ops; a blank name here would otherwise go nowhere.
    if item.owner_name and item.owner_name.strip():
        return item
    return QueueItem(**{**item.__dict__, "owner_name": OPS_OWNER})


def _read_directory(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    if not _table_exists(con, "dim_owners"):
        log.warning("marts.dim_owners is missing: owner addresses come from marts.owner_queue")
        return {}
    rows = con.execute("SELECT owner_name, email, language FROM marts.dim_owners").fetchall()
    return {name: (email, language) for name, email, language in rows if name}


def _read_unknown_owners(con: duckdb.DuckDBPyConnection) -> tuple[UnknownOwner, ...]:
    if not _table_exists(con, "unknown_owner_names"):
        return ()
    rows = con.execute(
        "SELECT owner_name, record_count, files FROM marts.unknown_owner_names "
        "ORDER BY record_count DESC NULLS LAST, owner_name"
    ).fetchall()
    return tuple(UnknownOwner(str(name), count, _text(files)) for name, count, files in rows)


def _read_stale_channels(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[StaleChannel, ...]:
    if not _table_exists(con, "stale_channels"):
        return ()
    rows = con.execute(
        "SELECT channel, last_file_name, detail FROM marts.stale_channels WHERE as_of = ? "
        "ORDER BY channel",
        [as_of],
    ).fetchall()
    return tuple(StaleChannel(str(channel), last, detail) for channel, last, detail in rows)


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
            "SELECT DISTINCT as_of FROM marts.owner_queue ORDER BY as_of DESC LIMIT 3"
        ).fetchall()
    ]
    if dates:
        log.warning(
            "marts.owner_queue has no items for %s but has items for %s: "
            "were the marts built for another date?",
            as_of,
            ", ".join(str(d) for d in dates),
        )


def _require_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    if not _table_exists(con, table):
        raise WarehouseNotReadyError(f"marts.{table} does not exist: build the marts first")


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])
