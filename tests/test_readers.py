"""XLSX is read by calamine when it can and by openpyxl otherwise: both must give the same
sheets, or a re-saved copy would hash differently depending on which reader ran."""

from __future__ import annotations

import datetime as dt
import re
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


# --- JSON arrays (issue 17): DuckDB reads them, cell for cell as the exact reader does ---------


def json_rows(parsed: readers.ParsedFile) -> list[dict]:
    """Each row as {header: value}: the two readers may order the header differently."""
    (sheet,) = parsed.sheets
    table = sheet.to_arrow().to_pylist()
    return [
        {"row": r["row_number"], **{h: r[f"c{i}"] for i, h in enumerate(sheet.header)}}
        for r in table
    ]


def write_json(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


FORMS = """[
{"id": "WF-1", "at": "2026-07-30T07:11:33+08:00", "contact": {"name": "彭强鹏", "phone": " "},
 "n": 12, "big": 123456789012345678, "ok": true, "gone": null, "note": "a\\nb \\"q\\" \\u00e9"},
{"id": "WF-2", "contact": {"name": "\\u3000", "email": "x@y.cn "}, "n": -0, "ok": false,
 "extra": {"deep": {"er": "ß"}}},
{"id": "", "at": "2026-07-31", "contact": {}, "n": 7}
]"""


def test_a_json_array_of_objects_reads_the_same_with_duckdb_as_with_python(tmp_path) -> None:
    from ingest.json_fast import read_json_array

    path = write_json(tmp_path / "forms.json", FORMS)
    fast = read_json_array(path)
    assert fast is not None  # the DuckDB path really ran
    exact = readers.read_json_exact(path)
    assert sorted(fast.sheets[0].header) == sorted(exact.sheets[0].header)
    assert json_rows(fast) == json_rows(exact)
    rows = json_rows(fast)  # and what the exact reader is known to give
    assert rows[0]["contact.phone"] is None and rows[1]["contact.name"] is None  # blank
    assert rows[0]["note"] == 'a\nb "q" é' and rows[0]["big"] == "123456789012345678"
    assert (rows[1]["n"], rows[1]["ok"], rows[0]["ok"]) == ("0", "false", "true")
    assert rows[1]["contact.email"] == "x@y.cn " and rows[1]["extra.deep.er"] == "ß"
    assert rows[2]["id"] is None and rows[2]["at"] == "2026-07-31"  # a date stays text
    assert [r["row"] for r in rows] == [1, 2, 3]


@pytest.mark.parametrize(
    "text",
    [
        '[{"a": [1, 2]}]',  # a list: JSON text with Python's separators
        '[{"a": 1.0}]',  # a float: 1.0 is "1" in Python
        '[{"a": 1}, {"a": "x"}]',  # two kinds under one key
        '[{"a": 1}, 2]',  # a value that is not an object: quarantined
        '[{"a.b": 1, "a": {"b": 2}}]',  # two paths, one name
        '{"a": 1}\n{"a": 2}\n',  # NDJSON
        '\ufeff[{"a": "x"}]',  # a BOM
        '[{"a": 1}',  # invalid
        '[{"a": {}}]',  # an empty object
    ],
)
def test_json_the_fast_path_cannot_render_exactly_goes_to_the_exact_reader(tmp_path, text) -> None:
    from ingest.json_fast import read_json_array

    path = write_json(tmp_path / "odd.json", text)
    assert read_json_array(path) is None
    try:
        exact = readers.read_json_exact(path)
    except readers.FileRejected as rejected:
        with pytest.raises(readers.FileRejected, match=re.escape(str(rejected))):
            readers.read_json(path)
        return
    parsed = readers.read_json(path)
    assert [(s.header, [vars(r) for r in s.rows]) for s in parsed.sheets] == [
        (s.header, [vars(r) for r in s.rows]) for s in exact.sheets
    ]
    assert parsed.quarantined == exact.quarantined
