"""The clock (C4): the business date now, as_of and its cut-off. Nothing else reads the wall clock.

`as_of` is a business date; its cut-off is 00:00 business time at the start of that date, so a run
for D shows the state the morning of D.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from leadflow.core.settings import pinned_today


def today_in(tz: ZoneInfo) -> date:
    """The business date now: the only wall-clock read of the project (C4), unless
    `LEADFLOW_TODAY` pins it."""
    pinned = pinned_today()
    return date.fromisoformat(pinned) if pinned else datetime.now(tz).date()


def resolve_as_of(value: str | date | None, tz: ZoneInfo) -> date:
    if value is None or value == "":
        return today_in(tz)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cutoff_utc(as_of: date, tz: ZoneInfo) -> datetime:
    """00:00 business time at the start of `as_of`, as a naive UTC timestamp (C4)."""
    local_midnight = datetime.combine(as_of, time.min, tzinfo=tz)
    return local_midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def is_forward_run(as_of: date, tz: ZoneInfo) -> bool:
    """A forward run is one for today (C9); anything earlier is a backfill."""
    return as_of >= today_in(tz)
