"""The ingest loop: every file of the inbox into the raw tables, lose nothing, load nothing twice
(C1). The jobs it runs live beside it: `readers` (bytes to sheets), `mapping` (headers to fields),
`normalize` (values, C2), `landing` (raw DDL and SQL), `files` (hashes, moves, error CSVs).

Per file, in one transaction: rows become raw records (new content only), unsplittable rows go to
`raw.quarantine`, and `raw.load_manifest` records rows in file = added + already loaded +
quarantined. Loaded files move to `archive/`, rejected ones to `failed/` with a reason file.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.files import file_away, sha256_of, write_error_report
from ingest.inbox import inbox_files, relative_name
from ingest.landing import (
    FileResult,
    ensure_raw_schema,
    insert_manifest,
    insert_quarantine,
    land_batch,
    land_related,
    rows_added,
)
from ingest.mapping import SheetMapping, header_scorer, map_sheet, missing_required, text_batch
from ingest.readers import FileRejected, ParsedFile, Sheet, read_file
from leadflow.core import progress
from leadflow.core import warehouse as warehouse_db
from leadflow.core.channels import Channel, channel_for, load_channels
from leadflow.core.memory import release_freed_memory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    """One ingest of the inbox: each file's outcome and the totals over them."""

    files: list[FileResult]
    load_ids: list[str]  # the loads that added records: what validation reads
    files_ingested: int
    files_rejected: int
    records_added: int
    rows_already_loaded: int
    rows_quarantined: int
    # set by the pipeline: files a killed run had loaded, archived before this ingest
    archived_after_interrupted_run: list[str] = field(default_factory=list)
    seconds: float = 0.0  # the step's wall time (leadflow.pipeline.timed)

    @classmethod
    def of(cls, results: list[FileResult]) -> IngestResult:
        loaded = [r for r in results if r.status == "loaded"]
        return cls(
            files=results,
            load_ids=[r.load_id for r in loaded if r.records_added],
            files_ingested=len(loaded),
            files_rejected=len(results) - len(loaded),
            records_added=sum(r.records_added for r in results),
            rows_already_loaded=sum(r.rows_already_loaded for r in results),
            rows_quarantined=sum(r.rows_quarantined for r in results),
        )


# ---------------------------------------------------------------- files


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
            insert_quarantine(con, quarantined, result, file_sha, loaded_at)
        insert_manifest(con, result, run_id, file_sha, loaded_at)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    if reports_dir is not None:
        write_error_report(reports_dir, result, quarantined, result.error)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def ingest_inbox(
    warehouse: Path,
    inbox: Path,
    channels_dir: Path,
    *,
    run_id: str,
    business_timezone: str,
    reports_dir: Path,
    archive: bool = True,
) -> IngestResult:
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
                write_error_report(reports_dir, result, [], result.error)
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
            progress.file_done(result)
            if archive:
                file_away(path, result, inbox)
    return IngestResult.of(results)


def unmatched_file(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, channels: list[Channel], run_id: str
) -> FileResult:
    """A file no channel's pattern matches: rejected, naming every pattern it could match."""
    result = FileResult(
        name, None, None, uuid.uuid4().hex, "rejected", error=unmatched_reason(path, channels)
    )
    insert_manifest(con, result, run_id, sha256_of(path), datetime.now(UTC).replace(tzinfo=None))
    return result


def unmatched_reason(path: Path, channels: list[Channel]) -> str:
    patterns = "; ".join(f"{c.name}: {', '.join(c.files)}" for c in channels)
    return (
        f"no channel's file pattern matches the name {path.name!r} (patterns: {patterns}); "
        "rename the file or add its pattern to a channel's `files`"
    )
