"""Streaming writers: time-ordered spools and one sink per export format.

Exports list rows in time order with serial ids, but persons are generated one after another, so
rows go through a `Spool`: bucketed by time, spilled to disk in batches, sorted one bucket at a
time. Memory stays bounded by the spill threshold plus the largest bucket, whatever the number
of leads.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.packaging.core import DocumentProperties
from openpyxl.xml.functions import tostring

SPILL_ROWS = 40_000  # rows a spool holds in memory before spilling to its bucket files
BUCKETS = 256
XLSX_MAX_ROWS = 1_000_000  # data rows per sheet before the workbook continues on a new sheet


class Spool:
    """Collects (time, item) pairs and gives the items back in time order, stable for ties."""

    def __init__(self, directory: Path, name: str, first: datetime, last: datetime) -> None:
        self._dir = directory
        self._name = name
        self._first = first
        self._span = max((last - first).total_seconds(), 1.0)
        self._buckets: dict[int, list[tuple[float, int, Any]]] = {}
        self._held = 0
        self._seq = 0
        self._spilled: set[int] = set()
        self.count = 0

    def add(self, at: datetime, item: Any) -> None:
        key = (at - self._first).total_seconds()
        bucket = min(max(int(key / self._span * BUCKETS), 0), BUCKETS - 1)
        self._buckets.setdefault(bucket, []).append((key, self._seq, item))
        self._seq += 1
        self._held += 1
        self.count += 1
        if self._held >= SPILL_ROWS:
            self._spill()

    def _path(self, bucket: int) -> Path:
        return self._dir / f"{self._name}.{bucket:04d}.pickle"

    def _spill(self) -> None:
        for bucket, rows in self._buckets.items():
            with self._path(bucket).open("ab") as fh:
                pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self._spilled.add(bucket)
        self._buckets, self._held = {}, 0

    def __iter__(self) -> Iterator[Any]:
        for bucket in range(BUCKETS):
            rows = self._buckets.pop(bucket, [])
            if bucket in self._spilled:
                rows += self._load(self._path(bucket))
            rows.sort(key=lambda r: (r[0], r[1]))
            for _, _, item in rows:
                yield item

    @staticmethod
    def _load(path: Path) -> list[tuple[float, int, Any]]:
        rows: list[tuple[float, int, Any]] = []
        with path.open("rb") as fh:
            while True:
                try:
                    rows += pickle.load(fh)
                except EOFError:
                    break
        path.unlink()
        return rows


class CsvSink:
    """A CSV export through the csv module; rows may be replaced by raw bytes (undecodable)."""

    def __init__(self, path: Path, header: list[str], *, encoding: str, crlf: bool) -> None:
        self.path = path
        self.rows = 0
        self._encoding = encoding
        self._fh = path.open("w", encoding=encoding, newline="")
        self._terminator = "\r\n" if crlf else "\n"
        self._writer = csv.writer(self._fh, lineterminator=self._terminator)
        self._writer.writerow(header)

    def write(self, cells: list[str]) -> int:
        self._writer.writerow(cells)
        self.rows += 1
        return self.rows

    def write_raw(self, cells: list[str], mark: str, raw: bytes) -> int:
        """Write a row whose `mark` placeholder becomes bytes no decoder accepts."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator=self._terminator).writerow(cells)
        data = buf.getvalue().encode(self._encoding).replace(mark.encode("ascii"), raw)
        self._fh.flush()
        self._fh.buffer.write(data)
        self.rows += 1
        return self.rows

    def close(self) -> None:
        self._fh.close()


class JsonArraySink:
    """A JSON array written one object per line, so it streams and stays readable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._fh = path.open("w", encoding="utf-8", newline="\n")
        self._fh.write("[")

    def write(self, obj: dict[str, Any]) -> int:
        self._fh.write(",\n" if self.rows else "\n")
        self._fh.write(json.dumps(obj, ensure_ascii=False))
        self.rows += 1
        return self.rows

    def close(self) -> None:
        self._fh.write("\n]\n")
        self._fh.close()


class XlsxSink:
    """An XLSX workbook: openpyxl builds the package (workbook, sheets, styles, properties); the
    sheet rows are streamed as XML to temp files and put into the package on close. openpyxl's
    own cell writer costs ~0.3 ms a row without lxml, the bulk of a 100k-lead run."""

    def __init__(
        self, path: Path, header: list[str], sheet: str, stamp: datetime, tmp: Path
    ) -> None:
        self.path = path
        self.rows = 0
        self._header = header
        self._sheet_name = sheet
        self._stamp = stamp
        self._tmp = tmp
        self._wb = Workbook(write_only=True)
        self._sheets: list[str] = []
        self._parts: dict[str, Path] = {}
        self._fh: Any = None
        self._sheet_rows = 0

    @property
    def sheets(self) -> list[str]:
        return list(self._sheets)

    def write(self, cells: list[Any]) -> tuple[str, int]:
        """Append a data row; returns (sheet, data row within the sheet)."""
        if self._fh is None or self._sheet_rows >= XLSX_MAX_ROWS:
            self._new_sheet()
        self._sheet_rows += 1
        self._fh.write(_xml_row(self._sheet_rows + 1, [self._sheet_rows, *cells]))  # 序号
        self.rows += 1
        return self._sheets[-1], self._sheet_rows

    def _new_sheet(self) -> None:
        self._end_sheet()
        n = len(self._sheets) + 1
        title = self._sheet_name if n == 1 else f"{self._sheet_name}{n}"
        self._wb.create_sheet(title)  # openpyxl numbers sheet parts in creation order
        self._sheets.append(title)
        part = self._tmp / f"sheet{n}.xml"
        self._parts[f"xl/worksheets/sheet{n}.xml"] = part
        self._fh = part.open("w", encoding="utf-8")
        self._fh.write(_sheet_head(len(self._header)))
        self._fh.write(_xml_row(1, self._header))
        self._sheet_rows = 0

    def _end_sheet(self) -> None:
        if self._fh is not None:
            self._fh.write(SHEET_TAIL)
            self._fh.close()

    def close(self) -> None:
        if self._fh is None:
            self._new_sheet()
        self._end_sheet()
        props = self._wb.properties
        props.creator = props.lastModifiedBy = "leadflow demo-data"
        props.created = self._stamp
        self._wb.save(self.path)
        props.modified = self._stamp  # save() stamped it with the wall clock
        reproducible_zip(self.path, self._stamp, props, self._parts)


COLUMN_WIDTHS = (6, 12, 34, 24, 36, 36, 8, 60, 50, 80, 50, 12, 12, 40)
SHEET_TAIL = (
    "</sheetData>"
    '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
    "</worksheet>"
)
XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


COLUMNS = [_column(i) for i in range(64)]


def _sheet_head(columns: int) -> str:
    widths = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(COLUMN_WIDTHS[:columns])
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'  # header row frozen
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{widths}</cols><sheetData>"
    )


def _xml_row(r: int, values: list[Any]) -> str:
    """One <row> with inline strings (no shared-string table to hold in memory)."""
    cells = []
    for col, value in zip(COLUMNS, values, strict=False):
        if value is None or value == "":
            continue
        if isinstance(value, int):
            cells.append(f'<c r="{col}{r}"><v>{value}</v></c>')
        else:
            text = str(value).translate(XML_ESCAPES)
            cells.append(
                f'<c r="{col}{r}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
            )
    return f'<row r="{r}">{"".join(cells)}</row>\n'


def reproducible_zip(
    path: Path, stamp: datetime, props: DocumentProperties, parts: dict[str, Path]
) -> None:
    """Rewrite a saved XLSX with fixed entry times and core properties (openpyxl stamps both
    with the wall clock on save, so bytes would differ run to run), putting in `parts`."""
    tmp = path.with_name(path.name + ".tmp")
    replaced = {"docProps/core.xml": tostring(props.to_tree())}
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            out = zipfile.ZipInfo(info.filename, date_time=date_time)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o600 << 16
            if info.filename in replaced:
                dst.writestr(out, replaced[info.filename])
                continue
            source = parts.get(info.filename)
            with (
                source.open("rb") if source else src.open(info) as fin,
                dst.open(out, "w", force_zip64=True) as fout,
            ):
                shutil.copyfileobj(fin, fout, 1 << 20)
    tmp.replace(path)


class TruthWriter:
    """The ground-truth JSON, assembled from spilled fragments so it too streams."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._records = (directory / "records.part").open("w", encoding="utf-8")
        self._n_records = 0
        self._prefixes: dict[tuple[str, str | None], str] = {}
        self._activity: dict[str, tuple[Any, list[int]]] = {}

    def record(self, file: str, sheet: str | None, row: int, person_id: str | None) -> None:
        key = (file, sheet)
        if key not in self._prefixes:  # json.dumps once per file, not per row
            self._prefixes[key] = (
                f'{{"file": {json.dumps(file, ensure_ascii=False)}, '
                f'"sheet": {json.dumps(sheet, ensure_ascii=False)}, "row": '
            )
        sep = ",\n    " if self._n_records else "    "
        pid = f'"{person_id}"' if person_id else "null"  # ids are plain ASCII (P000123)
        self._records.write(f'{sep}{self._prefixes[key]}{row}, "person_id": {pid}}}')
        self._n_records += 1

    def declare(self, file: str) -> None:
        """Register an activity file, so it is listed even when it has no rows."""
        fh = (self._dir / f"activity.{len(self._activity)}.part").open("w", encoding="utf-8")
        self._activity[file] = (fh, [0])

    def activity(self, file: str, person_id: str | None) -> None:
        fh, count = self._activity[file]
        fh.write(("," if count[0] else "") + (f'"{person_id}"' if person_id else "null"))
        count[0] += 1

    def finish(self, path: Path, head: dict[str, Any]) -> None:
        self._records.close()
        for fh, _ in self._activity.values():
            fh.close()
        text = json.dumps(head, ensure_ascii=False, indent=2)
        with path.open("w", encoding="utf-8") as out:
            out.write(text[: text.rfind("}")].rstrip() + ',\n  "records": [\n')
            with (self._dir / "records.part").open(encoding="utf-8") as part:
                shutil.copyfileobj(part, out)
            out.write('\n  ],\n  "activity_records": {')
            for i, (file, (fh, _)) in enumerate(self._activity.items()):
                out.write(("," if i else "") + f"\n    {json.dumps(file)}: [")
                with Path(fh.name).open(encoding="utf-8") as part:
                    shutil.copyfileobj(part, out)
                out.write("]")
            out.write("\n  }\n}\n")
