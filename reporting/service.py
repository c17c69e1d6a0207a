"""Render the period reports of as_of: one page per period kind and scope (the organisation and
each team), with its charts, under <reports>/periods/<kind>/<period start>/.

Reads the warehouse's marts only (rpt_period_*, dim_owners for the reader's language) and
writes files only under the reports folder; it sends nothing (notify does, given the result)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from leadflow.core import warehouse as warehouse_db
from leadflow.core.errors import LeadflowError
from reporting import charts as draw
from reporting.figures import ReportFigures, Scope, mart_period, read_report, report_scopes
from reporting.page import action_figures, case_facts, render_page, title
from reporting.periods import PERIOD_KINDS, report_period
from reporting.text import ReportText, format_figure, load_text

log = logging.getLogger(__name__)

FALLBACK_OWNER = "ops"  # C5: ops reads the organisation's report
CASES_IN_EMAIL = 3  # per list: the email points at the page for the rest


class ReportError(LeadflowError):
    """The marts cannot give this report (built for another as_of, or not built)."""


@dataclass(frozen=True)
class RenderedChart:
    name: str
    title: str
    png: bytes
    path: Path


@dataclass(frozen=True)
class RenderedReport:
    """One rendered report and the pieces its email needs (plain values, no markup)."""

    period_kind: str
    period_start: date
    period_end: date
    scope: str  # organisation | team
    scope_name: str
    reader: str  # who reads it: the team's manager, ops for the organisation
    language: str
    title: str
    html_path: Path
    charts: tuple[RenderedChart, ...]
    headline: tuple[tuple[str, str, str, str], ...]  # (key, label, this period, period before)
    actions: tuple[tuple[str, str, str, str], ...]  # (rule_id, action_zh, action_en, figures)
    cases: tuple[tuple[str, str, str, str, str], ...]  # (case type, lead, owner, company, facts)


def render_period_reports(
    warehouse: Path, reports_dir: Path, as_of: date, kinds: Iterable[str] = PERIOD_KINDS
) -> list[RenderedReport]:
    """Render every report of `kinds` for `as_of`; raises ReportError when the marts were built
    for a date whose report covers another period."""
    rendered = []
    with warehouse_db.connect(warehouse, read_only=True) as con:
        languages = _languages(con)
        for kind in kinds:
            period = _check_period(con, kind, as_of)
            for scope in report_scopes(con, kind):
                reader = FALLBACK_OWNER if scope.kind == "organisation" else scope.name
                text = load_text(languages.get(reader.lower()))
                figures = read_report(con, kind, scope, period)
                rendered.append(_render(figures, text, reader, reports_dir, as_of))
    log.info("period reports for %s: %d rendered in %s", as_of, len(rendered), reports_dir)
    return rendered


def _check_period(con: duckdb.DuckDBPyConnection, kind: str, as_of: date) -> tuple[date, date]:
    expected = report_period(kind, as_of)
    built = mart_period(con, kind)
    if built is None:
        raise ReportError(f"no {kind} figures in the marts: build them first (leadflow run)")
    if tuple(built) != expected:
        raise ReportError(
            f"the marts cover the {kind} from {built[0]}, but the report for {as_of} covers the "
            f"{kind} from {expected[0]}: build the marts for {as_of} first "
            f"(leadflow run --as-of {as_of})"
        )
    return expected


def _languages(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = con.execute("SELECT owner_name, language FROM marts.dim_owners").fetchall()
    return {name.lower(): language for name, language in rows if name}


def _render(
    figures: ReportFigures, text: ReportText, reader: str, reports_dir: Path, as_of: date
) -> RenderedReport:
    folder = reports_dir / "periods" / figures.period_kind / figures.period_start.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    stem = scope_slug(figures.scope)
    pngs = _draw_charts(figures, text)
    charts = []
    for name, png in pngs.items():
        path = folder / f"{stem}_{name}.png"
        _write_bytes(path, png)
        charts.append(RenderedChart(name, text.t(f"charts.{name}"), png, path))
    html_path = folder / f"{stem}.html"
    _write_bytes(html_path, render_page(figures, text, pngs, as_of).encode("utf-8"))
    return RenderedReport(
        period_kind=figures.period_kind,
        period_start=figures.period_start,
        period_end=figures.period_end,
        scope=figures.scope.kind,
        scope_name=figures.scope.name,
        reader=reader,
        language=text.code,
        title=title(text, figures),
        html_path=html_path,
        charts=tuple(charts),
        headline=tuple(
            (
                key,
                text.t(f"headline.{key}"),
                format_figure(this, text.none),
                format_figure(previous, text.none),
            )
            for key, this, previous in figures.headline
        ),  # fmt: skip
        actions=tuple(
            (a["rule_id"], a["action_zh"], a["action_en"], action_figures(a, text))
            for a in figures.actions
        ),
        cases=tuple(_email_cases(figures.cases, text)),
    )


def _email_cases(cases: list[dict[str, Any]], text: ReportText) -> list[tuple[str, ...]]:
    return [
        (c["case_type"], c["lead_key"], c["owner_name"] or "", c["company"] or "",
         case_facts(c, text))
        for c in cases
        if c["case_rank"] <= CASES_IN_EMAIL
    ]  # fmt: skip


def _draw_charts(figures: ReportFigures, text: ReportText) -> dict[str, bytes]:
    charts: dict[str, bytes] = {}
    for name, points in figures.trends.items():
        if not points:
            continue
        periods = [start for start, _ in points]
        columns = list(points[0][1])
        series = {text.t(f"series.{c}"): [values[c].value for _, values in points] for c in columns}
        share = points[0][1][columns[0]].unit == "share"
        charts[name] = draw.trend_chart(
            periods, series, share=share, title=text.t(f"charts.{name}")
        )
    bars = {  # chart -> (table, column)
        "sources": ("sources", "conversion_to_date"),
        "grades": ("grades", "median_days"),
        "channels": ("channels", "response_rate"),
        "reasons": ("reasons", "closed_leads"),
    }
    for name, (table, column) in bars.items():
        rows = [r for r in figures.tables.get(table, []) if not r["is_total"]]
        if not rows:
            continue
        charts[name] = draw.bar_chart(
            [text.label(table, r["label"]) for r in rows],
            [r[column].value for r in rows],
            share=r_unit(rows, column) == "share",
            title=text.t(f"charts.{name}"),
        )
    return charts


def r_unit(rows: list[dict[str, Any]], column: str) -> str:
    return rows[0][column].unit


def scope_slug(scope: Scope) -> str:
    """A file name for a scope: `organisation`, or `team_<name>_<hash>` (names may be CJK or
    hold characters no file system takes; the hash keeps two similar names apart)."""
    if scope.kind == "organisation":
        return "organisation"
    digest = hashlib.sha256(scope.name.encode("utf-8")).hexdigest()[:8]
    slug = re.sub(r"[^\w.-]+", "_", scope.name).strip("._")[:40] or "team"
    return f"team_{slug}_{digest}"


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
