"""Landing: the raw tables' DDL and the SQL that lands a text batch in them (C1, C2).

A batch is normalised in one SELECT (trim, value maps, then `ingest.normalize`), hashed on its
normalised values, and only versions not loaded before are inserted; the manifest and the
quarantine record what became of every row of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from ingest.mapping import SheetMapping, record_batch, related_channel
from ingest.normalize import field_exprs, parse_exprs, settle_leftovers
from ingest.readers import QuarantinedRow
from leadflow.core.canonical import ENTITIES, Entity
from leadflow.core.channels import Channel
from leadflow.core.derived import derive
from leadflow.core.sql import literal

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


def insert_quarantine(
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


def insert_manifest(
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
