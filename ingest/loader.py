"""Load every file of the inbox into the raw tables: lose nothing, load nothing twice (C1).

Per file, in one transaction: rows become raw records (new content only), unsplittable rows go to
`raw.quarantine`, and `raw.load_manifest` records rows in file = added + already loaded +
quarantined. Loaded files move to `archive/`, rejected ones to `failed/` with a reason file.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.inbox import inbox_files, relative_name
from ingest.normalize import field_exprs, parse_exprs, settle_leftovers
from ingest.readers import FileRejected, ParsedFile, QuarantinedRow, Sheet, read_file
from leadflow.core import progress
from leadflow.core import warehouse as warehouse_db
from leadflow.core.canonical import ENTITIES, Entity
from leadflow.core.channels import Channel, RecordMapping, channel_for, header_key, load_channels
from leadflow.core.derived import PARTY, derive
from leadflow.core.memory import release_freed_memory
from leadflow.core.sql import literal

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = {
    "load_id": "VARCHAR",
    "run_id": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "channel": "VARCHAR",
    "entity": "VARCHAR",
    "rows_in_file": "BIGINT",
    "records_added": "BIGINT",
    "rows_already_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    "status": "VARCHAR",  # loaded / rejected
    "error": "VARCHAR",
    "loaded_at": "TIMESTAMP",
    # records made beside the rows' own (a channel's `records`, dated lines of text cells):
    # not file rows; records_added counts rows with any new record (C1)
    "derived_records": "BIGINT",
    # warnings on a file that loaded: a sheet skipped, an export_id header not in the file
    "notes": "VARCHAR",
}
QUARANTINE_COLUMNS = {
    "load_id": "VARCHAR",
    "channel": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "sheet": "VARCHAR",
    "row_number": "BIGINT",
    "reason": "VARCHAR",
    "raw_text": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}


@dataclass
class FileResult:
    file_name: str
    channel: str | None
    entity: str | None
    load_id: str
    status: str
    rows_in_file: int = 0
    records_added: int = 0
    rows_already_loaded: int = 0
    rows_quarantined: int = 0
    derived_records: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _ddl(name: str, columns: dict[str, str]) -> str:
    body = ", ".join(f'"{c}" {t}' for c, t in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({body})"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables (empty) so every later stage can rely on them; a warehouse made by
    an earlier version gains the columns added since (NULL in its old rows)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    tables = {f"raw.{e.table}": e.columns() for e in ENTITIES.values()}
    tables["raw.load_manifest"] = MANIFEST_COLUMNS
    tables["raw.quarantine"] = QUARANTINE_COLUMNS
    for name, columns in tables.items():
        con.execute(_ddl(name, columns))
        schema, table = name.split(".")
        present = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchall()
        }
        for column, kind in columns.items():
            if column not in present:
                con.execute(f'ALTER TABLE {name} ADD COLUMN "{column}" {kind}')


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- mapping headers to fields


@dataclass
class SheetMapping:
    fields: dict[str, int]  # canonical field -> column index
    splits: list[tuple[int, object]]  # (column index, Split)
    export_id: int | None
    unknown: dict[str, int]  # header -> column index, kept as JSON
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # record -> field -> index


def _map_fields(
    aliases_by_field: dict[str, tuple[str, ...]], keys: dict[str, int]
) -> dict[str, int]:
    """Canonical field -> column index of its first alias present in the header."""
    found = {}
    for name, aliases in aliases_by_field.items():
        index = next((keys[header_key(a)] for a in aliases if header_key(a) in keys), None)
        if index is not None:
            found[name] = index
    return found


def map_sheet(sheet: Sheet, channel: Channel) -> SheetMapping:
    keys = {header_key(h): i for i, h in reversed(list(enumerate(sheet.header)))}
    fields = _map_fields(channel.fields, keys)
    records = {r.name: _map_fields(r.fields, keys) for r in channel.records}
    used = set(fields.values()) | {i for found in records.values() for i in found.values()}
    splits = []
    for split in channel.splits:
        index = next((keys[header_key(a)] for a in split.aliases if header_key(a) in keys), None)
        if index is not None and index not in used:
            splits.append((index, split))
            used.add(index)
    export_index = keys.get(header_key(channel.export_id)) if channel.export_id else None
    if export_index is not None:
        used.add(export_index)
    ignored = {keys[header_key(a)] for a in channel.ignore if header_key(a) in keys}
    unknown = {h: i for i, h in enumerate(sheet.header) if i not in used | ignored}
    return SheetMapping(fields, splits, export_index, unknown, records)


def header_scorer(channel: Channel):
    """How many cells of a row are headers this channel knows: finds the header row."""
    mapped = [channel.fields, *(r.fields for r in channel.records)]
    known = {header_key(a) for fields in mapped for aliases in fields.values() for a in aliases}
    known |= {header_key(a) for s in channel.splits for a in s.aliases}
    known |= {header_key(a) for a in (channel.export_id, *channel.ignore) if a}
    return lambda cells: sum(header_key(c) in known for c in cells if c)


def missing_required(mapping: SheetMapping, channel: Channel) -> list[str]:
    """Required groups with no column at all in the file, naming the aliases tried."""
    present = set(mapping.fields) | set(channel.constants)
    present |= {f for _, s in mapping.splits for f in s.into}
    problems = []
    for group in channel.required_columns():
        if not present.intersection(group):
            tried = [a for f in group for a in channel.fields.get(f, ())]
            tried += [a for s in channel.splits if set(s.into) & set(group) for a in s.aliases]
            problems.append(f"{' or '.join(group)} (headers tried: {', '.join(tried) or 'none'})")
    return problems


def split_cell(text: str | None, split) -> list[str | None]:
    import re

    if text is None:
        return [None] * len(split.into)
    if split.by == "contact":  # phone and email told apart by shape, in any order
        email = re.search(r"[^\s/／,，;；:：]+@[^\s/／,，;；]+", text)
        rest = text.replace(email.group(0), " ") if email else text
        phone = re.search(r"[+＋0-9０-９][0-9０-９\-\s*＊()（）]{3,}[0-9０-９*＊]", rest)
        found = {"email": email.group(0) if email else None}
        found["phone"] = phone.group(0).strip() if phone else (rest.strip() or None)
        return [found.get(f) for f in split.into]
    parts = re.split(split.separator, text.strip(), maxsplit=len(split.into) - 1)
    parts += [None] * (len(split.into) - len(parts))
    return [p.strip() or None if p else None for p in parts]


def text_batch(
    src: pa.Table, sheet_name: str | None, channel: Channel, mapping: SheetMapping
) -> pa.Table:
    """Lineage, one text column per canonical field (`f_<field>`) and the unknown columns
    (`u<i>`), taken column by column from the sheet's Arrow table (`Sheet.to_arrow`): no
    per-row Python except for combined cells that need splitting."""
    rows = src.num_rows
    nulls = pa.nulls(rows, pa.string())
    columns: dict[str, pa.Array] = {
        "row_number": src["row_number"],
        "sheet": pa.array([sheet_name] * rows, pa.string()),
        "export_id": src[f"c{mapping.export_id}"] if mapping.export_id is not None else nulls,
    }
    split_values: dict[str, pa.Array] = {}
    for index, split in mapping.splits:
        pieces = [split_cell(v, split) for v in src[f"c{index}"].to_pylist()]
        for k, name in enumerate(split.into):
            split_values[name] = pa.array([p[k] for p in pieces], pa.string())
    for name in channel.entity.fields:
        if name in mapping.fields:
            columns[f"f_{name}"] = src[f"c{mapping.fields[name]}"]
        else:
            columns[f"f_{name}"] = split_values.get(name, nulls)
    for i in mapping.unknown.values():
        columns[f"u{i}"] = src[f"c{i}"]
    return pa.table(columns)


def mapped_text(name: str, channel: Channel) -> str:
    """A field's text as the channel stores it: trimmed (blank is NULL), then its value map
    (keys case-insensitive; a value mapped to null becomes NULL), its case fold, and last its
    constant, which fills only what is still blank."""
    text = f"nullif(trim(src.\"f_{name}\"), '')"
    mapping = channel.value_maps.get(name)
    if mapping:
        cases = " ".join(f"WHEN {literal(k.lower())} THEN {literal(v)}" for k, v in mapping.items())
        text = f"CASE lower({text}) {cases} ELSE {text} END"
    if name in channel.case:
        text = f"{channel.case[name]}({text})"
    if name in channel.constants:
        text = f"coalesce({text}, {literal(channel.constants[name])})"
    return text


def normalised_select(
    entity: Entity, channel: Channel, mapping: SheetMapping, business_tz: str
) -> str:
    """SQL over the text batch `src`: trim and map once, then normalise (C2). The original
    text of every field is kept as it was in the file (trimmed), before any map."""
    trimmed = [f'{mapped_text(name, channel)} AS "{name}"' for name in entity.fields]
    originals = ", ".join(f'"{f}" := nullif(trim(src."f_{f}"), \'\')' for f in entity.fields)
    entries = ", ".join(
        f"struct_pack(k := {literal(header)}, v := nullif(src.u{i}, ''))"
        for header, i in mapping.unknown.items()
    )
    extra = (
        f"to_json(map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL)))"
        if entries
        else "'{}'"
    )
    parsed = ", ".join(f'{sql} AS "{name}"' for name, sql in parse_exprs(entity, channel).items())
    exprs = field_exprs(entity, channel, business_tz)
    selected = ", ".join(f'{sql} AS "{name}"' for name, sql in exprs.items())
    return (
        f"WITH t AS (SELECT src.row_number, src.sheet, nullif(trim(src.export_id), '') "
        f"AS export_id, {', '.join(trimmed)}, struct_pack({originals}) AS original_text, "
        f"{extra} AS extra FROM src), "
        f"p AS (SELECT *{', ' + parsed if parsed else ''} FROM t) "
        f"SELECT t.row_number, t.sheet, t.export_id, {selected}, t.original_text, "
        f"CAST(t.extra AS JSON) AS extra_columns FROM p AS t"
    )


def original_values_sql(entity: Entity) -> str:
    """JSON of the original (trimmed) text of each field whose text differs from the text of
    its normalised value (C1): a field absent from it was loaded as written, or was empty.
    Computed after phones and emails are settled, so it compares with the stored values.
    Writing every field's text doubled the write time of the raw tables (~600 bytes a row)."""
    entries = ", ".join(
        f'struct_pack(k := {literal(f)}, v := b.original_text."{f}", n := CAST(b."{f}" AS VARCHAR))'
        for f in entity.fields
    )
    kept = f"list_filter([{entries}], lambda e: e.v IS NOT NULL AND e.v IS DISTINCT FROM e.n)"
    pairs = f"list_transform({kept}, lambda e: struct_pack(k := e.k, v := e.v))"
    return f"to_json(map_from_entries({pairs}))"


def land_batch(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    channel: Channel,
    mapping: SheetMapping,
    *,
    load_id: str,
    file_name: str,
    file_sha: str,
    loaded_at: datetime,
    business_tz: str,
    parented: bool = False,
    keep_ids: bool = False,
) -> int:
    """Normalise and append the records not loaded before (C1); returns how many were new.
    `parented`: the records sit beside the row's record of the last `keep_ids` batch, whose
    ids are kept in the temp table `row_record_ids`."""
    entity = channel.entity
    con.register("src", batch)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch AS "
        + normalised_select(entity, channel, mapping, business_tz)
    )
    con.unregister("src")
    settle_leftovers(con, "batch", channel.phone_region)
    values = ", ".join(f"coalesce(CAST(b.\"{f}\" AS VARCHAR), '')" for f in entity.fields)
    hashed = f"(SELECT *, md5(concat_ws(chr(31), {values})) AS content_hash FROM batch b) b"
    # of the normalised values: a re-saved copy hashes the same
    record_id = (
        f"{literal(channel.name)} || ':' || coalesce(b.export_id, 'h:' || left(b.content_hash, 20))"
    )
    target = f"raw.{entity.table}"
    columns = entity.columns()
    lineage = {
        "source_record_id": record_id,
        "record_hash": "b.content_hash",
        "channel": literal(channel.name),
        "id_namespace": literal(channel.id_namespace),
        "export_id": "b.export_id",
        "file_name": literal(file_name),
        "file_sha256": literal(file_sha),
        "row_number": "b.row_number",
        "sheet": "b.sheet",
        "parent_record_id": "parent.source_record_id" if parented else "NULL",
        "load_id": literal(load_id),
        "loaded_at": f"TIMESTAMP '{loaded_at.isoformat(sep=' ')}'",
        "original_values": original_values_sql(entity),
    }
    select = ", ".join(
        f'{lineage[c]} AS "{c}"' if c in lineage else f'b."{c}" AS "{c}"' for c in columns
    )
    parent_join = (
        " LEFT JOIN row_record_ids parent ON parent.row_number = b.row_number "
        "AND parent.sheet IS NOT DISTINCT FROM b.sheet"
        if parented
        else ""
    )
    names = ", ".join(f'"{c}"' for c in columns)
    # Straight from the batch into the raw table: only versions not loaded before (C1).
    added = con.execute(
        f"INSERT INTO {target} ({names}) SELECT * FROM (SELECT {select} FROM {hashed}"
        f"{parent_join}) r WHERE NOT EXISTS (SELECT 1 FROM {target} t "
        f"WHERE t.source_record_id = r.source_record_id AND t.record_hash = r.record_hash)"
    ).fetchall()[0][0]
    if keep_ids:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE row_record_ids AS SELECT b.sheet, b.row_number, "
            f"{record_id} AS source_record_id FROM {hashed}"
        )
    con.execute("DROP TABLE batch")
    return added


def related_channel(channel: Channel, name: str, entity: Entity, **mapping: Any) -> Channel:
    """The channel of the records made beside a row's own record (`<channel>.<name>`): their
    entity's checks apply in validation, not the row's required fields."""
    return replace(
        channel,
        name=name,
        entity=entity,
        fields={},
        constants=mapping.get("constants", {}),
        value_maps=mapping.get("value_maps", {}),
        case=mapping.get("case", {}),
        splits=(),
        required=(),
        derive=(),
        records=(),
    )


def record_batch(
    src: pa.Table, batch: pa.Table, record: RecordMapping, columns: dict[str, int]
) -> pa.Table:
    """The text batch of one `records` mapping: its own fields from the sheet, the row's party
    fields and owner from the row's batch, and the row's export id (so the record of a known
    export id is versioned like its row, C1). Rows whose own fields are all blank make none."""
    own = {name: src[f"c{index}"] for name, index in columns.items()}
    if not own:
        return batch.slice(0, 0)
    inherited = {*PARTY, "owner_name"}
    table = {
        "row_number": batch["row_number"],
        "sheet": batch["sheet"],
        "export_id": batch["export_id"],
    }
    for name in record.entity.fields:
        if name in own:
            table[f"f_{name}"] = own[name]
        elif name in inherited and f"f_{name}" in batch.column_names:
            table[f"f_{name}"] = batch[f"f_{name}"]
        else:
            table[f"f_{name}"] = pa.nulls(batch.num_rows, pa.string())
    present = [pc.fill_null(pc.utf8_length(pc.utf8_trim_whitespace(v)), 0) for v in own.values()]
    keep = functools.reduce(pc.or_, [pc.greater(n, 0) for n in present])
    return pa.table(table).filter(keep)


def land_related(
    con: duckdb.DuckDBPyConnection,
    src: pa.Table,
    batch: pa.Table,
    channel: Channel,
    mapping: SheetMapping,
    lineage: dict[str, Any],
) -> int:
    """The further records of each row (`records`) and the activities parsed out of its text
    cells (`derive`), each beside the row's record; returns how many were new."""
    added = 0
    empty = SheetMapping(fields={}, splits=[], export_id=None, unknown={})
    for record in channel.records:
        related = record_batch(src, batch, record, mapping.records.get(record.name, {}))
        if related.num_rows:
            mapped = related_channel(
                channel,
                record.name,
                record.entity,
                constants=record.constants,
                value_maps=record.value_maps,
                case=record.case,
            )
            added += land_batch(con, related, mapped, empty, parented=True, **lineage)
    for derivation in channel.derive:
        entity = ENTITIES[derivation.entity]
        derived = derive(batch, derivation, list(entity.fields))
        if derived.num_rows:
            mapped = related_channel(channel, f"{channel.name}.{entity.name}", entity)
            added += land_batch(con, derived, mapped, empty, parented=True, **lineage)
    return added


def rows_added(con: duckdb.DuckDBPyConnection, load_id: str, channel: Channel) -> int:
    """File rows with at least one new record (C1: a row is counted once, whatever number of
    records it became), counted from the raw tables themselves."""
    entities = {channel.entity.name, *(r.entity.name for r in channel.records)}
    entities |= {d.entity for d in channel.derive}
    union = " UNION ".join(
        f"SELECT sheet, row_number FROM raw.{ENTITIES[e].table} WHERE load_id = $load_id"
        for e in sorted(entities)
    )
    return con.execute(f"SELECT count(*) FROM ({union})", {"load_id": load_id}).fetchall()[0][0]


# ---------------------------------------------------------------- files


def _write_error_report(
    reports_dir: Path, result: FileResult, problems: list[QuarantinedRow], file_error: str | None
) -> Path | None:
    """A CRM-style import error file; cells that Excel would run as formulas are neutralised.
    A file that loads without problems removes the stale report of an earlier attempt."""
    out = error_report_path(reports_dir, result.file_name)
    if not problems and not file_error:
        out.unlink(missing_ok=True)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sheet", "row", "reason", "raw_text"])
        if file_error:
            writer.writerow([result.file_name, "", "", file_error, ""])
        for p in problems:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (result.file_name, p.sheet or "", p.row_number, p.reason, p.raw_text)
                ]
            )
    return out


def error_report_path(reports_dir: Path, file_name: str) -> Path:
    return Path(reports_dir) / "errors" / f"{file_name}.errors.csv"


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def move_file(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():  # keep both: nothing is ever deleted
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    return target


@dataclass
class PreparedFile:
    """A file read and its sheets' headers mapped, before anything is written: what `load_file`
    lands, and what `leadflow check` shows (mappings of every sheet, usable or not)."""

    parsed: ParsedFile | None
    sheets: list[tuple[Sheet, SheetMapping, list[str]]]  # every sheet, its mapping, missing
    usable: list[tuple[Sheet, SheetMapping]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def prepare_file(path: Path, channel: Channel) -> PreparedFile:
    """Read the file and map each sheet's headers; rejection only for an unreadable file or a
    required column missing (C1), naming the aliases tried and the headers found."""
    try:
        parsed = read_file(
            path,
            channel.format,
            encoding=channel.encoding,
            delimiter=channel.delimiter,
            sheets=channel.sheets,
            header_score=header_scorer(channel),
        )
    except FileRejected as exc:
        return PreparedFile(None, [], error=str(exc))
    except (UnicodeDecodeError, OSError, ValueError) as exc:
        return PreparedFile(None, [], error=f"unreadable: {type(exc).__name__}: {exc}")
    prepared = PreparedFile(parsed, [])
    for sheet in parsed.sheets:
        mapping = map_sheet(sheet, channel)
        missing = missing_required(mapping, channel)
        prepared.sheets.append((sheet, mapping, missing))
        where = f" of sheet {sheet.name!r}" if len(parsed.sheets) > 1 else ""
        if missing and len(parsed.sheets) > 1 and not mapping.fields and not mapping.splits:
            prepared.notes.append(f"sheet {sheet.name!r} ignored: no known column")
            continue
        if missing:
            found = ", ".join(sheet.header) or "none"
            prepared.error = (
                f"required column missing{where}: {'; '.join(missing)}; headers found: {found}"
            )
            prepared.usable = []
            return prepared
        if channel.export_id and mapping.export_id is None:
            prepared.notes.append(
                f"export_id header `{channel.export_id}` not found{where}: record ids are "
                "hashes of each row's content, so an edited row becomes a new record, not a "
                "new version"
            )
        prepared.usable.append((sheet, mapping))
    return prepared


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    channel: Channel,
    *,
    run_id: str,
    business_tz: str,
    reports_dir: Path | None,
    file_name: str | None = None,
    prepared: PreparedFile | None = None,
) -> FileResult:
    """Load one file in one transaction and record it in the manifest. `file_name` is its
    name in lineage (the path below the inbox); `reports_dir` None writes no error report."""
    started = time.monotonic()
    file_name = file_name or path.name
    load_id = uuid.uuid4().hex
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    file_sha = sha256_of(path)
    result = FileResult(file_name, channel.name, channel.entity.name, load_id, "loaded")
    prepared = prepared or prepare_file(path, channel)
    result.notes = list(prepared.notes)
    if prepared.error:
        result.status, result.error = "rejected", prepared.error
    parsed = prepared.parsed
    quarantined = [] if result.status == "rejected" else parsed.quarantined
    con.execute("BEGIN TRANSACTION")
    try:
        if result.status == "loaded":
            result.rows_in_file = sum(s.row_count for s, _ in prepared.usable) + len(quarantined)
            result.rows_quarantined = len(quarantined)
            lineage = {
                "load_id": load_id,
                "file_name": file_name,
                "file_sha": file_sha,
                "loaded_at": loaded_at,
                "business_tz": business_tz,
            }
            related = bool(channel.records or channel.derive)
            rows_parsed = 0
            for sheet, mapping in prepared.usable:
                src = sheet.to_arrow()
                batch = text_batch(src, sheet.name, channel, mapping)
                if not batch.num_rows:
                    continue
                rows_parsed += batch.num_rows
                land_batch(con, batch, channel, mapping, keep_ids=related, **lineage)
                if related:
                    result.derived_records += land_related(
                        con, src, batch, channel, mapping, lineage
                    )
            result.records_added = rows_added(con, load_id, channel) if rows_parsed else 0
            result.rows_already_loaded = rows_parsed - result.records_added
            _insert_quarantine(con, quarantined, result, file_sha, loaded_at)
        _insert_manifest(con, result, run_id, file_sha, loaded_at)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if reports_dir is not None:
        _write_error_report(reports_dir, result, quarantined, result.error)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _insert_quarantine(
    con, rows: list[QuarantinedRow], result: FileResult, file_sha: str, loaded_at: datetime
) -> None:
    """One bulk insert (a file that fails to decode can quarantine most of its rows, and
    `executemany` runs one statement per row); rows of a file already quarantined are skipped."""
    if not rows:
        return
    con.register(
        "quarantined_rows",
        pa.table(
            {
                "sheet": pa.array([r.sheet for r in rows], pa.string()),
                "row_number": pa.array([r.row_number for r in rows], pa.int64()),
                "reason": pa.array([r.reason for r in rows], pa.string()),
                "raw_text": pa.array([r.raw_text for r in rows], pa.string()),
            }
        ),
    )
    con.execute(
        "INSERT INTO raw.quarantine SELECT $load_id, $channel, $file_name, $sha, r.sheet, "
        "r.row_number, r.reason, r.raw_text, $loaded_at FROM quarantined_rows r "
        "WHERE NOT EXISTS (SELECT 1 FROM raw.quarantine q WHERE q.file_sha256 = $sha "
        "AND q.row_number = r.row_number AND q.sheet IS NOT DISTINCT FROM r.sheet)",
        {
            "load_id": result.load_id,
            "channel": result.channel,
            "file_name": result.file_name,
            "sha": file_sha,
            "loaded_at": loaded_at,
        },
    )
    con.unregister("quarantined_rows")


def _insert_manifest(
    con, result: FileResult, run_id: str, file_sha: str, loaded_at: datetime
) -> None:
    names = ", ".join(MANIFEST_COLUMNS)
    con.execute(
        f"INSERT INTO raw.load_manifest ({names}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.load_id,
            run_id,
            result.file_name,
            file_sha,
            result.channel,
            result.entity,
            result.rows_in_file,
            result.records_added,
            result.rows_already_loaded,
            result.rows_quarantined,
            result.status,
            result.error,
            loaded_at,
            result.derived_records,
            "; ".join(result.notes) or None,
        ],
    )


def ingest_inbox(
    warehouse: Path,
    inbox: Path,
    channels_dir: Path,
    *,
    run_id: str,
    business_timezone: str,
    reports_dir: Path,
    archive: bool = True,
) -> dict:
    """Load every file waiting in the inbox; returns per-file results and the new load ids."""
    channels = load_channels(channels_dir)
    files = inbox_files(inbox)  # a missing inbox is an error, not "0 files"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    results: list[FileResult] = []
    with warehouse_db.connect(warehouse, streaming=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = false")  # row order is in row_number
        ensure_raw_schema(con)
        for path in files:
            name = relative_name(path, inbox)
            channel = channel_for(path.name, channels)
            if channel is None:
                result = unmatched_file(con, path, name, channels, run_id)
                _write_error_report(reports_dir, result, [], result.error)
            else:
                result = load_file(
                    con,
                    path,
                    channel,
                    run_id=run_id,
                    business_tz=business_timezone,
                    reports_dir=reports_dir,
                    file_name=name,
                )
            results.append(result)
            release_freed_memory()
            log.info(
                "%s: %s via %s, %d rows, %d added, %d already loaded, %d quarantined%s",
                result.file_name,
                result.status,
                result.channel,
                result.rows_in_file,
                result.records_added,
                result.rows_already_loaded,
                result.rows_quarantined,
                f" ({result.error})" if result.error else "",
            )
            progress.file_done(asdict(result))
            if archive:
                _file_away(path, result, inbox)
    loaded = [r for r in results if r.status == "loaded"]
    return {
        "files": [asdict(r) for r in results],
        "load_ids": [r.load_id for r in loaded if r.records_added],
        "files_ingested": len(loaded),
        "files_rejected": len(results) - len(loaded),
        "records_added": sum(r.records_added for r in results),
        "rows_already_loaded": sum(r.rows_already_loaded for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
    }


def unmatched_file(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, channels: list[Channel], run_id: str
) -> FileResult:
    """A file no channel's pattern matches: rejected, naming every pattern it could match."""
    result = FileResult(
        name, None, None, uuid.uuid4().hex, "rejected", error=unmatched_reason(path, channels)
    )
    _insert_manifest(con, result, run_id, sha256_of(path), datetime.now(UTC).replace(tzinfo=None))
    return result


def unmatched_reason(path: Path, channels: list[Channel]) -> str:
    patterns = "; ".join(f"{c.name}: {', '.join(c.files)}" for c in channels)
    return (
        f"no channel's file pattern matches the name {path.name!r} (patterns: {patterns}); "
        "rename the file or add its pattern to a channel's `files`"
    )


def _file_away(path: Path, result: FileResult, inbox: Path) -> None:
    """Into `archive/` or `failed/`, at the same place below them as below the inbox."""
    below = Path(result.file_name).parent
    if result.status == "loaded":
        move_file(path, inbox / "archive" / below)
        return
    moved = move_file(path, inbox / "failed" / below)
    moved.with_name(moved.name + ".reason.txt").write_text(
        f"{result.file_name}: {result.error}\n"
        f"To retry once fixed: leadflow retry {result.file_name}\n",
        encoding="utf-8",
    )
