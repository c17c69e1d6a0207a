"""Which period a report for as_of covers (C8 Periods): the last complete ISO week (Monday to
Sunday) or calendar month before as_of's cut-off, in business time. The marts compute the same
in SQL (int_report_periods); this copy only checks that the marts were built for as_of and
decides which reports are due."""

from __future__ import annotations

from datetime import date, timedelta

PERIOD_KINDS: tuple[str, ...] = ("week", "month")


def report_period(kind: str, as_of: date) -> tuple[date, date]:
    """(first day, day after the last day) of the period the report for `as_of` covers."""
    if kind == "week":
        end = as_of - timedelta(days=as_of.weekday())
        return end - timedelta(days=7), end
    if kind == "month":
        end = as_of.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
        return start, end
    raise ValueError(f"period kind must be one of {', '.join(PERIOD_KINDS)}, got {kind!r}")


def due_kinds(as_of: date) -> list[str]:
    """The reports mailed on `as_of`: Monday morning the last week, the 1st the last month."""
    kinds = []
    if as_of.weekday() == 0:
        kinds.append("week")
    if as_of.day == 1:
        kinds.append("month")
    return kinds
