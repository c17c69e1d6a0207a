"""`leadflow run` as a person sees it (issue 14), through the real CLI in a subprocess: a line
per file and step, library chatter in the log file, nothing written outside the data dir, a
load report per file (which rows joined which existing lead), data-quality pages kept for every
run, a rejected file retried, and a clear error when ops has no address."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from leadflow.core.settings import load_settings
from tests.conftest import AS_OF, SEED
from tests.e2e_support import BIN
from tools.demo.data import generate

LATER = date(2026, 11, 27)  # "today" for the second run: a backfill for AS_OF
BROKEN = "Name,Company\nAna Souza,Acme\n"  # no scan time, no contact: rejected
FIXED = "Scan Time,Name,Email\n2026-11-05 10:00,Ana Souza,ana.souza@souza-consulting.example\n"
HEADER = "Scan Time,Name,Title,Company,Industry,Mobile,Email,City,Booth Rep,Notes"


@dataclass
class Runs:
    root: Path
    data: Path
    home: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    merged_person: tuple[str, str]  # (name, email) of the lead the second run's file met again
    leads_before: int
    leads_after: int

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.data / "warehouse" / "leadflow.duckdb"), True) as con:
            return con.execute(query).fetchall()

    @property
    def reports(self) -> Path:
        return self.data / "reports"


def leadflow(root: Path, *args: str, today: date) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADFLOW", "AIRFLOW"))}
    env.update(
        HOME=str(root / "home"),  # the CLI must not write here (it made ~/airflow/logs)
        LEADFLOW_DATA_DIR=str(root / "data"),
        LEADFLOW_TODAY=today.isoformat(),
        LEADFLOW_PROGRESS_SECONDS="3",
    )
    return subprocess.run(
        [str(BIN / "leadflow"), "run", *args], env=env, capture_output=True, text=True, timeout=900
    )


def second_file(name: str, email: str) -> str:
    rows = [
        f"2026-11-12 09:00,{name},,,,,{email},,,met again at the booth",
        "2026-11-12 09:10,Bruno Lima,CTO,Lima Tech,Software,13900001111,bruno@limatech.example,,,",
        "2026-11-12 09:20,Carla Dias,COO,Dias Log,Logistics,13900002222,carla@diaslog.example,,,",
        "2026-11-12 09:30,Davi Reis,CEO,Reis Agro,Agro,13900003333,davi@reisagro.example,,,",
        "2026-11-12 09:40,Eva Melo,CFO,Melo Fin,Finance,13900004444,<script>alert(1)</script>,,,",
    ]
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("run_output")
    data, home = root / "data", root / "home"
    home.mkdir()
    inbox = data / "inbox"
    generate(inbox, seed=SEED, leads=40, as_of=AS_OF, truth_path=root / "truth.json")
    (inbox / "shows").mkdir()
    (inbox / "shows" / "badge_scans_broken.csv").write_text(BROKEN, encoding="utf-8")
    first = leadflow(root, "--as-of", AS_OF.isoformat(), today=AS_OF)  # forward: mails
    assert first.returncode == 0, first.stdout + first.stderr
    wh = data / "warehouse" / "leadflow.duckdb"
    with duckdb.connect(str(wh), read_only=True) as con:
        person = con.execute(
            "SELECT person_name, email FROM raw.intake_records WHERE channel = 'web_form' "
            "AND email_valid AND person_name_is_full ORDER BY source_record_id LIMIT 1"
        ).fetchone()
        before = con.execute("SELECT count(*) FROM marts.dim_leads").fetchone()[0]
    # the rejected file fixed where it waits, put back with `leadflow retry`, and a new export
    (inbox / "failed" / "shows" / "badge_scans_broken.csv").write_text(FIXED, encoding="utf-8")
    retried = subprocess.run(
        [str(BIN / "leadflow"), "retry", "shows/badge_scans_broken.csv"],
        env={**os.environ, "LEADFLOW_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
    )
    assert retried.returncode == 0, retried.stderr
    (inbox / "badge_scans_again.csv").write_text(second_file(*person), encoding="utf-8")
    second = leadflow(root, "--as-of", AS_OF.isoformat(), "--quiet", today=LATER)
    assert second.returncode == 0, second.stdout + second.stderr
    with duckdb.connect(str(wh), read_only=True) as con:
        after = con.execute("SELECT count(*) FROM marts.dim_leads").fetchone()[0]
    return Runs(root, data, home, first, second, person, before, after)


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_a_run_prints_a_line_per_file_and_step_and_no_library_chatter(runs: Runs) -> None:
    out, err = runs.first.stdout, runs.first.stderr
    lines = out.splitlines()
    assert re.match(r"leadflow run \S+ for 2026-11-20 \(forward run\)$", lines[0])
    # was 271 lines, 214 of them GX's "Skipping registering"; the "… running for" ticks depend
    # on the machine's speed (one every 3 s here), so they are not counted
    steady = [line for line in lines if not line.lstrip().startswith("…")]
    assert len(steady) < 40, out
    assert "Skipping registering" not in out + err and "[info" not in out + err
    assert err == ""
    for name in ("owners.csv", "web_forms_20261120.json", "referrals_20261120.xlsx"):
        assert re.search(rf"^  loaded   {re.escape(name)} \(\w+\): \d+ rows, .* s$", out, re.M)
    assert re.search(
        r"^  REJECTED shows/badge_scans_broken.csv: required column missing", out, re.M
    )
    for step in ("ingest", "validate", "transform", "report", "publish", "notify"):
        assert re.search(rf"^{step} +\S.* \d+\.\d s$", out, re.M), step
    # the footer's total is the sum of the step lines, the report step's too (it was left out);
    # each line rounds to 0.1 s and the total to 1 s
    steps = r"^(?:ingest|validate|transform|report|publish|notify) +\S.* (\d+\.\d) s$"
    step_seconds = [float(s) for s in re.findall(steps, out, re.M)]
    (total,) = re.findall(r"^done in (\d+) s$", out, re.M)
    assert len(step_seconds) == 6 and abs(int(total) - sum(step_seconds)) <= 0.5 + 6 * 0.05
    assert re.search(r"^  … transform running for \d+ s, \d+ of \d+ done$", out, re.M)
    log = (runs.data / "logs" / "leadflow.log").read_text(encoding="utf-8")
    assert "Skipping registering function" in log  # GX's chatter: in the log file
    assert "Completed successfully" in log or "Finished running" in log  # dbt's output too


def test_quiet_prints_one_line(runs: Runs) -> None:
    (line,) = runs.second.stdout.splitlines()
    assert re.match(r"leadflow run \S+ for 2026-11-20: 2 files loaded, 0 rejected, 6 rows", line)
    assert runs.second.stderr == ""


def test_nothing_is_written_outside_the_data_dir(runs: Runs) -> None:
    assert list(runs.home.rglob("*")) == []  # was ~/airflow/logs
    assert sorted(p.name for p in runs.root.iterdir()) == ["data", "home", "truth.json"]


def test_every_file_gets_a_load_report_and_a_retried_file_replaces_its_stale_one(
    runs: Runs,
) -> None:
    loads = runs.reports / "loads"
    for name in ("owners.csv", "follow_ups_20261120.csv", "badge_scans_again.csv"):
        assert (loads / f"{name}.html").exists() and (loads / f"{name}.csv").exists()
    retried = page_text(loads / "shows" / "badge_scans_broken.csv.html")
    assert "rejected because" not in retried and "How to retry" not in retried
    assert "<td>loaded</td>" in retried
    assert not (runs.reports / "errors" / "shows" / "badge_scans_broken.csv.errors.csv").exists()
    statuses = runs.sql(
        "SELECT status FROM ops.load_reports WHERE file_name = 'shows/badge_scans_broken.csv' "
        "ORDER BY written_at"
    )
    assert statuses[0] == ("rejected",) and statuses[-1] == ("loaded",)
    index = page_text(loads / "index.html")
    assert 'href="shows/badge_scans_broken.csv.html"' in index


def test_a_row_merged_into_an_existing_lead_is_reported_with_that_lead(runs: Runs) -> None:
    # "5 records loaded" while leads grew by 4: the report now says which row joined which lead
    name, email = runs.merged_person
    (key,) = runs.sql(
        "SELECT DISTINCT k.lead_key FROM intermediate.int_lead_key_map k JOIN raw.intake_records "
        f"r USING (source_record_id) WHERE r.email = '{email}' AND r.channel = 'web_form'"
    )[0]
    report = list(csv.reader((runs.reports / "loads" / "badge_scans_again.csv.csv").open(
        encoding="utf-8-sig")))  # fmt: skip
    summary = {row[3]: row[6] for row in report if row[0] == "summary"}
    assert summary["rows added"] == "5"
    assert summary["merged into a lead that existed before this run"] == "1"
    assert summary["started a new lead"] == "4"
    merged = [row for row in report if row[0] == "merged"]
    assert [(r[2], r[6], r[7]) for r in merged] == [("1", name, key)]
    assert runs.leads_after - runs.leads_before == 4 + 1  # and the retried file's new lead
    html = page_text(runs.reports / "loads" / "badge_scans_again.csv.html")
    assert "merged into a lead that existed before this run" in html and key in html


def test_flagged_rows_are_in_the_report_with_their_original_value_escaped(runs: Runs) -> None:
    html = page_text(runs.reports / "loads" / "badge_scans_again.csv.html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "invalid_email" in html
    for page in [*(runs.reports / "loads").rglob("*.html"), *(runs.reports / "quality").glob("*")]:
        if page.suffix == ".html":
            text = page_text(page)
            assert not re.search(r"(src|href)=\"(https?:)?//", text), page  # offline
            assert "<script" not in text, page


def test_quality_pages_are_kept_for_every_run_that_validated_something(runs: Runs) -> None:
    from leadflow.pipeline import validate

    quality = runs.reports / "quality"
    pages = sorted(quality.glob("*.html"))
    assert len(pages) == 3  # two runs and the index
    first_run = runs.sql("SELECT run_id FROM ops.run_summary ORDER BY finished_at")[0][0]
    page = page_text(quality / f"{first_run}.html")
    assert "badge_scans_zhizao" in page and "unparseable_value on event_at: 1 rows" in page
    assert "<td>2026-13-45 25:61</td>" in page  # the failing row's observed value
    settings = load_settings().with_paths(
        data_dir=runs.data,
        inbox=runs.data / "inbox",
        warehouse=runs.data / "warehouse" / "leadflow.duckdb",
        reports_dir=runs.reports,
    )
    validate(settings, AS_OF, "run-with-no-new-files")  # what a run without files does
    assert sorted(quality.glob("*.html")) == pages  # nothing vanished, nothing added
    index = page_text(quality / "index.html")
    assert index.count('<a href="2026') == 2 and "data_docs/index.html" in index


def test_ops_without_an_address_is_a_clear_error_or_takes_the_setting(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadflow.ops_address import OpsAddressMissing
    from leadflow.pipeline import notify
    from tests.dbt_fixtures import run_dbt

    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(runs.data / "warehouse" / "leadflow.duckdb", warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM raw.owner_records WHERE owner_name = 'ops'")
    rebuild = ["--select", "stg_owners", "dim_owners"]
    monkeypatch.delenv("LEADFLOW_OPS_EMAIL", raising=False)
    assert run_dbt(warehouse, tmp_path, AS_OF.isoformat(), "run", extra=rebuild).returncode == 0
    settings = load_settings().with_paths(warehouse=warehouse, outbox=tmp_path / "outbox")
    with pytest.raises(OpsAddressMissing) as missing:
        notify(settings, AS_OF, send=True)
    message = str(missing.value)
    assert "owner directory (owners.csv)" in message and "row named `ops`" in message
    assert "column `name` or `姓名`" in message and "column `email` or `邮箱`" in message
    assert "LEADFLOW_OPS_EMAIL" in message
    assert not (tmp_path / "outbox").exists()  # refused before any mail went out

    monkeypatch.setenv("LEADFLOW_OPS_EMAIL", "ops-team@corp.example")
    assert run_dbt(warehouse, tmp_path, AS_OF.isoformat(), "run", extra=rebuild).returncode == 0
    mailed = notify(settings, AS_OF, send=True, resend=True)
    assert mailed.emails.failed == 0 and "ops" in mailed.emails.owners
    ops_mail = next((tmp_path / "outbox").rglob("*_ops_*.eml")).read_text(encoding="utf-8")
    assert "To: ops <ops-team@corp.example>" in ops_mail or "ops-team@corp.example" in ops_mail


def test_the_run_summary_points_at_the_reports(runs: Runs) -> None:
    (summary,) = runs.sql("SELECT summary FROM ops.run_summary ORDER BY finished_at DESC LIMIT 1")
    steps = json.loads(summary[0])
    assert Path(steps["transform"]["load_report_index"]).exists()
    assert Path(steps["validate"]["quality_page"]).exists()
    assert "load reports   " in runs.first.stdout and "data quality   " in runs.first.stdout
