"""`leadflow check` (issue 14): a dry run of ingest and validation on real files, in seconds,
that writes nothing: on every shipped sample, on the real exports and on broken files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ingest.loader import ingest_inbox
from leadflow.check import check_files
from leadflow.cli import main
from leadflow.core.channels import load_channels
from tests.conftest import AS_OF, SEED
from tests.e2e_support import REPO
from tools.demo.data import generate

CHANNELS = REPO / "ingest" / "channels"
REALDATA = REPO / "tests" / "data" / "realdata"
OLIST = REALDATA / "olist_marketing_funnel"
MAVEN = REALDATA / "maven_crm_sales_opportunities"
CHECKED_BY_VALIDATION = {"undecodable", "orphan_reference"}  # quarantine / dbt, not the suites


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("samples")
    generate(root / "inbox", seed=SEED, leads=40, as_of=AS_OF, truth_path=root / "truth.json")
    return root / "inbox", json.loads((root / "truth.json").read_text(encoding="utf-8"))


def run_check(paths: list[Path], **kwargs) -> dict:
    result = check_files(
        paths,
        load_channels(CHANNELS),
        warehouse=kwargs.pop("warehouse", None),
        business_timezone=kwargs.pop("timezone", "Asia/Shanghai"),
        as_of=AS_OF,
        **kwargs,
    )
    return {Path(c.file).name: c for c in result.files}


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_every_demo_sample_would_load_as_its_ground_truth_says(samples) -> None:
    inbox, truth = samples
    checks = run_check(sorted(inbox.iterdir()))
    assert set(checks) == set(truth["files"])
    for name, expected in truth["files"].items():
        check = checks[name]
        assert (check.status, check.channel) == ("loaded", expected["channel"]), name
        assert check.rows_in_file == expected["rows"], name
        assert check.rows_added == expected["expected_loaded"], name
        assert [q["row"] for q in check.quarantined] == [q["row"] for q in expected["quarantined"]]
        assert check.preview, name  # the first rows as they would be stored
    for planted in truth["planted"]:
        if planted["check"] in CHECKED_BY_VALIDATION:
            continue
        flags = checks[planted["file"]].flags
        assert any(
            f["row"] == planted["row"]
            and f["check"] == planted["check"]
            and f["field"] == planted["field"]
            and f["sheet"] == (planted["sheet"] or "")
            for f in flags
        ), planted


def test_the_cli_writes_nothing_and_counts_what_the_warehouse_already_has(
    samples, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, _ = samples
    loaded = tmp_path / "loaded"
    loaded.mkdir()
    shutil.copy(inbox / "owners.csv", loaded)
    warehouse = tmp_path / "data" / "warehouse" / "leadflow.duckdb"
    ingest_inbox(
        warehouse, loaded, CHANNELS, run_id="r1", business_timezone="Asia/Shanghai",
        reports_dir=tmp_path / "data" / "reports",
    )  # fmt: skip
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    data_files = sorted((tmp_path / "data").rglob("*"))
    files = sorted(inbox.iterdir())
    listing = {p: p.stat().st_mtime_ns for p in files}
    monkeypatch.setenv("LEADFLOW_DATA_DIR", str(tmp_path / "data"))
    code, out = cli(capsys, *map(str, files), "--as-of", AS_OF.isoformat())
    assert code == 0, out
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert {p: p.stat().st_mtime_ns for p in sorted(inbox.iterdir())} == listing
    assert sorted((tmp_path / "data").rglob("*")) == data_files  # no report, log or lock file
    assert "owners.csv" in out and "0 added, 9 already loaded" in out
    assert "8 files checked" in out and "8 would load, 0 would be rejected" in out
    assert "扫码时间" in out and "-> event_at" in out  # each header and the field it maps to
    assert "unknown_owner on owner_name: '赵六'" in out  # compared with the warehouse's owners


def test_real_exports_are_checked_with_their_channels(tmp_path: Path) -> None:
    files = [
        OLIST / "olist_marketing_qualified_leads_dataset.csv",
        OLIST / "olist_closed_deals_dataset.csv",
        MAVEN / "sales_pipeline.csv",
    ]
    checks = run_check(files, timezone="America/Sao_Paulo")
    for path in files:
        check = checks[path.name]
        assert check.status == "loaded", check.reason
        assert check.rows_in_file == check.rows_added == len(pd.read_csv(path)), path.name
    maven = checks["sales_pipeline.csv"]
    assert maven.channel == "maven_opportunities" and maven.related_records > 0
    assert {r["channel"] for r in maven.related_preview} <= {
        "maven_opportunities.engaged",
        "maven_opportunities.stage",
    }


def test_a_missing_required_column_is_rejected_naming_aliases_and_headers_found(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "badge_scans_bad.csv"
    path.write_text("Name,Company,Scan Time\nAna,Acme,2026-11-02 10:00\n", encoding="utf-8")
    code, out = cli(capsys, str(path), "--no-warehouse")
    assert code == 1
    assert "WOULD BE REJECTED: required column missing: phone or email" in out
    assert "headers found: Name, Company, Scan Time" in out
    assert "1 would be rejected" in out


def test_an_unmatched_file_lists_patterns_and_the_channel_that_knows_its_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "expo_leads.csv"
    path.write_text("Scan Time,Name,Email\n2026-11-02 10:00,Ana,ana@acme.com\n", encoding="utf-8")
    code, out = cli(capsys, str(path), "--no-warehouse")
    assert code == 1
    assert "no channel's file pattern matches the name 'expo_leads.csv'" in out
    assert "badge_scan: name does not match badge_scans*.csv; knows 3 of the file's 3 headers" in (
        out
    )


def test_broken_rows_are_shown_as_quarantined_and_bad_values_as_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "badge_scans_rows.csv"
    path.write_text(
        "Scan Time,Name,Email,Mobile\n"
        "2026-11-02 10:00,Ana,ana@acme.com,13812345678\n"
        "2026-11-02 10:05,Bo,bo@@acme,13812345679,extra,cells\n"  # ragged: cannot be split
        "yesterday,Cy,cy@acme,138****5678\n",
        encoding="utf-8",
    )
    code, out = cli(capsys, str(path), "--no-warehouse", "--as-of", AS_OF.isoformat())
    assert code == 0, out
    assert "WOULD LOAD 3 rows: 2 added, 0 already loaded, 1 quarantined" in out
    assert "row 2: ragged row: 6 fields where the header has 4" in out
    assert "row 3  unparseable_value on event_at: 'yesterday'" in out
    assert "row 3  masked_phone on phone: '138****5678'" in out
    assert "row 3  invalid_email on email: 'cy@acme'" in out


def test_binary_content_under_a_channel_name_would_be_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "badge_scans_photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    code, out = cli(capsys, str(path), "--no-warehouse")
    assert code == 1 and "WOULD BE REJECTED: binary content (NUL bytes)" in out


NEW_CHANNEL = """\
channel: expo_leads
entity: intake
files: ["expo_leads*.csv"]
format: csv
date_formats: ["%d.%m.%Y %H:%M"]
fields:
  event_at: [Erfasst]
  person_name: [Name]
  email: [E-Mail]
  company: [Firma]
required: [person_name, email, event_at]
"""


def test_writing_a_new_channel_with_check_in_the_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The README's loop: write the YAML, check the export with it, fix what it says."""
    export = tmp_path / "expo_leads_1102.csv"
    export.write_text(
        "Erfasst;Name;E-Mail;Firma;Stand\n02.11.2026 10:00;Ana Souza;ana@acme.com;Acme;B12\n",
        encoding="utf-8",
    )
    channel = tmp_path / "expo_leads.yaml"
    channel.write_text(NEW_CHANNEL.replace("  email:", "  emial:"), encoding="utf-8")
    code, out = cli(capsys, str(export), "--channel", str(channel), "--no-warehouse")
    assert code == 2
    assert "expo_leads.yaml:9: fields.emial: `emial` is not a field of intake" in out
    assert "did you mean `email`?" in out and "Traceback" not in out

    channel.write_text(NEW_CHANNEL, encoding="utf-8")
    code, out = cli(capsys, str(export), "--channel", str(channel), "--no-warehouse", "--json")
    assert code == 0
    (check,) = json.loads(out)["files"]
    assert check["channel"] == "expo_leads" and check["rows_added"] == 1
    uses = {h["header"]: h["use"] for h in check["sheets"][0]["headers"]}
    assert uses == {
        "Erfasst": "event_at",
        "Name": "person_name",
        "E-Mail": "email",
        "Firma": "company",
        "Stand": "extra: kept in extra_columns",
    }
    (row,) = check["preview"]
    assert row["event_at"].startswith("2026-11-02 02:00")  # 10:00 Shanghai (the default zone)
    assert json.loads(row["extra_columns"]) == {"Stand": "B12"}
