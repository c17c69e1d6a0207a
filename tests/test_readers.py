"""XLSX is read by calamine when it can and by openpyxl otherwise: both must give the same
sheets, or a re-saved copy would hash differently depending on which reader ran."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest import readers
from leadflow.core.canonical import R12_TEMPLATE_HEADERS
from tests.test_ingest import make_referral_workbook


def r12_score(cells: list[str]) -> int:
    return sum(c in R12_TEMPLATE_HEADERS for c in cells)


def read_both(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    def table(parsed: readers.ParsedFile) -> list:
        return [(s.name, s.header, [vars(r) for r in s.rows]) for s in parsed.sheets]

    assert readers._calamine_sheets(path, "all") is not None  # the fast path really ran
    fast = table(readers.read_xlsx(path, header_score=r12_score))
    with monkeypatch.context() as m:
        m.setattr(readers, "_calamine_sheets", lambda *_: None)
        reference = table(readers.read_xlsx(path, header_score=r12_score))
    return fast, reference


def test_the_seed_template_reads_the_same_with_either_reader(tmp_path, monkeypatch) -> None:
    path = tmp_path / "referrals.xlsx"
    make_referral_workbook(path)
    fast, reference = read_both(path, monkeypatch)
    assert fast == reference
    assert fast[0][1] == list(R12_TEMPLATE_HEADERS)  # the title row above was skipped


def test_types_offsets_and_sheets_read_the_same_with_either_reader(tmp_path, monkeypatch) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "S1"
    ws["C3"] = "a title away from A1"
    ws["B5"], ws["C5"], ws["D5"], ws["E5"], ws["F5"], ws["G5"] = "n", "at", "d", "num", "t", "b"
    ws.append([None, "x", dt.datetime(2026, 1, 2, 3, 4, 5), dt.date(2026, 1, 2), 13812345678])
    ws.append([None, "y", None, None, 0.1, dt.time(9, 30), True])
    ws.append([None, "z", None, None, -2.5, None, False, "beyond the header"])
    ws.merge_cells("B9:C9")
    ws["B9"] = "merged"
    wb.create_sheet("empty")
    wb.create_sheet("说明").append(["本表填写说明"])
    path = tmp_path / "types.xlsx"
    wb.save(path)

    fast, reference = read_both(path, monkeypatch)
    assert fast == reference
    rows = {r["values"][1]: r["values"] for r in fast[0][2]}
    assert rows["x"][2:5] == ["2026-01-02 03:04:05", "2026-01-02 00:00:00", "13812345678"]
    assert rows["z"][-1] == "beyond the header"  # overflow kept, not dropped
