"""Owner emails from a warehouse built from another export: Maven CRM opportunities, loaded
through its shipped channel YAML (ingest/channels/maven_opportunities.yaml) by the real pipeline.

The CSV is written here in the export's own column layout (the real file lives outside the
repository); owners are Maven's sales agents, some reading English, some Chinese. A second
file dropped later the same day brings two opportunities: the later forward run sends their
owner a "new leads" email with exactly those, and nobody gets the morning queue again.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import duckdb
import pytest

from leadflow.core.settings import DEFAULT_MAIL_MAX_FIELD_CHARS, load_settings
from leadflow.pipeline import run_all
from leadflow.results import RunSummary
from notify.contact import shorten
from tests.mail_browser import Browser, chromium_path
from tests.notify_fixtures import html_part, text_part
from tests.test_notify_locales import ASCII_WORD, CJK, PROPER_NAMES, PROPER_WORDS, RULE_CODE

AS_OF = date(2017, 1, 10)
PIPELINE_HEADER = [
    "opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
    "close_date", "close_value",
]  # fmt: skip
LONG_ACCOUNT = "Cancity Holdings " * 600  # 10,200 characters: flagged, cut in mail
MORNING_ROWS = [
    ["1C1I7A6R", "Moses Frase", "GTX Plus Basic", "Cancity", "Engaging", "2016-10-20", "", ""],
    ["Z063OYW0", "Darcel Schlecht", "GTXPro", "Isdom", "Won", "2016-10-25", "2016-12-11", "4514"],
    ["EC4QE1BX", "Darcel Schlecht", "MG Special", "Cancity", "Engaging", "2016-12-25", "", ""],
    ["MV1LWRNH", "Moses Frase", "GTX Basic", "Codehow", "Prospecting", "", "", ""],
    ["PE84CX4O", "Zane Levy", "GTX Basic", "Hatfan", "Engaging", "2017-01-05", "", ""],
    ["ZNBS69V1", "Anna Snelling", "MG Advanced", "Ron-tech", "Engaging", "2016-11-02", "", ""],
    ["9ME3374G", "Anna Snelling", "GTX Pro", LONG_ACCOUNT, "Engaging", "2017-01-08", "", ""],
    ["UP409DSB", "Hayden Neloms", "MG Special", "Betasoloin", "Lost", "2016-10-30", "2016-12-01",
     "0"],
    ["HAXMC4IX", "Versie Hillebrand", "GTX Plus Pro", "", "Engaging", "2016-12-30", "", ""],
]  # fmt: skip
NOON_ROWS = [  # engaged yesterday, exported at noon
    ["NOON0001", "Moses Frase", "GTX Pro", "Rundofase", "Engaging", "2017-01-09", "", ""],
    ["NOON0002", "Moses Frase", "MG Advanced", "Konmatfix", "Prospecting", "", "", ""],
]
OWNERS = [  # name, email, language, manager, active; Zane Levy is missing: his lead goes to ops
    ("Moses Frase", "moses@maven.example", "en", "Dustin Brinkmann", "true"),
    ("Darcel Schlecht", "darcel@maven.example", "en", "Melvin Marxen", "true"),
    ("Anna Snelling", "anna@maven.example", "zh", "Dustin Brinkmann", "true"),
    ("Hayden Neloms", "hayden@maven.example", "zh", "Melvin Marxen", "true"),
    ("Versie Hillebrand", "versie@maven.example", "zh", "Dustin Brinkmann", "true"),
    ("ops", "ops@maven.example", "zh", "", "true"),
]
ROUTING = """version: 1
pools:
  central:
    members: [Versie Hillebrand, Anna Snelling]
rules:
  - name: default
    pool: central
"""


@dataclass
class MavenRun:
    warehouse: Path
    morning: dict[str, EmailMessage]  # recipient -> the morning email
    noon: dict[str, list[EmailMessage]]  # recipient -> what the noon run sent
    summaries: list[RunSummary]


def write_csv(path: Path, header: list[str], rows: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def read_outbox(outbox: Path, seen: set[Path]) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for path in sorted(outbox.rglob("*.eml")):
        if path in seen:
            continue
        seen.add(path)
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found.setdefault(msg["To"].addresses[0].addr_spec, []).append(msg)
    return found


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MavenRun]:
    root = tmp_path_factory.mktemp("maven")
    inbox = root / "inbox"
    inbox.mkdir()
    write_csv(inbox / "sales_pipeline_2017-01-09.csv", PIPELINE_HEADER, MORNING_ROWS)
    write_csv(inbox / "owners.csv", ["name", "email", "language", "manager", "active"], OWNERS)
    (root / "routing.yaml").write_text(ROUTING, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEADFLOW_TODAY", AS_OF.isoformat())  # forward runs: route, publish, mail
        mp.setenv("LEADFLOW_ROUTING_RULES", str(root / "routing.yaml"))
        settings = load_settings().with_paths(
            data_dir=root,
            inbox=inbox,
            warehouse=root / "wh.duckdb",
            outbox=root / "outbox",
            reports_dir=root / "reports",
            publish_dir=root / "publish",
        )
        seen: set[Path] = set()
        first = run_all(settings, AS_OF)
        morning = {to: msgs[0] for to, msgs in read_outbox(settings.outbox, seen).items()}
        write_csv(inbox / "sales_pipeline_2017-01-10_noon.csv", PIPELINE_HEADER, NOON_ROWS)
        second = run_all(settings, AS_OF)
        noon = read_outbox(settings.outbox, seen)
    yield MavenRun(settings.warehouse, morning, noon, [first, second])


def data_values(warehouse: Path) -> set[str]:
    """Every text the warehouse hands the email (companies, names, keys, files...)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT company, person_name, title, next_action, lead_key, owner_name, email "
            "FROM marts.ops_owner_queue UNION ALL "
            "SELECT owner_name, files, NULL, NULL, NULL, NULL, NULL "
            "FROM marts.ops_unknown_owner_names UNION ALL "
            "SELECT channel, last_file_name, NULL, NULL, NULL, NULL, NULL "
            "FROM marts.ops_stale_channels"
        ).fetchall()
    values = {str(v) for row in rows for v in row if v}
    values |= {shorten(v, DEFAULT_MAIL_MAX_FIELD_CHARS) for v in values}  # as shown when cut
    return values | {name for name, *_ in OWNERS}


def own_words(text: str, values: set[str]) -> str:
    # proper names first: a data value such as the owner `ops` is part of `marts.ops_owner_queue`
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def test_each_owner_reads_their_own_language(maven: MavenRun) -> None:
    values = data_values(maven.warehouse)
    languages = {email: language for _, email, language, _, _ in OWNERS}
    assert set(maven.morning) == {"moses@maven.example", "darcel@maven.example",
                                  "anna@maven.example", "versie@maven.example",
                                  "ops@maven.example"}  # fmt: skip
    for address, msg in maven.morning.items():
        for part in (str(msg["Subject"]), text_part(msg)):
            words = own_words(part, values)
            if languages[address] == "zh":
                assert not set(ASCII_WORD.findall(words)) - set(PROPER_WORDS), address
            else:
                assert not CJK.search(words), address
            assert not RULE_CODE.search(part), address


def test_subjects_count_what_the_bodies_show(maven: MavenRun) -> None:
    for msg in maven.morning.values():
        html = html_part(msg)
        sections = [int(n) for n in re.findall(r"\((\d+)\)</h2>", html)]
        after_date = re.split(r"[：:] ?", str(msg["Subject"]), maxsplit=1)[1]
        assert [int(n) for n in re.findall(r"\d+", after_date)] == [*sections[:3], sum(sections)]
    ops = text_part(maven.morning["ops@maven.example"])
    with duckdb.connect(str(maven.warehouse), read_only=True) as con:
        (records,) = con.execute(
            "SELECT record_count FROM marts.ops_unknown_owner_names WHERE owner_name = 'Zane Levy'"
        ).fetchone()
    assert f"Zane Levy（{records} 条记录）：sales_pipeline_2017-01-09.csv" in ops


def test_a_10_kb_account_name_is_flagged_and_cut_in_mail(maven: MavenRun) -> None:
    with duckdb.connect(str(maven.warehouse), read_only=True) as con:
        flags = con.execute(
            "SELECT file_name, row_number, column_name, severity FROM dq.flags "
            "WHERE check_name = 'field_too_long'"
        ).fetchall()
        stored = con.execute(
            "SELECT max(length(company)) FROM marts.ops_owner_queue "
            "WHERE owner_name = 'Anna Snelling'"
        ).fetchone()[0]
    # on its row (each record the channel maps the row to carries the company)
    assert set(flags) == {("sales_pipeline_2017-01-09.csv", 7, "company", "warning")}
    assert stored == len(LONG_ACCOUNT.strip())
    anna = html_part(maven.morning["anna@maven.example"])
    assert LONG_ACCOUNT[: DEFAULT_MAIL_MAX_FIELD_CHARS - 1].rstrip() + "…" in anna
    assert LONG_ACCOUNT[: DEFAULT_MAIL_MAX_FIELD_CHARS + 5] not in anna


def test_the_noon_file_reaches_its_owner_as_new_leads_only(maven: MavenRun) -> None:
    assert set(maven.noon) == {"moses@maven.example"}
    (msg,) = maven.noon["moses@maven.example"]
    assert msg["Subject"] == "New leads Tue 10 Jan: 2 leads since your last email"
    keys = re.findall(r'data-lead-key="([^"]+)"', html_part(msg))
    assert keys == ["maven_opportunities:NOON0001", "maven_opportunities:NOON0002"]
    # NOON0001 waits for its grade and for its record: how long it waited is said once
    assert text_part(msg).count("Waiting for 24 hours (arrived 9 Jan 2017 00:00)") == 1
    mail = maven.summaries[1].notify.emails
    assert mail.emails_written == 0 and mail.skipped_already_sent == len(maven.morning)
    assert (mail.new_lead_emails, mail.new_leads) == (1, 2)


@pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (.ci/run installs it)")
def test_maven_emails_fit_a_phone_and_a_desktop(maven: MavenRun, tmp_path: Path) -> None:
    emails = {
        **{f"morning-{to.split('@')[0]}": msg for to, msg in maven.morning.items()},
        **{f"noon-{to.split('@')[0]}": m[0] for to, m in maven.noon.items()},
    }
    with Browser() as browser:
        for name, msg in emails.items():
            for width in (420, 1200):
                view = browser.view(html_part(msg), width, tmp_path / f"{name}-{width}.png")
                assert not view.scrolls_sideways, (name, width, view.scroll_width)
                assert msg["To"].addresses[0].display_name in view.text
                assert view.screenshot.stat().st_size > 1000
