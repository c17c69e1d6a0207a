"""The report as one self-contained HTML page: inline CSS, charts as data: URIs, no script and
no external resource (it opens offline), every value escaped. Each number sits in a cell that
names its mart, column, dimension value and period (data-* attributes), so a test can compare
every number shown with the mart."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from leadflow.core.html_page import STYLE, esc
from reporting.figures import Figure, ReportFigures
from reporting.text import ReportText, format_figure

EXTRA_STYLE = """
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0;flex:1 1 30rem}
.charts img{max-width:100%;height:auto;border:1px solid #d0d7de}
.action{border-left:4px solid #bf8700;padding:.25rem .75rem;margin:.5rem 0;background:#fff8c5}
tr.total td{font-weight:600;background:#f6f8fa}
"""


def number_cell(figure: Figure, text: ReportText) -> str:
    attrs = (
        f'data-mart="{esc(figure.mart)}" data-column="{esc(figure.column)}" '
        f'data-period="{figure.period_start.isoformat()}"'
    )
    if figure.dimension is not None:
        attrs += f' data-dimension="{esc(figure.dimension)}"'
    return f'<td class="n" {attrs}>{esc(format_figure(figure, text.none))}</td>'


def period_label(text: ReportText, kind: str, start: date, end: date) -> str:
    last = end - timedelta(days=1)
    if kind == "month":
        return text.t("period.month", month=start.strftime("%Y-%m"))
    return text.t("period.week", start=start.isoformat(), last=last.isoformat())


def title(text: ReportText, report: ReportFigures) -> str:
    period = period_label(text, report.period_kind, report.period_start, report.period_end)
    scope = text.t(f"scope.{report.scope.kind}", name=report.scope.name)
    return f"{text.t('title', period=period)} · {scope}"


def render_page(
    report: ReportFigures, text: ReportText, charts: dict[str, bytes], as_of: date
) -> str:
    kind = text.t(f"kind.{report.period_kind}")
    last = report.period_end - timedelta(days=1)
    intro = text.t(
        "intro", kind=kind, start=report.period_start.isoformat(), last=last.isoformat(),
        as_of=as_of.isoformat(),
    )  # fmt: skip
    body = [
        f'<p class="muted">{esc(intro)}</p>',
        _section(text, "headline", _headline(report, text)),
        _section(text, "actions", _actions(report, text)),
        _section(text, "trends", _charts(charts, text, ("volume", "rates", "response", "backlog"))),
        *(_section(text, name, _charts(charts, text, (name,)) + _table(report, text, name))
          for name in TABLE_COLUMNS),
        _section(text, "cases", _cases(report, text)),
    ]  # fmt: skip
    heading = title(text, report)
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(text.t("html_lang"))}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(heading)}</title><style>{STYLE}{EXTRA_STYLE}</style></head><body>"
        f"<h1>{esc(heading)}</h1>{''.join(body)}</body></html>\n"
    )


def _section(text: ReportText, key: str, content: str) -> str:
    return f'<section id="{esc(key)}"><h2>{esc(text.t(f"sections.{key}"))}</h2>{content}</section>'


def _headline(report: ReportFigures, text: ReportText) -> str:
    head = "".join(
        f"<th>{esc(text.t(f'columns.{c}'))}</th>" for c in ("figure", "this", "previous")
    )
    rows = "".join(
        f"<tr><td>{esc(text.t(f'headline.{key}'))}</td>{number_cell(this, text)}"
        f"{number_cell(previous, text)}</tr>"
        for key, this, previous in report.headline
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


TABLE_COLUMNS = {
    "sources": ("leads_acquired", "won_to_date", "conversion_to_date", "leads_won"),
    "grades": ("won_leads", "median_days", "p75_days", "max_days"),
    "channels": ("follow_ups", "response_rate", "open_rate"),
    "reasons": ("closed_leads", "lost_leads", "churned_leads", "share_of_closed"),
}


def _table(report: ReportFigures, text: ReportText, name: str) -> str:
    rows = report.tables.get(name, [])
    if not any(not r["is_total"] for r in rows):
        return f'<p class="muted">{esc(text.t("cases.none"))}</p>'
    columns = TABLE_COLUMNS[name]
    head = "<th></th>" + "".join(f"<th>{esc(text.t(f'table.{c}'))}</th>" for c in columns)
    body = []
    for row in rows:
        label = text.t("table.all") if row["is_total"] else text.label(name, row["label"])
        cells = "".join(number_cell(row[c], text) for c in columns)
        css = ' class="total"' if row["is_total"] else ""
        body.append(f"<tr{css}><td>{esc(label)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _charts(charts: dict[str, bytes], text: ReportText, names: Iterable[str]) -> str:
    figures = []
    for name in names:
        if name not in charts:
            continue
        data = base64.b64encode(charts[name]).decode("ascii")
        alt = text.t(f"charts.{name}")
        figures.append(
            f'<figure><img class="chart" data-chart="{esc(name)}" alt="{esc(alt)}" '
            f'src="data:image/png;base64,{data}"></figure>'
        )
    return f'<div class="charts">{"".join(figures)}</div>' if figures else ""


def _actions(report: ReportFigures, text: ReportText) -> str:
    if not report.actions:
        return f'<p class="muted">{esc(text.t("actions.none"))}</p>'
    return "".join(_action(a, text) for a in report.actions)


def _action(action: dict[str, Any], text: ReportText) -> str:
    figures = action_figures(action, text)
    suggestion = action["action_zh"] if text.code == "zh" else action["action_en"]
    subject = "" if action["subject"] == "(all)" else f" ({subject_label(action, text)})"
    return (
        f'<div class="action" data-rule="{esc(action["rule_id"])}"><strong>{esc(suggestion)}'
        f'{esc(subject)}</strong><br><span class="muted">{esc(figures)}</span></div>'
    )


def subject_label(action: dict[str, Any], text: ReportText) -> str:
    """The source, channel or reason a rule fired for, in the reader's words where a code."""
    kinds = {"call_response_below_email": "channels", "dominant_loss_reason": "reasons"}
    return text.label(kinds.get(action["rule_id"], ""), action["subject"])


def rule_figure(action: dict[str, Any], text: ReportText) -> str:
    """The figure a rule names, in the reader's language for the shipped rules."""
    try:
        return text.t(f"actions.rule_figures.{action['rule_id']}")
    except KeyError:  # a rule a manager added to the seed: its own words
        return str(action["figure"])


def action_figures(action: dict[str, Any], text: ReportText) -> str:
    """The figures that made a rule fire, in words."""
    share = (
        action["observed_value"] is not None
        and abs(action["observed_value"]) <= 1
        and (action["compared_value"] is None or abs(action["compared_value"]) <= 1)
    )
    unit = "share" if share else "days"

    def fmt(value: Any, u: str = unit) -> str:
        return format_figure(Figure(value, u, "", "", date.min), text.none)

    return text.t(
        "actions.figures",
        figure=rule_figure(action, text),
        observed=fmt(action["observed_value"]),
        compared=fmt(action["compared_value"]),
        threshold=fmt(action["threshold"], "days"),
        volume=fmt(action["volume"], "count"),
    )


CASE_TYPES = ("lost_from_weakest_source", "slowest_wins", "overdue_backlog")


def _cases(report: ReportFigures, text: ReportText) -> str:
    parts = []
    for case_type in CASE_TYPES:
        rows = [c for c in report.cases if c["case_type"] == case_type]
        parts.append(f"<h3>{esc(text.t(f'cases.{case_type}'))}</h3>")
        if not rows:
            parts.append(f'<p class="muted">{esc(text.t("cases.none"))}</p>')
            continue
        head = "".join(
            f"<th>{esc(text.t(f'cases.{c}'))}</th>"
            for c in ("lead", "owner", "company", "source", "grade", "facts")
        )
        body = "".join(
            f'<tr data-lead="{esc(c["lead_key"])}"><td>{esc(c["lead_key"])}</td>'
            f"<td>{esc(c['owner_name'])}</td><td>{esc(c['company'])}</td>"
            f"<td>{esc(c['source_label'])}</td><td>{esc(c['grade'])}</td>"
            f"<td>{esc(case_facts(c, text))}</td></tr>"
            for c in rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "".join(parts)


def case_facts(case: dict[str, Any], text: ReportText) -> str:
    """The facts that put a lead on its list, in words."""
    none = text.none
    if case["case_type"] == "lost_from_weakest_source":
        category = case["churn_category"]
        return text.t(
            "cases.lost", date=_iso(case["closed_on"], none), reason=case["lost_reason"] or none,
            category=text.label("reasons", category) if category else none,
        )  # fmt: skip
    if case["case_type"] == "slowest_wins":
        return text.t("cases.won", date=_iso(case["won_on"], none), days=case["cycle_days"])
    return text.t(
        "cases.overdue", days=case["days_overdue"], date=_iso(case["next_due"], none),
        backlog=case["rep_overdue_backlog"],
    )  # fmt: skip


def _iso(value: date | None, none: str) -> str:
    return value.isoformat() if value else none
