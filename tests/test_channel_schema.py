"""Channel YAML is checked when it is read (issue 14): each mistake a person makes is named with
its file, line, key and a suggestion, before any file is loaded; a run refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.cli import main
from leadflow.core.channels import ChannelConfigError, load_channels, validate_channels
from tests.e2e_support import REPO

CHANNELS = REPO / "ingest" / "channels"
BADGE = (CHANNELS / "badge_scan.yaml").read_text(encoding="utf-8")


def channels_with(tmp_path: Path, name: str, text: str) -> Path:
    """A channels folder: the shipped ones, with `name` replaced by `text`."""
    folder = tmp_path / "channels"
    folder.mkdir()
    for path in CHANNELS.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def problems_of(tmp_path: Path, text: str) -> list[str]:
    folder = channels_with(tmp_path, "badge_scan.yaml", text)
    return [str(p) for p in validate_channels(folder)[1]]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_every_shipped_channel_is_valid(capsys: pytest.CaptureFixture) -> None:
    assert main(["channels", "validate", str(CHANNELS)]) == 0
    out = capsys.readouterr().out
    assert "10 valid channels" in out and "0 errors" in out


def test_a_top_level_typo_is_named_with_its_line_and_the_key_it_meant(tmp_path: Path) -> None:
    # measured in the issue: accepted silently, then a 190 s run rejected the file with
    # "required column missing: person_name (headers tried: none)"
    text = BADGE.replace("\nfields:", "\nfileds:")
    problems = problems_of(tmp_path, text)
    line = line_of(text, "fileds:")
    assert f"badge_scan.yaml:{line}: fileds: unknown key `fileds`, did you mean `fields`?" in (
        problems
    )


def test_a_typo_inside_constants_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text = BADGE.replace("  source_label: 线上展会", "  sorce_label: 线上展会")
    folder = channels_with(tmp_path, "badge_scan.yaml", text)
    assert main(["channels", "validate", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (
        f"badge_scan.yaml:{line_of(text, 'sorce_label')}: constants.sorce_label: `sorce_label` "
        "is not a field of intake, did you mean `source_label`?"
    ) in err


def test_required_naming_an_unmapped_field_says_how_to_map_it(tmp_path: Path) -> None:
    # was: "headers tried: none" after a whole run
    text = BADGE.replace("  city: [城市, City]\n", "").replace(
        "required: [person_name,", "required: [city, person_name,"
    )
    problems = problems_of(tmp_path, text)
    assert any(
        "required[1]: `city` is required but no header maps to it: add it under `fields`" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("  grade: [等级, Grade]", "  grade: [等级, Grade]\n  emial: [邮件]"),
            "fields.emial: `emial` is not a field of intake, did you mean `email`?",
        ),
        (
            ("  grade: [等级, Grade]", "  grade: [等级, Grade]\n  contacted_at: [跟进时间]"),
            "fields.contacted_at: `contacted_at` is a field of follow_up, not of intake",
        ),
        (
            ('"%Y-%m-%d %H:%M:%S",', '"YYYY-MM-DD HH:mm",'),
            "date_formats[1]: `YYYY-MM-DD HH:mm` has no % directive, so it reads no date "
            "(did you mean `%Y-%m-%d %H:%M`?)",
        ),
        (('"%Y-%m-%d %H:%M:%S",', '"%Y-%m-%D",'), "date_formats[1]: `%Y-%m-%D` is not a date"),
        (("timezone: Asia/Shanghai", "timezone: Asia/Shangai"), "is not an IANA timezone"),
        (("format: csv", "format: tsv"), "format: `tsv` is not one of 'csv', 'json' or 'xlsx'"),
        (
            ("freshness_days: 30", "freshness_days: 30\nvalue_maps:\n  grade: {Hot: AA}"),
            "value_maps.grade: 'Hot' -> 'AA' is not a value of grade",
        ),
        (
            ("freshness_days: 30", "freshness_days: 30\nderive:\n  - {from: notes, parsr: x}"),
            "derive[1].parsr: unknown key `parsr`, did you mean `parser`?",
        ),
        (
            (
                "freshness_days: 30",
                "freshness_days: 30\nsplits:\n  - {column: [a], into: [b], sep: x}",
            ),
            "splits[1].sep: unknown key `sep`, did you mean `separator`?",
        ),
        (
            (
                "freshness_days: 30",
                "freshness_days: 30\nrecords:\n  - name: visit\n    entity: follow_up\n"
                "    feilds: {contacted_at: [x]}\n    fields: {contacted_at: [x]}",
            ),
            "records[1].feilds: unknown key `feilds`, did you mean `fields`?",
        ),
    ],
)
def test_each_kind_of_mistake_is_named_with_a_fix(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    assert edit[0] in BADGE
    problems = problems_of(tmp_path, BADGE.replace(edit[0], edit[1], 1))
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("badge_scan.yaml:") for p in problems)


def test_every_problem_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    folder = channels_with(tmp_path, "badge_scan.yaml", BADGE.replace("\nfields:", "\nfileds:"))
    (folder / "web_form.yaml").write_text(
        (CHANNELS / "web_form.yaml").read_text(encoding="utf-8").replace("entity:", "entty:"),
        encoding="utf-8",
    )
    with pytest.raises(ChannelConfigError) as raised:
        load_channels(folder)
    text = str(raised.value)
    assert "badge_scan.yaml" in text and "web_form.yaml" in text
    assert "unknown key `entty`, did you mean `entity`?" in text


def test_leadflow_run_refuses_to_start_with_an_invalid_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = channels_with(tmp_path, "badge_scan.yaml", BADGE.replace("\nfields:", "\nfileds:"))
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    (data / "inbox" / "badge_scans_x.csv").write_text("姓名\n张伟\n", encoding="utf-8")
    monkeypatch.setenv("LEADFLOW_DATA_DIR", str(data))
    monkeypatch.setenv("LEADFLOW_CHANNELS_DIR", str(folder))
    assert main(["run", "--as-of", "2026-11-20"]) == 2
    err = capsys.readouterr().err
    assert "unknown key `fileds`, did you mean `fields`?" in err and "Traceback" not in err
    assert not (data / "warehouse").exists()  # nothing was loaded, nothing moved
    assert (data / "inbox" / "badge_scans_x.csv").exists()


def test_the_dag_refuses_to_start_with_an_invalid_channel(tmp_path: Path) -> None:
    from tests.e2e_support import run_dag_test

    folder = channels_with(tmp_path, "badge_scan.yaml", BADGE.replace("\nfields:", "\nfileds:"))
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    with pytest.raises(AssertionError) as failed:
        run_dag_test(
            tmp_path / "airflow", data, {"as_of": "2026-11-20"}, "2026-11-20",
            LEADFLOW_CHANNELS_DIR=str(folder),
        )  # fmt: skip
    output = str(failed.value)
    assert "unknown key `fileds`, did you mean `fields`?" in output
    assert "AirflowFailException" in output  # failed for good: a retry would repeat it
    # nothing loaded: the run lock's file may exist beside it, the warehouse does not
    assert not (data / "warehouse" / "leadflow.duckdb").exists()
