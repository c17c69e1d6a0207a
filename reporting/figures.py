"""The figures of one report (a period kind and a scope), read from the rpt_period_* marts only.

Every number a report shows is a `Figure` that names the mart, the column and the row it came
from, so the tests can compare each one shown with the mart (tests/test_reports.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

# (mart, column that names the dimension) of the figures shown by dimension
SOURCES = ("rpt_period_source_conversion", "source_label")
GRADES = ("rpt_period_cycle_by_grade", "grade_at_win")
CHANNELS = ("rpt_period_channel_response", "follow_up_channel")
REASONS = ("rpt_period_lost_reasons", "churn_category")
DISCIPLINE = "rpt_period_discipline"
TOTAL = "(all)"


@dataclass(frozen=True)
class Figure:
    """One number: its value and where it came from (mart, column, dimension value, period)."""

    value: float | int | None
    unit: str  # count | share | days
    mart: str
    column: str
    period_start: date
    dimension: str | None = None  # the dimension value (source, grade, ...); None: no dimension


@dataclass(frozen=True)
class Scope:
    kind: str  # organisation | team
    name: str  # 'all' or the manager's name


@dataclass
class ReportFigures:
    period_kind: str
    period_start: date
    period_end: date
    scope: Scope
    headline: list[tuple[str, Figure, Figure]] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trends: dict[str, list[tuple[date, dict[str, Figure]]]] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _where() -> str:
    return "period_kind = ? AND scope = ? AND scope_name = ?"


def mart_period(con: duckdb.DuckDBPyConnection, kind: str) -> tuple[date, date] | None:
    """The period the marts' report covers (period_index 1), or None before any period."""
    row = con.execute(
        f"SELECT DISTINCT period_start, period_end FROM marts.{DISCIPLINE} "
        "WHERE period_kind = ? AND period_index = 1",
        [kind],
    ).fetchone()
    if row is None:
        row = con.execute(
            f"SELECT DISTINCT period_start, period_end FROM marts.{SOURCES[0]} "
            "WHERE period_kind = ? AND period_index = 1",
            [kind],
        ).fetchone()
    return (row[0], row[1]) if row else None


def report_scopes(con: duckdb.DuckDBPyConnection, kind: str) -> list[Scope]:
    """The organisation and every team with figures in the trend."""
    teams = con.execute(
        f"SELECT DISTINCT scope_name FROM marts.{SOURCES[0]} WHERE period_kind = ? "
        f"AND scope = 'team' UNION SELECT DISTINCT scope_name FROM marts.{DISCIPLINE} "
        "WHERE period_kind = ? AND scope = 'team' ORDER BY 1",
        [kind, kind],
    ).fetchall()
    return [Scope("organisation", "all"), *(Scope("team", name) for (name,) in teams)]


def _by_dimension(
    con: duckdb.DuckDBPyConnection, mart: str, dim: str, scope: Scope, kind: str, period: date
) -> list[dict[str, Any]]:
    return _rows(
        con,
        f"SELECT * FROM marts.{mart} WHERE {_where()} AND period_start = ? "
        f"ORDER BY is_total, {dim}",
        [kind, scope.kind, scope.name, period],
    )


def _figure(row: dict[str, Any], mart: str, column: str, unit: str, dim: str | None) -> Figure:
    return Figure(
        row.get(column), unit, mart, column, row["period_start"], row.get(dim) if dim else None
    )


def read_report(
    con: duckdb.DuckDBPyConnection, kind: str, scope: Scope, period: tuple[date, date]
) -> ReportFigures:
    start, end = period
    report = ReportFigures(kind, start, end, scope)
    tables = {
        "sources": (SOURCES, [("leads_acquired", "count"), ("won_to_date", "count"),
                              ("conversion_to_date", "share"), ("leads_won", "count")]),
        "grades": (GRADES, [("won_leads", "count"), ("median_days", "days"), ("p75_days", "days"),
                            ("max_days", "days")]),
        "channels": (CHANNELS, [("follow_ups", "count"), ("response_rate", "share"),
                                ("open_rate", "share")]),
        "reasons": (REASONS, [("closed_leads", "count"), ("lost_leads", "count"),
                              ("churned_leads", "count"), ("share_of_closed", "share")]),
    }  # fmt: skip
    totals: dict[str, dict[str, Any]] = {}
    for name, ((mart, dim), columns) in tables.items():
        rows = _by_dimension(con, mart, dim, scope, kind, start)
        report.tables[name] = [
            {"label": row[dim], "is_total": row["is_total"],
             **{c: _figure(row, mart, c, unit, dim) for c, unit in columns},
             **{f"previous_{c}": _figure(row, mart, f"previous_{c}", unit, dim)
                for c, unit in columns if f"previous_{c}" in row}}
            for row in rows
            if row["is_total"] or _has_counts(row, columns)
        ]  # fmt: skip
        totals[name] = next((r for r in rows if r["is_total"]), {})
    report.headline = _headline(con, kind, scope, start, totals)
    report.trends = _trends(con, kind, scope)
    report.cases = _rows(
        con,
        "SELECT * FROM marts.rpt_period_cases WHERE period_kind = ? AND scope = ? "
        "AND scope_name = ? ORDER BY case_type, case_rank",
        [kind, scope.kind, scope.name],
    )
    report.actions = _rows(
        con,
        f"SELECT * FROM marts.rpt_period_actions WHERE {_where()} AND period_start = ? "
        "ORDER BY rule_id, subject",
        [kind, scope.kind, scope.name, start],
    )
    return report


def _has_counts(row: dict[str, Any], columns: list[tuple[str, str]]) -> bool:
    """A dimension value with nothing in this period is left out of its table (the mart keeps
    it at 0 for the trend)."""
    return any(row[column] for column, unit in columns if unit == "count")


HEADLINE = (  # (label key, mart, column, unit)
    ("leads_acquired", SOURCES[0], "leads_acquired", "count"),
    ("conversion_to_date", SOURCES[0], "conversion_to_date", "share"),
    ("leads_won", SOURCES[0], "leads_won", "count"),
    ("median_days", GRADES[0], "median_days", "days"),
    ("response_rate", CHANNELS[0], "response_rate", "share"),
    ("closed_leads", REASONS[0], "closed_leads", "count"),
    ("graded_within_24h_share", DISCIPLINE, "graded_within_24h_share", "share"),
    ("logged_within_1h_share", DISCIPLINE, "logged_within_1h_share", "share"),
    ("overdue_at_end", DISCIPLINE, "overdue_at_end", "count"),
)


def _headline(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    scope: Scope,
    start: date,
    totals: dict[str, dict[str, Any]],
) -> list[tuple[str, Figure, Figure]]:
    discipline = _rows(
        con,
        f"SELECT * FROM marts.{DISCIPLINE} WHERE {_where()} AND period_start = ?",
        [kind, scope.kind, scope.name, start],
    )
    by_mart = {
        SOURCES[0]: totals["sources"],
        GRADES[0]: totals["grades"],
        CHANNELS[0]: totals["channels"],
        REASONS[0]: totals["reasons"],
        DISCIPLINE: discipline[0] if discipline else {},
    }
    out = []
    for key, mart, column, unit in HEADLINE:
        row = {"period_start": start, **by_mart[mart]}
        dim = None if mart == DISCIPLINE else TOTAL
        this = Figure(row.get(column), unit, mart, column, start, dim)
        previous = Figure(
            row.get(f"previous_{column}"), unit, mart, f"previous_{column}", start, dim
        )
        out.append((key, this, previous))
    return out


TREND_SERIES = {  # chart -> (mart, dimension filter, columns)
    "volume": (SOURCES[0], TOTAL, ("leads_acquired", "leads_won")),
    "rates": (DISCIPLINE, None, ("graded_within_24h_share", "logged_within_1h_share")),
    "response": (CHANNELS[0], TOTAL, ("response_rate",)),
    "backlog": (DISCIPLINE, None, ("overdue_at_end",)),
}


def _trends(
    con: duckdb.DuckDBPyConnection, kind: str, scope: Scope
) -> dict[str, list[tuple[date, dict[str, Figure]]]]:
    trends = {}
    for name, (mart, total, columns) in TREND_SERIES.items():
        dim_filter = " AND is_total" if total else ""
        rows = _rows(
            con,
            f"SELECT period_start, {', '.join(columns)} FROM marts.{mart} WHERE {_where()}"
            f"{dim_filter} ORDER BY period_start",
            [kind, scope.kind, scope.name],
        )
        unit = "count" if name in ("volume", "backlog") else "share"
        trends[name] = [
            (row["period_start"], {c: Figure(row[c], unit, mart, c, row["period_start"], total)
                                   for c in columns})
            for row in rows
        ]  # fmt: skip
    return trends
