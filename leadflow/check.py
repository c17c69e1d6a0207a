"""`leadflow check FILE...`: a dry run of ingest and validation in seconds, writing nothing.

The real loader (`ingest.loader.prepare_file` + `load_file`) runs against a throw-away in-memory
DuckDB with the raw schema, so what it shows is what a run would store: which channel takes the
file and why the others do not, which header maps to which field and which columns are kept as
extra, the required fields missing (with the headers actually found), the first rows as stored,
the rows that would be quarantined, and the flags each row would get. The flags come from the
validation suites' own check definitions, evaluated with pandas (`expectations.evaluate`): GX
itself costs ~10 s of start-up, which is the whole budget of a dry run.

When the configured warehouse exists it is attached read-only (never written, and skipped with a
note when a run holds it): rows it already has count as "already loaded", and its owner
directory is the one `unknown_owner` compares with.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from expectations.evaluate import suite_flags
from expectations.flags import empty_flags
from expectations.suites import batch_suite
from expectations.validate import owner_directory, read_batch
from ingest.landing import FileResult, ensure_raw_schema
from ingest.loader import PreparedFile, load_file, prepare_file, unmatched_reason
from ingest.mapping import SheetMapping, header_scorer
from leadflow.core.canonical import ENTITIES
from leadflow.core.channels import Channel, ChannelConfigError, channel_for, header_key

log = logging.getLogger(__name__)

CHECK_RUN_ID = "leadflow-check"
# lineage a person does not need in a preview (the same for every row of the file)
LINEAGE_PREVIEW_SKIP = {
    "record_hash", "id_namespace", "file_name", "file_sha256", "load_id", "loaded_at",
}  # fmt: skip


@dataclass
class HeaderUse:
    header: str
    use: str  # "person_name", "split -> company, industry", "export id", "ignored", "extra"


@dataclass
class SheetView:
    name: str | None
    headers: list[HeaderUse]
    missing_required: list[str]


@dataclass
class ChannelVerdict:
    channel: str
    chosen: bool
    reason: str
    headers_known: int = 0


@dataclass
class FileCheck:
    """What a run would do with one file."""

    file: str
    channel: str | None
    verdicts: list[ChannelVerdict] = field(default_factory=list)
    sheets: list[SheetView] = field(default_factory=list)
    status: str = "loaded"  # loaded / rejected: what a run would do
    reason: str | None = None
    rows_in_file: int = 0
    rows_added: int = 0
    rows_already_loaded: int = 0
    rows_quarantined: int = 0
    related_records: int = 0
    notes: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    related_preview: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    load_id: str | None = None

    @property
    def rejected(self) -> bool:
        return self.status != "loaded"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("load_id")
        return out


@dataclass
class CheckRun:
    files: list[FileCheck]
    warehouse_note: str
    seconds: float = 0.0


# --------------------------------------------------------------------------- the dry run


def check_files(
    paths: list[Path],
    channels: list[Channel],
    *,
    forced: Channel | None = None,
    warehouse: Path | None,
    business_timezone: str,
    as_of: date,
    rows: int = 5,
) -> CheckRun:
    """Load `paths` into an in-memory warehouse as a run would, then run the checks on them."""
    started = time.monotonic()
    if forced is not None:  # the channel being written replaces a file of the same name
        channels = [forced, *(c for c in channels if c.name != forced.name)]
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        ensure_raw_schema(con)
        note, owners = _attach_warehouse(con, warehouse)
        checks = [_check_one(con, Path(p), channels, forced, business_timezone) for p in paths]
        for check in checks:
            _count_known(con, check)
        owners |= owner_directory(con)  # with the owner files among those checked
        if not owners:
            note += "; owner names not checked (no owner directory in it or among the files)"
        _flag(con, checks, channels, as_of, ZoneInfo(business_timezone), owners)
        for check in checks:
            _preview(con, check, rows)
    finally:
        con.close()
    return CheckRun(checks, note, round(time.monotonic() - started, 2))


def _attach_warehouse(
    con: duckdb.DuckDBPyConnection, warehouse: Path | None
) -> tuple[str, frozenset[str]]:
    """The real warehouse's record ids (into the temp table `known_ids`) and owner names, read
    only; a missing or busy warehouse is a note, not an error."""
    con.execute("CREATE TEMP TABLE known_ids (source_record_id VARCHAR, record_hash VARCHAR)")
    if warehouse is None:
        return "not compared with a warehouse (--no-warehouse)", frozenset()
    if not Path(warehouse).is_file():
        return f"no warehouse at {warehouse} yet: every row counts as new", frozenset()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        return (
            f"warehouse {warehouse} not readable now ({reason}): all rows count as new",
            frozenset(),
        )
    try:
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = 'wh' AND table_schema = 'raw'"
            ).fetchall()
        }
        for entity in ENTITIES.values():
            if entity.table in tables:
                con.execute(
                    "INSERT INTO known_ids SELECT source_record_id, record_hash "
                    f"FROM wh.raw.{entity.table}"
                )
        con.execute("USE wh")  # the validation's own owner-directory query, on the warehouse
        owners = owner_directory(con)
    finally:
        con.execute("USE memory")
        con.execute("DETACH wh")
    note = f"compared with {warehouse} (read only): rows it holds count as already loaded"
    return note, owners


def _check_one(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    channels: list[Channel],
    forced: Channel | None,
    business_timezone: str,
) -> FileCheck:
    started = time.monotonic()
    channel = forced or channel_for(path.name, channels)
    check = FileCheck(str(path), channel.name if channel else None)
    if not path.is_file():
        check.status, check.reason = "rejected", "no such file"
        return check
    if channel is None:
        check.status, check.reason = "rejected", unmatched_reason(path, channels)
        headers = _guess_headers(path, channels)
        check.verdicts = _verdicts(path, channels, None, headers)
        check.notes = [f"headers found: {', '.join(h)}" for h in headers]
        return check
    prepared = prepare_file(path, channel)
    headers = [s.header for s, _, _ in prepared.sheets]
    check.verdicts = _verdicts(path, channels, channel, headers)
    check.sheets = [
        _sheet_view(s.name, s.header, m, miss, channel) for s, m, miss in prepared.sheets
    ]
    result = load_file(
        con,
        path,
        channel,
        run_id=CHECK_RUN_ID,
        business_tz=business_timezone,
        reports_dir=None,  # a dry run writes no error report
        file_name=path.name,
        prepared=prepared,
    )
    _take_result(check, result, prepared)
    check.seconds = round(time.monotonic() - started, 2)
    return check


def _take_result(check: FileCheck, result: FileResult, prepared: PreparedFile) -> None:
    check.status, check.reason, check.notes = result.status, result.error, result.notes
    check.rows_in_file, check.rows_added = result.rows_in_file, result.records_added
    check.rows_already_loaded = result.rows_already_loaded
    check.rows_quarantined, check.related_records = result.rows_quarantined, result.derived_records
    check.load_id = result.load_id if result.status == "loaded" else None
    if prepared.parsed is not None and result.status == "loaded":
        check.quarantined = [
            {"sheet": q.sheet or "", "row": q.row_number, "reason": q.reason, "text": q.raw_text}
            for q in prepared.parsed.quarantined
        ]


def _verdicts(
    path: Path, channels: list[Channel], chosen: Channel | None, headers: list[list[str]]
) -> list[ChannelVerdict]:
    """Why each channel takes the file or not: its patterns, and how many headers it knows."""
    verdicts = []
    for channel in channels:
        patterns = ", ".join(channel.files)
        known = max((header_scorer(channel)(h) for h in headers), default=0)
        width = max((len(h) for h in headers), default=0)
        fit = f"; knows {known} of the file's {width} headers" if headers else ""
        if channel is chosen:
            how = "its pattern matches" if channel.matches(path.name) else "chosen by --channel"
            reason = f"takes the file: {how} ({patterns}){fit}"
        elif chosen is not None and channel.matches(path.name):
            reason = f"its pattern matches too ({patterns}), but {chosen.name} comes first"
        else:
            reason = f"name does not match {patterns}{fit}"
        verdicts.append(ChannelVerdict(channel.name, channel is chosen, reason, known))
    # the channel that takes the file, then the closest by headers (the likely alternatives)
    return sorted(verdicts, key=lambda v: (not v.chosen, -v.headers_known, v.channel))


def _guess_headers(path: Path, channels: list[Channel]) -> list[list[str]]:
    """The headers of a file no pattern matches, read as the channel whose format fits the
    file's extension would read it, so the verdicts can say which channel knows them."""
    wanted = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else None
    wanted = wanted or ("json" if path.suffix.lower() in (".json", ".ndjson") else "csv")
    for channel in channels:
        if channel.format == wanted:
            prepared = prepare_file(path, channel)
            return [s.header for s, _, _ in prepared.sheets]
    return []


def _sheet_view(
    name: str | None, header: list[str], mapping: SheetMapping, missing: list[str], ch: Channel
) -> SheetView:
    uses: dict[int, str] = {i: f for f, i in mapping.fields.items()}
    for record, found in mapping.records.items():
        for field_name, i in found.items():
            label = f"{record.split('.', 1)[-1]} record: {field_name}"
            uses[i] = f"{uses[i]}, {label}" if i in uses else label
    for i, split in mapping.splits:
        uses[i] = f"split by {split.by} into {', '.join(split.into)}"
    if mapping.export_id is not None:
        uses[mapping.export_id] = (
            f"{uses[mapping.export_id]}, export id" if mapping.export_id in uses else "export id"
        )
    ignored = {header_key(a) for a in ch.ignore}
    headers = []
    for i, text in enumerate(header):
        use = uses.get(i)
        if use is None:
            use = "ignored" if header_key(text) in ignored else "extra: kept in extra_columns"
        headers.append(HeaderUse(text, use))
    return SheetView(name, headers, missing)


def _count_known(con: duckdb.DuckDBPyConnection, check: FileCheck) -> None:
    """Rows the warehouse already holds: every record of the row is there with the same
    content (C1). All rows were loaded into the throw-away warehouse, so each can be shown."""
    if check.load_id is None:
        return
    union = " UNION ALL ".join(
        f"SELECT sheet, row_number, source_record_id, record_hash FROM raw.{e.table} "
        "WHERE load_id = $load"
        for e in ENTITIES.values()
    )
    new_rows = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT sheet, row_number FROM ({union}) r "
        "WHERE NOT EXISTS (SELECT 1 FROM known_ids k WHERE k.source_record_id = "
        "r.source_record_id AND k.record_hash = r.record_hash))",
        {"load": check.load_id},
    ).fetchone()[0]
    parsed = check.rows_added + check.rows_already_loaded
    check.rows_added, check.rows_already_loaded = new_rows, parsed - new_rows


# --------------------------------------------------------------------------- flags


def _flag(
    con: duckdb.DuckDBPyConnection,
    checks: list[FileCheck],
    channels: list[Channel],
    as_of: date,
    tz: ZoneInfo,
    owners: frozenset[str],
) -> None:
    """The flags validation would write, per file: every batch (channel) of its load."""
    by_name = {c.name: c for c in channels}
    for check in checks:
        if check.load_id is None:
            continue
        parts = [empty_flags()]
        for channel, entity in _batches(con, check.load_id):
            suite = batch_suite(by_name, channel, entity, as_of=as_of, tz=tz, owner_names=owners)
            if not owners:  # no directory to compare with: every name would be "unknown"
                checks = tuple(c for c in suite.checks if c.check_name != "unknown_owner")
                suite = replace(suite, checks=checks)
            for frame in read_batch(con, suite, [check.load_id]):
                parts.append(suite_flags(frame, suite).assign(entity=entity))
        import pandas as pd

        flags = pd.concat(parts, ignore_index=True)
        flags = flags.sort_values(["sheet", "row_number", "check_name"], kind="stable")
        check.flags = [
            {
                "sheet": r.sheet or "",
                "row": int(r.row_number),
                "channel": r.channel,
                "field": r.column_name,
                "check": r.check_name,
                "severity": r.severity,
                "value": None if pd.isna(r.observed_value) else r.observed_value,
            }
            for r in flags.itertuples()
        ]


def _batches(con: duckdb.DuckDBPyConnection, load_id: str) -> list[tuple[str, str]]:
    found = []
    for entity in ENTITIES.values():
        rows = con.execute(
            f"SELECT DISTINCT channel FROM raw.{entity.table} WHERE load_id = ? ORDER BY 1",
            [load_id],
        ).fetchall()
        found += [(channel, entity.name) for (channel,) in rows]
    return found


# --------------------------------------------------------------------------- preview


def _preview(con: duckdb.DuckDBPyConnection, check: FileCheck, rows: int) -> None:
    """The first rows as stored (only the columns that hold something), and the first records
    made beside them (`records`, dated lines of text cells)."""
    if check.load_id is None:
        return
    for entity in ENTITIES.values():
        cursor = con.execute(
            f"SELECT * FROM raw.{entity.table} WHERE load_id = ? "
            "ORDER BY sheet NULLS FIRST, row_number, channel LIMIT ?",
            [check.load_id, rows],
        )
        names = [d[0] for d in cursor.description]
        for values in cursor.fetchall():
            record = {
                k: v
                for k, v in zip(names, values, strict=True)
                if v is not None and v not in ("{}", "") and k not in LINEAGE_PREVIEW_SKIP
            }
            record["entity"] = entity.name
            if record.get("channel") == check.channel:
                check.preview.append(record)
            else:
                check.related_preview.append(record)


def channels_for_check(
    channels_dir: Path, forced_yaml: Path | None
) -> tuple[list[Channel], Channel | None, list[str]]:
    """The channels a check uses: the folder's, and the one being written (`--channel`). With
    `--channel`, problems of the folder's other files are warnings (the check goes on); without
    it, they stop the check like they stop a run."""
    from leadflow.core.channels import read_channel_file, validate_channels

    channels, problems = validate_channels(channels_dir)
    forced = None
    warnings = []
    if forced_yaml is not None:
        forced, own = read_channel_file(Path(forced_yaml))
        if forced is None:
            raise ChannelConfigError(own)
        warnings = [f"other channel files: {p}" for p in problems if p.severity == "error"]
    elif any(p.severity == "error" for p in problems):
        raise ChannelConfigError(problems)
    warnings += [str(p) for p in problems if p.severity != "error"]
    return channels, forced, warnings


# --------------------------------------------------------------------------- text


def format_check(run: CheckRun, *, rows: int, all_flags: bool = False) -> str:
    """The report a person reads in the terminal, one block per file."""
    blocks = [_format_file(c, rows, all_flags) for c in run.files]
    would = sum(not c.rejected for c in run.files)
    blocks.append(
        f"{len(run.files)} files checked in {run.seconds:.1f} s: {would} would load, "
        f"{len(run.files) - would} would be rejected. Nothing was written; {run.warehouse_note}."
    )
    return "\n\n".join(blocks)


FLAG_LINES = 20  # flag lines shown per file unless --all-flags; all are counted


def _format_file(check: FileCheck, rows: int, all_flags: bool) -> str:
    out = [f"{check.file}  ({check.seconds:.1f} s)"]
    out += _labelled("channel", _verdict_lines(check.verdicts))
    for sheet in check.sheets:
        label = f"sheet {sheet.name!r}" if sheet.name else "headers"
        width = max((len(h.header) for h in sheet.headers), default=0)
        lines = [f"{h.header:<{width}}  -> {h.use}" for h in sheet.headers] or ["(none)"]
        out += _labelled(label, lines)
        if sheet.missing_required:
            found = ", ".join(h.header for h in sheet.headers) or "none"
            out += _labelled(
                "MISSING", [*(f"required {m}" for m in sheet.missing_required), f"found: {found}"]
            )
    if check.rejected:
        out += _labelled("result", [f"WOULD BE REJECTED: {check.reason}", *check.notes])
        return "\n".join(out)
    counts = (
        f"WOULD LOAD {check.rows_in_file} rows: {check.rows_added} added, "
        f"{check.rows_already_loaded} already loaded, {check.rows_quarantined} quarantined"
    )
    if check.related_records:
        counts += f"; {check.related_records} more records made beside the rows"
    out += _labelled("result", [counts, *(f"note: {n}" for n in check.notes)])
    out += _labelled(f"first {rows} rows as stored", [_record_line(r) for r in check.preview])
    if check.related_preview:
        lines = [f"{r['channel']}: {_record_line(r)}" for r in check.related_preview[:rows]]
        out += _labelled("records made beside them", lines)
    out += _flag_block(check, all_flags)
    if check.quarantined:
        lines = [
            f"row {q['row']}: {q['reason']}: {_short(q['text'], 100)}" for q in check.quarantined
        ]
        out += _labelled("quarantined (would not load; see reports/errors/ after a run)", lines)
    return "\n".join(out)


def _verdict_lines(verdicts: list[ChannelVerdict]) -> list[str]:
    """The channel that takes the file and those that know some of its headers; the rest in
    one line (their patterns do not match and they know none of the headers)."""
    shown = [v for v in verdicts if v.chosen or v.headers_known or "matches too" in v.reason]
    rest = [v.channel for v in verdicts if v not in shown]
    lines = [f"{v.channel}: {v.reason}" for v in shown]
    if rest:
        lines.append(f"{', '.join(rest)}: names do not match, and none knows these headers")
    return lines


def _flag_block(check: FileCheck, all_flags: bool) -> list[str]:
    """Counts per check, then one line per row and problem (a row's derived records that share
    a problem are one line)."""
    if not check.flags:
        return _labelled("flags", ["none"])
    by_check: dict[tuple[str, str], int] = {}
    lines: dict[str, int] = {}
    for flag in check.flags:
        key = (flag["check"], flag["severity"])
        by_check[key] = by_check.get(key, 0) + 1
        line = _flag_line(flag)
        lines[line] = lines.get(line, 0) + 1
    rows = {(f["sheet"], f["row"]) for f in check.flags}
    summary = ", ".join(f"{name} {n} ({severity})" for (name, severity), n in by_check.items())
    shown = [f"{line}  ×{n}" if n > 1 else line for line, n in lines.items()]
    if not all_flags and len(shown) > FLAG_LINES:
        more = len(shown) - FLAG_LINES
        shown = [*shown[:FLAG_LINES], f"… {more} more lines (--all-flags shows them, --json too)"]
    return _labelled(f"flags: {len(check.flags)} on {len(rows)} rows: {summary}", shown)


def _labelled(label: str, lines: list[str]) -> list[str]:
    if not lines:
        return [f"  {label}: none"]
    return [f"  {label}:", *(f"      {line}" for line in lines)]


def _short(value: Any, width: int = 60) -> str:
    text = str(value).replace("\r\n", "⏎").replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def _record_line(record: dict[str, Any]) -> str:
    import json

    hidden = ("original_values", "entity", "channel")
    shown = {k: v for k, v in record.items() if k not in hidden}
    row = shown.pop("row_number", "?")
    sheet = shown.pop("sheet", None)
    where = f"{sheet} row {row}" if sheet else f"row {row}"
    originals = json.loads(record.get("original_values") or "{}")
    parts = []
    for key, value in shown.items():
        if key.endswith("_is_date_only") and value is False:
            continue  # the usual case: a time of day was given
        text = f"{key}={_short(value)}"
        if key in originals:
            text += f" (from {_short(originals[key], 40)!r})"
        parts.append(text)
    return f"{where}: " + "  ".join(parts)


def _flag_line(flag: dict[str, Any]) -> str:
    where = f"{flag['sheet']} row {flag['row']}" if flag["sheet"] else f"row {flag['row']}"
    field = flag["field"] or "the row"
    value = "" if flag["value"] is None else f": {_short(flag['value'])!r}"
    return f"{where}  {flag['check']} on {field}{value}"
