"""Split export files into header + rows of text, quarantining only what cannot be split (C1).

Readers know nothing of channels' meaning: they return text cells with their row numbers. A file
that cannot be read at all raises `FileRejected`; a row that cannot be split into fields becomes a
`QuarantinedRow` with its reason; every other row is returned, however bad its values.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

csv.field_size_limit(64 * 1024 * 1024)  # a 10 MB field is data, not an error

AUTO_ENCODINGS = ("utf-8", "gb18030")  # GB18030 is a superset of GBK and GB2312


class FileRejected(Exception):
    """The whole file cannot be read (only ingest rejects files, C1)."""


@dataclass
class QuarantinedRow:
    row_number: int
    reason: str
    raw_text: str
    sheet: str | None = None


@dataclass
class Row:
    row_number: int
    values: list[str | None]
    sheet: str | None = None


@dataclass
class Sheet:
    """One table of a file: a CSV/JSON file has one, a workbook one per sheet.

    Rows arrive either as `rows` (the exact, row-by-row readers) or, from the fast CSV path, as
    an Arrow table `arrow` with a `row_number` column and one string column `c<i>` per header.
    """

    header: list[str]
    rows: list[Row] = field(default_factory=list)
    name: str | None = None
    arrow: pa.Table | None = None

    @property
    def row_count(self) -> int:
        return self.arrow.num_rows if self.arrow is not None else len(self.rows)

    def to_arrow(self) -> pa.Table:
        if self.arrow is not None:
            return self.arrow
        columns = list(zip(*(r.values for r in self.rows), strict=True)) if self.rows else []
        table = {"row_number": pa.array([r.row_number for r in self.rows], pa.int64())}
        for i in range(len(self.header)):
            table[f"c{i}"] = pa.array(columns[i] if columns else [], pa.string())
        return pa.table(table)


@dataclass
class ParsedFile:
    sheets: list[Sheet]
    quarantined: list[QuarantinedRow]
    encoding: str | None = None

    @property
    def row_count(self) -> int:
        return sum(s.row_count for s in self.sheets) + len(self.quarantined)


def unique_headers(raw: list[Any]) -> list[str]:
    """Blank headers get a position name; repeated ones a suffix, so no column is lost."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, cell in enumerate(raw):
        name = str(cell).strip().lstrip("\ufeff") if cell is not None else ""
        name = name or f"column_{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


# ---------------------------------------------------------------- CSV


UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def wide_encoding(head: bytes, configured: str) -> str | None:
    """UTF-16 / UTF-32 (Excel's "Unicode text" is UTF-16 with a BOM, tab-separated): NUL bytes
    are part of every character there, so it is transcoded before anything looks for them."""
    if configured != "auto":
        name = codecs.lookup(configured).name
        return configured if name.startswith(("utf-16", "utf-32")) else None
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    return "utf-16" if head.startswith(UTF16_BOMS) else None


def detect_encoding(data: bytes, configured: str) -> str:
    """The configured encoding, else the auto candidate that decodes the most lines."""
    if configured != "auto":
        return configured
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for candidate in AUTO_ENCODINGS:
        try:
            data.decode(candidate)
            return candidate
        except UnicodeDecodeError:
            continue
    best, best_failures = AUTO_ENCODINGS[0], None
    for candidate in AUTO_ENCODINGS:
        failures = 0
        for line in data.splitlines():
            try:
                line.decode(candidate)
            except UnicodeDecodeError:
                failures += 1
        if failures == 0:
            return candidate
        if best_failures is None or failures < best_failures:
            best, best_failures = candidate, failures
    return best


def _decoded_lines(data: bytes, encoding: str, bad: set[int]) -> Iterator[str]:
    """Physical lines as text; lines that do not decode are recorded in `bad` (1-based)."""
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield line.decode(encoding)
        except UnicodeDecodeError:
            bad.add(number)
            yield line.decode(encoding, errors="replace")


def detect_delimiter(first_line: str, configured: str) -> str:
    if configured != "auto":
        return configured
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def read_csv(path: Path, encoding: str = "auto", delimiter: str = "auto") -> ParsedFile:
    """Clean files take the fast Arrow path; anything odd is read row by row, exactly."""
    fast = read_csv_fast(path, encoding, delimiter)
    return fast if fast is not None else read_csv_exact(path, encoding, delimiter)


STREAM_BLOCK = 1 << 22


def _utf8_copy(path: Path, encoding: str, workdir: Path) -> Path | None:
    """The file as UTF-8, checked (and transcoded when needed) in one streaming pass; None
    when any byte does not decode."""
    name = codecs.lookup(encoding).name
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    utf8 = name in ("utf-8", "utf-8-sig")
    target = path if utf8 else workdir / (path.name + ".utf8")
    try:
        with path.open("rb") as src, open(os.devnull, "wb") if utf8 else target.open("wb") as out:
            for block in iter(lambda: src.read(STREAM_BLOCK), b""):
                text = decoder.decode(block)
                if not utf8:
                    out.write(text.encode("utf-8"))
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return target


def read_csv_fast(path: Path, encoding: str = "auto", delimiter: str = "auto") -> ParsedFile | None:
    """Arrow's multi-threaded CSV reader for clean files: one header line first, every row
    as wide as the header, every byte decodable. Returns None to fall back to the exact path."""
    import tempfile

    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    wide = wide_encoding(head, encoding)
    if not head.strip() or (b"\x00" in head and not wide):
        return None
    if wide:
        candidates = [wide]
    elif encoding == "auto":
        chosen = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else None
        candidates = [chosen] if chosen else list(AUTO_ENCODINGS)
    else:
        candidates = [encoding]
    with tempfile.TemporaryDirectory(prefix="leadflow-csv-") as workdir:
        for candidate in candidates:
            utf8 = _utf8_copy(path, candidate, Path(workdir))
            if utf8 is not None:
                return _arrow_csv(utf8, candidate, delimiter, pacsv, pc)
    return None


def _arrow_csv(utf8: Path, encoding: str, delimiter: str, pacsv, pc) -> ParsedFile | None:
    with utf8.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        return None
    sep = detect_delimiter(first, delimiter)
    header = unique_headers(next(csv.reader([first], delimiter=sep)))
    names = [f"c{i}" for i in range(len(header))]
    invalid: list[object] = []

    def on_invalid(row: object) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            utf8,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid:
        return None
    if table.num_rows:
        all_null = functools.reduce(pc.and_, [pc.is_null(table[n]) for n in names])
        if pc.any(all_null).as_py():
            return None  # blank rows: the exact path numbers rows without them
    numbers = pa.array(range(1, table.num_rows + 1), pa.int64())
    table = table.add_column(0, "row_number", numbers)
    return ParsedFile([Sheet(header, arrow=table)], [], encoding)


def read_csv_exact(path: Path, encoding: str = "auto", delimiter: str = "auto") -> ParsedFile:
    data = path.read_bytes()
    wide = wide_encoding(data[:4], encoding)
    if wide:  # lines are split on bytes below: as UTF-8 first
        try:
            data, encoding = data.decode(wide).lstrip("\ufeff").encode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise FileRejected(f"not valid {wide} although it starts like it: {exc}") from exc
    if not data.strip():
        raise FileRejected("empty file: no header row")
    if b"\x00" in data[:4096]:
        raise FileRejected("binary content (NUL bytes): not a CSV export")
    chosen = detect_encoding(data, encoding)
    bad_lines: set[int] = set()
    lines = list(_decoded_lines(data, chosen, bad_lines))
    physical = len(lines)
    if bad_lines and len(bad_lines) * 2 > physical:
        raise FileRejected(f"most lines are not valid {chosen}: wrong encoding or not text")
    first = next((ln for ln in lines if ln.strip()), "")
    reader = csv.reader(iter(lines), delimiter=detect_delimiter(first, delimiter))
    header: list[str] | None = None
    sheet: Sheet | None = None
    quarantined: list[QuarantinedRow] = []
    row_number, previous_line = 0, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. NUL inside a quoted field
            row_number += 1
            span = "".join(lines[previous_line : reader.line_num])
            quarantined.append(QuarantinedRow(row_number, f"unparseable CSV row: {exc}", span))
            previous_line = reader.line_num
            continue
        span_lines = range(previous_line + 1, reader.line_num + 1)
        raw_text = "".join(lines[previous_line : reader.line_num])
        previous_line = reader.line_num
        if header is None:
            if not any(c.strip() for c in cells):
                continue
            header = unique_headers(cells)
            sheet = Sheet(header)
            continue
        if not any(c.strip() for c in cells):
            continue  # blank line: not a row
        row_number += 1
        if any(n in bad_lines for n in span_lines):
            reason = f"undecodable bytes: not valid {chosen}"
            quarantined.append(QuarantinedRow(row_number, reason, raw_text.rstrip("\r\n")))
            continue
        aligned = _align(cells, len(header))
        if aligned is None:
            reason = f"ragged row: {len(cells)} fields where the header has {len(header)}"
            quarantined.append(QuarantinedRow(row_number, reason, raw_text.rstrip("\r\n")))
            continue
        sheet.rows.append(Row(row_number, aligned))
    if sheet is None:
        raise FileRejected("no header row")
    return ParsedFile([sheet], quarantined, wide or chosen)


def _align(cells: list[str], width: int) -> list[str | None] | None:
    """Cells padded to the header; extra cells are tolerated only when they are all empty."""
    if len(cells) > width:
        if any(c.strip() for c in cells[width:]):
            return None
        cells = cells[:width]
    if len(cells) < width:
        return None
    return [c if c != "" else None for c in cells]


# ---------------------------------------------------------------- JSON


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted paths (contact.email); lists stay as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


def _cell_text(value: Any) -> str | None:
    if type(value) is str:  # most cells: skip the type tests below (8.5M calls at 1M leads)
        return value if value.strip() else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def read_json(path: Path) -> ParsedFile:
    from ingest.json_fast import read_json_array

    fast = read_json_array(path)  # a plain array of objects: DuckDB, about 2x faster
    if fast is not None:
        return fast
    return read_json_exact(path)


def read_json_exact(path: Path) -> ParsedFile:
    data = path.read_bytes()
    text = data.decode(wide_encoding(data[:4], "auto") or "utf-8-sig", errors="strict")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise FileRejected("empty file")
    stripped = text.lstrip()
    items: list[tuple[int, Any, str]] = []
    quarantined: list[QuarantinedRow] = []
    if stripped.startswith("["):
        try:
            array = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileRejected(f"invalid JSON array: {exc}") from exc
        items = [(i, item, "") for i, item in enumerate(array, start=1)]
    else:  # NDJSON: one object per line, a bad line is one quarantined row
        number = 0
        for line in io.StringIO(text):
            if not line.strip():
                continue
            number += 1
            try:
                items.append((number, json.loads(line), line))
            except json.JSONDecodeError as exc:
                quarantined.append(QuarantinedRow(number, f"invalid JSON line: {exc}", line))
    records: list[tuple[int, dict[str, Any]]] = []
    for number, item, raw in items:
        if not isinstance(item, dict):
            raw_text = raw or json.dumps(item, ensure_ascii=False)
            quarantined.append(QuarantinedRow(number, "JSON value is not an object", raw_text))
            continue
        records.append((number, flatten(item)))
    seen: dict[str, None] = {}  # keys in first-seen order; a dict, as a list test is O(n)
    for _, rec in records:
        for key in rec:
            seen.setdefault(key)
    header = list(seen)
    sheet = Sheet(header, [Row(n, [_cell_text(rec.get(h)) for h in header]) for n, rec in records])
    return ParsedFile([sheet], quarantined, "utf-8")


# ---------------------------------------------------------------- XLSX


HeaderScore = Callable[[list[str]], int]
HEADER_SEARCH_ROWS = 20  # title rows above the header are common in hand-made workbooks


def read_xlsx(
    path: Path, sheets: str | tuple[str, ...] = "all", header_score: HeaderScore | None = None
) -> ParsedFile:
    tables = _calamine_sheets(path, sheets)
    if tables is None:
        tables = _openpyxl_sheets(path, sheets)
    parsed: list[Sheet] = []
    while tables:  # each sheet's cells are released once its records are taken
        title, rows = tables.pop(0)
        if sheet := _read_sheet(rows, title, header_score):
            parsed.append(sheet)
        del rows
    if not parsed:
        raise FileRejected("no sheet with a header row")
    return ParsedFile(parsed, [], None)


def _openpyxl_sheets(
    path: Path, sheets: str | tuple[str, ...]
) -> list[tuple[str, list[Sequence[Any]]]]:
    """The worksheets' cell values through openpyxl: the reader of last resort, which decides
    whether a file calamine could not read is a workbook at all."""
    from openpyxl import load_workbook

    try:
        # data_only: formulas give their cached values, never the formula text
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or foreign file
        raise FileRejected(f"not a readable XLSX workbook: {type(exc).__name__}: {exc}") from exc
    try:
        return [
            (ws.title, list(ws.iter_rows(values_only=True)))
            for ws in workbook.worksheets
            if sheets == "all" or ws.title in sheets
        ]
    finally:
        workbook.close()


def _calamine_sheets(
    path: Path, sheets: str | tuple[str, ...]
) -> list[tuple[str, list[Sequence[Any]]]] | None:
    """The worksheets' cell values through calamine (Rust), in openpyxl's value types, or None
    when calamine is missing or cannot read the file: openpyxl then decides, rejections included.
    About 13x faster than openpyxl (with a hand-written expat parser) on the 1M-lead demo's
    393k-row referral sheet (7 s against ~95 s), most of the XLSX ingest time."""
    try:
        from python_calamine import CalamineWorkbook, SheetTypeEnum
    except ImportError:
        return None
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        chosen = [n for n in names if sheets == "all" or n in sheets]
        # skip_empty_area=False: rows from A1, so row numbers stay the sheet's own
        return [
            (n, _openpyxl_values(workbook.get_sheet_by_name(n).to_python(skip_empty_area=False)))
            for n in chosen
        ]
    except Exception:  # noqa: BLE001 - any calamine failure falls back to openpyxl
        return None


def _openpyxl_values(rows: list[list[Any]]) -> list[Sequence[Any]]:
    """calamine -> what openpyxl's data_only read gives: empty cells None, whole numbers int
    (Excel writes 5, not 5.0), dates as datetimes at midnight (openpyxl cannot tell them apart,
    and the normalised values and record hashes must not depend on which reader ran)."""

    def value(cell: Any) -> Any:
        kind = type(cell)
        if kind is str:
            return cell or None
        if kind is float:
            return int(cell) if cell.is_integer() and abs(cell) < 2**53 else cell
        if kind is dt.date:
            return dt.datetime(cell.year, cell.month, cell.day)
        return cell

    for i, row in enumerate(rows):  # in place: a second copy of a big sheet is ~1 GB at 1M leads
        rows[i] = tuple(value(c) for c in row)
    return rows


def _header_index(rows: list[Sequence[Any]], header_score: HeaderScore | None) -> int | None:
    """The row that names the most known columns among the first rows, else the first one."""
    filled = [i for i, cells in enumerate(rows) if any(_cell_text(c) for c in cells)]
    if not filled:
        return None
    if header_score is None:
        return filled[0]
    candidates = filled[:HEADER_SEARCH_ROWS]
    scores = [header_score([_cell_text(c) or "" for c in rows[i]]) for i in candidates]
    best = max(scores)
    return candidates[scores.index(best)] if best > 0 else filled[0]


def _read_sheet(
    rows: list[Sequence[Any]], title: str, header_score: HeaderScore | None = None
) -> Sheet | None:
    start = _header_index(rows, header_score)
    if start is None:
        return None
    sheet: Sheet | None = None
    number = 0
    for cells in rows[start:]:
        texts = [_cell_text(c) for c in cells]
        if not any(t is not None and t.strip() for t in texts):
            continue  # blank rows are layout, not records
        if sheet is None:
            sheet = Sheet(unique_headers(list(cells)), name=title)
            continue
        number += 1
        width = len(sheet.header)
        values = (texts + [None] * width)[:width]
        overflow = [t for t in texts[width:] if t is not None]
        if overflow:  # cells beyond the header keep their text in an extra column
            values.append(" | ".join(overflow))
            if "overflow" not in sheet.header:
                sheet.header.append("overflow")
        sheet.rows.append(Row(number, values, title))
    if sheet is not None:
        width = len(sheet.header)
        for row in sheet.rows:
            row.values.extend([None] * (width - len(row.values)))
    return sheet


def read_file(
    path: Path,
    fmt: str,
    *,
    encoding: str = "auto",
    delimiter: str = "auto",
    sheets: str | tuple[str, ...] = "all",
    header_score: HeaderScore | None = None,
) -> ParsedFile:
    if fmt == "csv":
        return read_csv(path, encoding, delimiter)
    if fmt == "json":
        return read_json(path)
    if fmt == "xlsx":
        if path.suffix.lower() == ".csv":  # referral sheets also arrive saved as CSV
            return read_csv(path, encoding, delimiter)
        return read_xlsx(path, sheets, header_score)
    raise FileRejected(f"unsupported format {fmt}")
