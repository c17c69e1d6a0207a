"""The inbox as people use it (issue 14): folders per channel, Excel's "Unicode text", a missing
inbox, a file no channel matches, a retried file, an export id column that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.inbox import inbox_files, retry_files
from leadflow.cli import main
from leadflow.core.errors import InboxMissing, NotRetryable
from tests.test_ingest import BADGE_HEADER_EN, GOOD_ROWS, Inbox, badge_csv


@pytest.fixture
def box(tmp_path: Path) -> Inbox:
    return Inbox(tmp_path)


def test_files_in_sub_folders_load_and_keep_their_path(box: Inbox) -> None:
    (box.inbox / "expo 2026").mkdir()
    box.drop("expo 2026/badge_scans_a.csv", badge_csv(GOOD_ROWS))
    result = box.load()
    f = box.file(result, "expo 2026/badge_scans_a.csv")
    assert (f.status, f.records_added) == ("loaded", 3)
    assert box.sql("SELECT DISTINCT file_name FROM raw.intake_records") == [
        ("expo 2026/badge_scans_a.csv",)
    ]
    assert (box.inbox / "archive" / "expo 2026" / "badge_scans_a.csv").exists()
    assert not (box.inbox / "expo 2026" / "badge_scans_a.csv").exists()


def test_archive_failed_hidden_and_lock_files_are_never_scanned(box: Inbox) -> None:
    for name in ("archive/badge_scans_old.csv", "failed/badge_scans_bad.csv", ".hidden/x.csv"):
        (box.inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (box.inbox / name).write_text(badge_csv(GOOD_ROWS), encoding="utf-8")
    box.drop(".DS_Store", b"\x00\x01")
    box.drop("~$referrals_1.xlsx", b"lock")
    assert inbox_files(box.inbox) == []
    assert box.load().files == []


def test_utf16_tab_separated_export_from_excel_loads(box: Inbox) -> None:
    # Excel "Unicode text": UTF-16 LE with a BOM, tab-separated, CRLF; was rejected as
    # "binary content (NUL bytes)"
    header = BADGE_HEADER_EN.replace(",", "\t")
    rows = [r.replace(",", "\t") for r in GOOD_ROWS[:2]]
    box.drop("badge_scans_unicode.csv", badge_csv(rows, header), encoding="utf-16")
    result = box.load()
    f = box.file(result, "badge_scans_unicode.csv")
    assert (f.status, f.records_added) == ("loaded", 2), f
    assert box.sql("SELECT person_name, phone FROM raw.intake_records ORDER BY row_number") == [
        ("张伟", "+8613812345678"),
        ("王芳", "+8613987654321"),
    ]


def test_a_missing_inbox_is_an_error_not_zero_files(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Inbox(tmp_path)
    box.inbox.rmdir()
    with pytest.raises(InboxMissing, match="does not exist"):
        box.load()
    monkeypatch.setenv("LEADFLOW_DATA_DIR", str(tmp_path / "data"))
    assert main(["run", "--as-of", "2026-11-20", "--inbox", str(box.inbox)]) == 2
    err = capsys.readouterr().err
    assert f"inbox {box.inbox} does not exist" in err and "Traceback" not in err


def test_an_unmatched_file_lists_the_patterns_it_could_match(box: Inbox) -> None:
    box.drop("badges_1102.csv", badge_csv(GOOD_ROWS))
    result = box.load()
    error = box.file(result, "badges_1102.csv").error
    assert "no channel's file pattern matches the name 'badges_1102.csv'" in error
    assert "badge_scan: badge_scans*.csv" in error and "web_form: web_forms*.json" in error
    reason = (box.inbox / "failed" / "badges_1102.csv.reason.txt").read_text(encoding="utf-8")
    assert "badge_scans*.csv" in reason and "leadflow retry badges_1102.csv" in reason


def test_an_export_id_header_absent_from_the_file_is_a_note_on_its_manifest_row(
    box: Inbox,
) -> None:
    # owner_directory's export_id is `name`: a directory exported with 姓名 instead falls back
    # to content hashes, which the manifest now says
    box.drop("owners.csv", "姓名,邮箱\n张伟,zw@corp.cn\n")
    box.load()
    ((status, notes),) = box.sql("SELECT status, notes FROM raw.load_manifest")
    assert status == "loaded"
    assert "export_id header `name` not found" in notes and "hashes" in notes


def test_a_rejected_file_retried_and_loaded_leaves_no_stale_error_report(
    box: Inbox, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (box.inbox / "shows").mkdir()
    box.drop("shows/badge_scans_b.csv", "Name,Company\nAna,Acme\n")  # no time, no contact
    first = box.load()
    assert box.file(first, "shows/badge_scans_b.csv").status == "rejected"
    report = box.reports / "errors" / "shows" / "badge_scans_b.csv.errors.csv"
    assert "required column missing" in report.read_text(encoding="utf-8-sig")
    failed = box.inbox / "failed" / "shows" / "badge_scans_b.csv"
    failed.write_text(badge_csv(GOOD_ROWS[:1]), encoding="utf-8")  # fixed in place
    monkeypatch.setenv("LEADFLOW_INBOX", str(box.inbox))
    assert main(["retry", "shows/badge_scans_b.csv"]) == 0
    assert "the next `leadflow run` loads them" in capsys.readouterr().out
    assert (box.inbox / "shows" / "badge_scans_b.csv").exists()
    assert not failed.exists() and not failed.with_name(failed.name + ".reason.txt").exists()
    second = box.load()
    assert box.file(second, "shows/badge_scans_b.csv").records_added == 1
    assert not report.exists()


def test_retry_names_the_rejected_files_when_given_another(box: Inbox) -> None:
    box.drop("nothing_matches.txt", "x")
    box.load()
    with pytest.raises(NotRetryable, match="rejected files: nothing_matches.txt"):
        retry_files(box.inbox, ["other.csv"])
