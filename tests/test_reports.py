"""The weekly and monthly analysis (issue 16, R11) as managers see it: reports rendered from the
marts of a real dbt build, looked at in headless Chromium, every number shown compared with its
mart, a few figures computed here with pandas from the export files themselves (demo data and
the real Olist export), and the emails delivered over real SMTP exactly once.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from expectations.flags import ensure_flags_table
from ingest.loader import ingest_inbox
from leadflow import pipeline
from leadflow.publish import publish_reports
from notify.period_report import send_period_reports
from reporting import render_period_reports
from reporting.page import render_page
from tests.e2e_support import REPO
from tests.mail_browser import Browser, chromium_path
from tests.workdirs import workdir_settings

MONDAY = date(2026, 11, 23)  # a week report is due; the week covered is 11-16 .. 11-22
WEEK = date(2026, 11, 16)
MONTH = date(2026, 10, 1)
REALDATA = REPO / "tests" / "data" / "realdata" / "olist_marketing_funnel"
OLIST_MQL = REALDATA / "olist_marketing_qualified_leads_dataset.csv"
OLIST_DEALS = REALDATA / "olist_closed_deals_dataset.csv"
CHANNEL_CODES = {
    "电话": "phone",
    "邮件": "email",
    "拜访": "visit",
    "微信": "wechat",
    "演示": "demo",
}
needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="no chromium installed")


def build_warehouse(root: Path, as_of: date, timezone: str = "Asia/Shanghai"):
    """Ingest the inbox, the flags table validation would fill, the production dbt build."""
    settings = replace(
        workdir_settings(root, warehouse="warehouse.duckdb"), business_timezone=timezone
    )
    ingest_inbox(
        settings.warehouse, settings.inbox, settings.channels_dir, run_id="test",
        business_timezone=timezone, reports_dir=settings.reports_dir,
    )  # fmt: skip
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_flags_table(con)
    pipeline.transform(settings, as_of, "test")
    return settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from tools.demo.data import generate

    root = tmp_path_factory.mktemp("reports")
    generate(root / "inbox", seed=7, leads=60, as_of=MONDAY, truth_path=root / "truth.json")
    # the export as written, before ingest archives it
    follow_ups = next((root / "inbox").glob("follow_ups_*.csv"))
    frame = pd.read_csv(follow_ups, dtype=str)
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    frame["person"] = truth["activity_records"][follow_ups.name]
    settings = build_warehouse(root, MONDAY)
    reports = render_period_reports(settings.warehouse, settings.reports_dir, MONDAY)
    return settings, reports, frame


def mart(settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


class NumberCells(HTMLParser):
    """Every `<td data-mart=...>` of a page: its attributes and the text shown."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[dict[str, str], str]] = []
        self._open: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and "data-mart" in attributes:
            self._open, self._text = attributes, ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "td" and self._open is not None:
            self.cells.append((self._open, self._text.strip()))
            self._open = None


DIMENSION_COLUMNS = {
    "rpt_period_source_conversion": "source_label",
    "rpt_period_cycle_by_grade": "grade_at_win",
    "rpt_period_channel_response": "follow_up_channel",
    "rpt_period_lost_reasons": "churn_category",
}


def shown_matches(shown: str, value) -> bool:
    """The text a reader sees against the mart's value, read back independently."""
    if value is None or (isinstance(value, float) and value != value):
        return shown == "-"
    if shown.endswith("%"):
        return abs(float(shown[:-1]) / 100 - float(value)) < 0.0005 + 1e-9
    return abs(float(shown.replace(",", "")) - float(value)) <= 0.05 + 1e-9


def test_every_number_shown_is_the_marts(demo):
    settings, reports, _ = demo
    assert {(r.period_kind, r.scope) for r in reports} == {
        ("week", "organisation"), ("week", "team"), ("month", "organisation"), ("month", "team"),
    }  # fmt: skip
    for report in reports:
        parser = NumberCells()
        parser.feed(report.html_path.read_text(encoding="utf-8"))
        assert len(parser.cells) > 40, report.html_path
        for attrs, shown in parser.cells:
            table = attrs["data-mart"]
            sql = (
                f"SELECT {attrs['data-column']} FROM marts.{table} WHERE period_kind = ? "
                "AND scope = ? AND scope_name = ? AND period_start = ?"
            )
            params = [report.period_kind, report.scope, report.scope_name, attrs["data-period"]]
            if "data-dimension" in attrs:
                sql += f" AND {DIMENSION_COLUMNS[table]} = ?"
                params.append(attrs["data-dimension"])
            rows = mart(settings, sql, params)
            assert len(rows) == 1, (attrs, rows)
            assert shown_matches(shown, rows[0][0]), (report.html_path.name, attrs, shown, rows)


def test_a_chinese_report_names_channels_and_reasons_in_chinese(demo):
    """The marts carry codes (`phone`, `competitor`); a zh reader sees words (the report's
    locale), in the tables, the fired rules and the cases alike."""
    settings, reports, _ = demo
    codes = {
        code
        for (code,) in mart(
            settings, "SELECT DISTINCT churn_category FROM marts.rpt_period_lost_reasons"
        )
    }
    codes |= {
        code
        for (code,) in mart(
            settings, "SELECT DISTINCT follow_up_channel FROM marts.rpt_period_channel_response"
        )
    }
    codes -= {"(all)", None}
    assert {"phone", "email"} <= codes
    for report in reports:
        html = report.html_path.read_text(encoding="utf-8")
        if 'lang="zh' not in html:
            continue
        visible = re.sub(r"<[^>]+>", " ", html)  # attributes (data-dimension) keep the codes
        assert [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", visible)] == []


def test_week_follow_ups_by_channel_as_pandas_counts_them(demo):
    """Follow-ups contacted 11-16 .. 11-22 per channel and how many were answered, from the
    export file (orphans left out: they resolve to no lead, C3), against the mart and the page."""
    settings, reports, frame = demo
    frame = frame[frame["person"].notna()]
    contacted = pd.to_datetime(frame["跟进时间"])
    week = frame[(contacted >= "2026-11-16") & (contacted < "2026-11-23")]
    expected = {
        CHANNEL_CODES[channel]: (len(rows), int((rows["客户是否回应"] == "是").sum()))
        for channel, rows in week.groupby("跟进方式")
    }
    logged = pd.to_datetime(week["记录时间"]) - pd.to_datetime(week["跟进时间"])
    within = (logged <= pd.Timedelta(minutes=60)).sum() / logged.notna().sum()
    assert sum(n for n, _ in expected.values()) >= 10  # the demo week has real activity
    got = mart(
        settings,
        "SELECT follow_up_channel, follow_ups, responded_true "
        "FROM marts.rpt_period_channel_response "
        "WHERE period_kind = 'week' AND period_start = ? AND scope = 'organisation' "
        "AND NOT is_total AND follow_ups > 0",
        [WEEK],
    )
    assert {c: (n, r) for c, n, r in got} == expected
    (share,) = mart(
        settings,
        "SELECT logged_within_1h_share FROM marts.rpt_period_discipline WHERE period_kind = "
        "'week' AND period_start = ? AND scope = 'organisation'",
        [WEEK],
    )[0]
    assert share == pytest.approx(within)
    org = next(r for r in reports if r.period_kind == "week" and r.scope == "organisation")
    page = org.html_path.read_text(encoding="utf-8")
    for channel, (n, _) in expected.items():
        cell = (
            f'data-mart="rpt_period_channel_response" data-column="follow_ups" '
            f'data-period="{WEEK}" data-dimension="{channel}">{n}</td>'
        )
        assert cell in page


def test_olist_monthly_conversion_by_origin_as_pandas_says(tmp_path):
    """May 2018 on the real Olist export (São Paulo business time): leads acquired per origin,
    how many of them were won by as_of, and the leads won in May by the origin they came from."""
    (tmp_path / "inbox").mkdir()
    for path in (OLIST_MQL, OLIST_DEALS):
        (tmp_path / "inbox" / path.name).write_bytes(path.read_bytes())
    as_of = date(2018, 6, 4)  # a Monday: week 2018-05-28 .. 06-03, month May
    settings = build_warehouse(tmp_path, as_of, timezone="America/Sao_Paulo")
    mql = pd.read_csv(OLIST_MQL, dtype=str)
    deals = pd.read_csv(OLIST_DEALS, dtype=str).merge(mql, on="mql_id")
    mql["acquired"] = pd.to_datetime(mql["first_contact_date"], format="%d-%m-%Y")
    deals["won"] = pd.to_datetime(deals["won_date"], format="%d-%m-%Y %H:%M")
    won_by_as_of = set(deals.loc[deals["won"] < "2018-06-04", "mql_id"])
    may = mql[(mql["acquired"] >= "2018-05-01") & (mql["acquired"] < "2018-06-01")]
    expected_acquired = {
        origin: (len(group), int(group["mql_id"].isin(won_by_as_of).sum()))
        for origin, group in may.groupby(may["origin"].fillna("unknown"))
    }
    won_may = deals[(deals["won"] >= "2018-05-01") & (deals["won"] < "2018-06-01")]
    expected_won = won_may.groupby(won_may["origin"].fillna("unknown")).size().to_dict()
    assert sum(n for n, _ in expected_acquired.values()) > 500 and sum(expected_won.values()) > 50
    rows = mart(
        settings,
        "SELECT source_label, leads_acquired, won_to_date, leads_won FROM "
        "marts.rpt_period_source_conversion WHERE period_kind = 'month' AND period_start = "
        "'2018-05-01' AND scope = 'organisation' AND NOT is_total",
    )
    got_acquired = {s: (n, w) for s, n, w, _ in rows if n}
    got_won = {s: won for s, _, _, won in rows if won}
    assert got_acquired == expected_acquired
    assert got_won == expected_won
    reports = render_period_reports(settings.warehouse, settings.reports_dir, as_of, ["month"])
    (org,) = [r for r in reports if r.scope == "organisation"]
    total = sum(n for n, _ in expected_acquired.values())
    key, _, shown, _ = org.headline[0]
    assert (key, shown) == ("leads_acquired", f"{total:,}")


def png_is_drawn(png: bytes) -> bool:
    """A real picture: some size, and more than a blank canvas (many non-white pixels)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    if width < 100 or height < 50:
        return False
    colours = image.getcolors(maxcolors=width * height)  # [(count, (r, g, b)), ...]
    inked = sum(count for count, rgb in colours if sum(rgb) < 600)
    return inked / (width * height) > 0.01 and len(colours) > 8


@needs_chromium
def test_report_opens_offline_with_its_charts_drawn(demo, tmp_path):
    _, reports, _ = demo
    org = next(r for r in reports if r.period_kind == "week" and r.scope == "organisation")
    page = org.html_path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)  # nothing to fetch
    assert "<script" not in page
    with Browser() as browser:
        view = browser.view(page, 1000, tmp_path / "report.png")
        images = browser.evaluate(
            "JSON.stringify([...document.images].map(i => ({chart: i.dataset.chart, "
            "complete: i.complete, w: i.naturalWidth, h: i.naturalHeight})))"
        )
    images = json.loads(images)
    assert len(images) == 8 and {i["chart"] for i in images} == {
        "volume", "rates", "response", "backlog", "sources", "grades", "channels", "reasons",
    }  # fmt: skip
    assert all(i["complete"] and i["w"] > 100 and i["h"] > 50 for i in images), images
    assert not view.scrolls_sideways
    assert "主要指标" in view.text and "数字背后的线索" in view.text  # ops reads Chinese
    for chart in org.charts:
        assert png_is_drawn(chart.png), chart.name


def test_report_escapes_what_the_data_says(demo, tmp_path):
    _, reports, _ = demo
    settings = demo[0]
    from reporting.figures import Scope, read_report
    from reporting.text import load_text

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        figures = read_report(con, "week", Scope("organisation", "all"), (WEEK, MONDAY))
    figures.tables["sources"][0]["label"] = "<script>alert(1)</script>"
    figures.scope = Scope("team", '"><img src=x onerror=alert(1)>')
    page = render_page(figures, load_text("en"), {}, MONDAY)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_locales_have_the_same_keys():
    def keys(node, prefix=""):
        out = set()
        for k, v in node.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}"}
        return out

    locales = REPO / "reporting" / "locales"
    en, zh = (
        yaml.safe_load((locales / f"{c}.yaml").read_text(encoding="utf-8")) for c in ("en", "zh")
    )
    assert keys(en) == keys(zh)


def test_a_report_for_another_period_than_the_marts_is_refused(demo):
    from reporting import ReportError

    settings = demo[0]
    with pytest.raises(ReportError, match="build the marts for 2026-11-30 first"):
        render_period_reports(
            settings.warehouse, settings.reports_dir, date(2026, 11, 30), ["week"]
        )


def mails_of(settings, reports, kinds=("week",)):
    return [pipeline.report_mail(r) for r in reports if r.period_kind in kinds]


def with_cid_images(msg) -> str:
    """The HTML part with every cid: image replaced by its inline part, as a mail app shows it."""
    html_part = msg.get_body(preferencelist=("html",))
    html = html_part.get_content()
    for part in msg.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
            html = html.replace(f"cid:{cid.strip('<>')}", f"data:image/png;base64,{data}")
    return html


@needs_chromium
def test_manager_and_ops_emails_arrive_over_smtp_once(demo, server, tmp_path):
    settings, reports, _ = demo
    handler, smtp = server
    mails = mails_of(settings, reports)
    first = send_period_reports(settings.warehouse, tmp_path / "outbox", mails, smtp=smtp)
    assert first.reports_sent == 2 and first.failed == 0
    received = handler.by_recipient()
    assert set(received) == {"chen.jing@leadflow-demo.example", "ops@leadflow-demo.example"}
    again = send_period_reports(settings.warehouse, tmp_path / "outbox", mails, smtp=smtp)
    assert again.reports_sent == 0 and again.skipped_already_sent == 2
    assert len(handler.messages) == 2  # a re-run sends nothing twice (C9)
    manager = received["chen.jing@leadflow-demo.example"]
    assert "周分析" in manager["Subject"] and "陈静 团队" in manager["Subject"]
    images = [p for p in manager.walk() if p.get_content_maintype() == "image"]
    assert len(images) == 8 and all(png_is_drawn(p.get_payload(decode=True)) for p in images)
    html = with_cid_images(manager)
    assert "cid:" not in html
    with Browser() as browser:
        view = browser.view(html, 680, tmp_path / "email.png")
        natural = json.loads(
            browser.evaluate("JSON.stringify([...document.images].map(i => i.naturalWidth))")
        )
    assert len(natural) == 8 and min(natural) > 100
    assert "需要改进的地方" in view.text and not view.scrolls_sideways
    # the figures in the email are the report's (which the marts test compares)
    team = next(r for r in reports if r.period_kind == "week" and r.scope == "team")
    for _key, _label, this, _previous in team.headline:
        assert this in view.text


def test_the_run_step_mails_due_reports_once_and_publishes_them(demo, tmp_path, monkeypatch):
    """pipeline.report on a Monday with send (no SMTP connection: .eml files), twice."""
    settings, _, _ = demo
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    warehouse = tmp_path / "warehouse.duckdb"  # its own send ledger: the SMTP test has one
    warehouse.write_bytes(settings.warehouse.read_bytes())
    with duckdb.connect(str(warehouse)) as con:  # what the SMTP test sent is not this test's
        con.execute("DROP TABLE IF EXISTS mail.report_ledger")
    settings = replace(
        settings, warehouse=warehouse, outbox=tmp_path / "outbox", reports_dir=tmp_path / "reports"
    )
    first = pipeline.report(settings, MONDAY, send=True)  # Monday: the week's, not the month's
    assert first.rendered == 2 and first.mailed is True and first.delivery.reports_written == 2
    again = pipeline.report(settings, MONDAY, send=True)
    assert again.delivery.reports_written == 0 and again.delivery.skipped_already_sent == 2
    emls = sorted((tmp_path / "outbox" / "reports" / "week" / WEEK.isoformat()).glob("*.eml"))
    assert len(emls) == 2
    tuesday = pipeline.report(settings, date(2026, 11, 24), send=True)
    assert tuesday.rendered == 0 and "no report due" in tuesday.reason
    by_hand = pipeline.report(settings, MONDAY, kinds=["month"])  # leadflow report --period
    assert by_hand.rendered == 2 and by_hand.mailed is False
    published = publish_reports(settings.reports_dir, tmp_path / "publish", run_id="r1")
    target = Path(published)
    assert (target / "week" / WEEK.isoformat() / "organisation.html").is_file()
    assert (target / "month" / MONTH.isoformat() / "organisation_sources.png").is_file()
    publish_reports(settings.reports_dir, tmp_path / "publish", run_id="r2")  # replaces whole
    assert not list((tmp_path / "publish" / "reports").glob(".periods.*"))


def test_the_dag_run_has_its_report_step(demo_run):
    """The Airflow run of the demo (a Friday, conf send) ran its report task after the build:
    nothing due on a Friday, recorded in the run's summary."""
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        (summary,) = con.execute("SELECT summary FROM ops.run_summary").fetchone()
    report = json.loads(summary)["report"]
    assert report["rendered"] == 0 and "no report due on 2026-11-20" in report["reason"]
