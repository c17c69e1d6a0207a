"""Load reports: what became of every row of every file a run took in (issue 14).

Per file, `reports/loads/<file>.html` and `<file>.csv` (the file's path below the inbox, so a
file that loads later replaces the report of its rejected attempt), one row per file and run in
`ops.load_reports` (what the ops email can summarise), and `reports/loads/index.html` with the
latest report of every file.

Written twice per run: after validation (rows added, flagged, quarantined, already loaded,
rejected) and again after the dbt build, when the lead key map tells which added row started a
lead and which joined one that existed before ("5 records loaded, leads grew by 4": the fifth
row was the same person as an earlier lead, and the report names that lead).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from leadflow.core import html_page as h
from leadflow.core import warehouse as warehouse_db
from leadflow.core.canonical import ENTITIES
from leadflow.core.settings import Settings

log = logging.getLogger(__name__)

REPORT_TABLE_COLUMNS = warehouse_db.LOAD_REPORT_COLUMNS
ROW_KINDS = {
    "new_lead": "started a new lead",
    "same_person": "same person as another row new in this run (one new lead)",
    "merged": "merged into a lead that existed before this run",
    "new_version": "new version of a record loaded before",
}
RETRY_HINT = (
    "Fix the file (or its channel YAML), check it with `leadflow check inbox/failed/{name}`, "
    "then `leadflow retry {name}` puts it back in the inbox for the next run."
)


@dataclass
class FileReport:
    manifest: dict[str, Any]
    flags: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] | None = None  # None: the build has not run yet
    unresolved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.manifest["file_name"]

    def count(self, kind: str) -> int | None:
        if self.leads is None:
            return None
        return sum(1 for r in self.leads if r["kind"] == kind)

    @property
    def rows_flagged(self) -> int:
        return len({(f["sheet"], f["row"]) for f in self.flags})


@dataclass(frozen=True)
class LoadReports:
    count: int  # files reported
    index: str | None = None  # reports/loads/index.html; None when the run took no file


def write_load_reports(settings: Settings, run_id: str, *, built: bool) -> LoadReports:
    """The reports of every file of `run_id` (after validation; `built`: after the dbt build)."""
    with warehouse_db.connect(settings.warehouse) as con:
        manifests = _manifests(con, run_id)
        if not manifests:
            return LoadReports(0)
        has_leads = built and warehouse_db.table_exists(con, "intermediate", "int_lead_key_map")
        reports = [_gather(con, m, has_leads) for m in manifests]
        folder = settings.reports_dir / "loads"
        paths = [_write_files(r, folder) for r in reports]
        _store(con, run_id, reports, paths, stage="built" if has_leads else "validated")
        index = _write_index(con, folder)
    log.info("load reports of %d files in %s", len(reports), folder)
    return LoadReports(len(reports), str(index))


# --------------------------------------------------------------------------- reading


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _manifests(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    if not warehouse_db.table_exists(con, "raw", "load_manifest"):
        return []
    return _rows(
        con,
        "SELECT * FROM raw.load_manifest WHERE run_id = $run ORDER BY file_name, loaded_at",
        {"run": run_id},
    )


def _gather(con: duckdb.DuckDBPyConnection, manifest: dict, has_leads: bool) -> FileReport:
    report = FileReport(manifest)
    if manifest["status"] != "loaded":
        return report
    params = {"load": manifest["load_id"]}
    if warehouse_db.table_exists(con, "dq", "flags"):
        report.flags = _rows(con, _flags_sql(), params)
    report.quarantined = _rows(
        con,
        "SELECT coalesce(sheet, '') AS sheet, row_number AS row, reason, raw_text "
        "FROM raw.quarantine WHERE load_id = $load ORDER BY sheet, row_number",
        params,
    )
    if has_leads:
        report.leads = _lead_rows(con, manifest)
        if warehouse_db.table_exists(con, "intermediate", "int_activity_resolution"):
            report.unresolved = _rows(con, _unresolved_sql(), params)
    return report


def _load_rows_sql() -> str:
    """Sheet and row of every record of one load, whatever its entity."""
    return " UNION ALL ".join(
        f"SELECT '{e.name}' AS entity, coalesce(sheet, '') AS sheet, row_number, "
        f"source_record_id, record_hash FROM raw.{e.table} WHERE load_id = $load"
        for e in ENTITIES.values()
    )


def _flags_sql() -> str:
    return f"""
        WITH load_rows AS (SELECT DISTINCT * FROM ({_load_rows_sql()}))
        SELECT coalesce(r.sheet, '') AS sheet, f.row_number AS row, f.column_name AS field,
               f.check_name AS "check", f.severity, f.observed_value AS value,
               f.source_record_id AS record_id
        FROM dq.flags f
        LEFT JOIN load_rows r ON r.source_record_id = f.source_record_id
            AND r.record_hash = f.record_hash AND r.row_number = f.row_number
            AND r.entity = f.entity
        WHERE f.load_id = $load
        ORDER BY sheet, row, "check", field
    """


def _lead_rows(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[dict[str, Any]]:
    """Each added intake row and its lead: a new lead, the same person as another row new in
    this run, merged into a lead of an earlier run, or a new version of a known record."""
    has_dim = warehouse_db.table_exists(con, "marts", "dim_leads")
    name = "d.person_name, d.company" if has_dim else "NULL AS person_name, NULL AS company"
    dim_join = "LEFT JOIN marts.dim_leads d ON d.lead_key = k.lead_key" if has_dim else ""
    rows = _rows(
        con,
        f"""
        WITH mine AS (
            SELECT DISTINCT coalesce(sheet, '') AS sheet, row_number, source_record_id
            FROM raw.intake_records WHERE load_id = $load
        ),
        -- records of earlier runs: a lead that holds one existed before this run
        earlier_loads AS (
            SELECT load_id FROM raw.load_manifest
            WHERE run_id IS DISTINCT FROM $run AND loaded_at < $loaded_at
        ),
        before AS (
            SELECT DISTINCT source_record_id FROM raw.intake_records
            WHERE load_id IN (SELECT load_id FROM earlier_loads)
        ),
        old_leads AS (
            SELECT DISTINCT k.lead_key FROM intermediate.int_lead_key_map k
            JOIN before USING (source_record_id)
        )
        SELECT m.sheet, m.row_number AS row, m.source_record_id AS record_id, k.lead_key,
               b.source_record_id IS NOT NULL AS seen_before,
               o.lead_key IS NOT NULL AS lead_existed, {name}
        FROM mine m
        LEFT JOIN intermediate.int_lead_key_map k USING (source_record_id)
        LEFT JOIN before b USING (source_record_id)
        LEFT JOIN old_leads o ON o.lead_key = k.lead_key
        {dim_join}
        ORDER BY m.sheet, m.row_number
        """,
        {
            "load": manifest["load_id"],
            "loaded_at": manifest["loaded_at"],
            "run": manifest["run_id"],
        },
    )
    for row in rows:
        if row["seen_before"]:
            row["kind"] = "new_version"
        elif row["lead_existed"]:
            row["kind"] = "merged"
        elif row["lead_key"] is not None and row["lead_key"] != row["record_id"]:
            row["kind"] = "same_person"
        else:
            row["kind"] = "new_lead"
    return rows


def _unresolved_sql() -> str:
    """Activity records of the load that name no lead, or two (C3)."""
    activities = [e for e in ENTITIES.values() if e.name not in ("intake", "owner")]
    union = " UNION ALL ".join(
        f"SELECT '{e.name}' AS entity, coalesce(sheet, '') AS sheet, row_number, "
        f"source_record_id FROM raw.{e.table} WHERE load_id = $load"
        for e in activities
    )
    return f"""
        SELECT r.sheet, r.row_number AS row, r.entity, r.source_record_id AS record_id,
               a.resolution_status AS status, a.candidate_lead_keys AS candidates
        FROM ({union}) r
        JOIN intermediate.int_activity_resolution a
            ON a.source_record_id = r.source_record_id AND a.entity = r.entity
        WHERE a.resolution_status <> 'resolved'
        ORDER BY r.sheet, r.row_number
    """


# --------------------------------------------------------------------------- writing


def report_paths(folder: Path, file_name: str) -> tuple[Path, Path]:
    return folder / f"{file_name}.html", folder / f"{file_name}.csv"


def _write_files(report: FileReport, folder: Path) -> tuple[Path, Path]:
    html_path, csv_path = report_paths(folder, report.name)
    h.write_page(html_path, f"Load report: {report.name}", _html_body(report, html_path.parent))
    _write_csv(report, csv_path)
    return html_path, csv_path


def summary_pairs(report: FileReport) -> list[tuple[str, Any]]:
    m = report.manifest
    later = "known after the dbt build"
    pairs: list[tuple[str, Any]] = [
        ("status", m["status"]),
        ("channel", m["channel"] or "none"),
        ("rows in file", m["rows_in_file"]),
        ("rows added", m["records_added"]),
    ]
    if m["status"] == "loaded":
        for kind, label in ROW_KINDS.items():
            value = report.count(kind)
            pairs.append((f"  {label}", later if value is None else value))
        pairs += [
            ("rows flagged", f"{report.rows_flagged} ({len(report.flags)} flags)"),
            ("rows quarantined", m["rows_quarantined"]),
            ("rows already loaded", m["rows_already_loaded"]),
        ]
        if m.get("derived_records"):
            pairs.append(("records made beside the rows", m["derived_records"]))
    if m["status"] == "rejected":
        pairs.append(("rejected because", m["error"]))
    if m.get("notes"):
        pairs.append(("notes", m["notes"]))
    pairs += [
        ("loaded at (UTC)", f"{m['loaded_at']:%Y-%m-%d %H:%M:%S}"),
        ("run", m["run_id"]),
        ("SHA-256", m["file_sha256"]),
    ]
    return pairs


def _html_body(report: FileReport, base: Path) -> list[str]:
    m = report.manifest
    body = [h.facts(summary_pairs(report))]
    if m["status"] == "rejected":
        body += [h.heading("How to retry"), h.para(RETRY_HINT.format(name=report.name))]
        return body
    if report.leads is not None:
        merged = [r for r in report.leads if r["kind"] != "new_lead"]
        body += [
            h.heading("Rows that joined an existing lead or record"),
            h.table(
                ["sheet", "row", "what happened", "lead", "lead name", "company", "record"],
                [
                    (
                        r["sheet"],
                        r["row"],
                        ROW_KINDS[r["kind"]],
                        r["lead_key"],
                        r["person_name"],
                        r["company"],
                        r["record_id"],
                    )
                    for r in merged
                ],  # fmt: skip
                numeric=(1,),
            ),
        ]
    body += [
        h.heading("Flagged rows (loaded, with a data-quality problem)"),
        h.table(
            ["sheet", "row", "field", "check", "severity", "original value", "record"],
            [
                (
                    f["sheet"],
                    f["row"],
                    f["field"],
                    f["check"],
                    f["severity"],
                    f["value"],
                    f["record_id"],
                )
                for f in report.flags
            ],  # fmt: skip
            numeric=(1,),
        ),
        h.heading("Quarantined rows (could not be split into fields)"),
        h.table(
            ["sheet", "row", "reason", "text"],
            [(q["sheet"], q["row"], q["reason"], q["raw_text"]) for q in report.quarantined],
            numeric=(1,),
        ),
    ]
    if report.unresolved:
        body += [
            h.heading("Activity records without a lead"),
            h.table(
                ["sheet", "row", "entity", "status", "candidates", "record"],
                [
                    (
                        u["sheet"],
                        u["row"],
                        u["entity"],
                        u["status"],
                        u["candidates"],
                        u["record_id"],
                    )
                    for u in report.unresolved
                ],  # fmt: skip
                numeric=(1,),
            ),
        ]
    return body


CSV_HEADER = ["section", "sheet", "row", "field", "check", "severity", "value", "lead", "detail"]


def _write_csv(report: FileReport, path: Path) -> None:
    """One line per reported row (flags, quarantine, leads), the summary first; cells Excel
    would run as formulas are neutralised."""
    from ingest.files import safe_cell

    lines: list[list[Any]] = [
        ["summary", "", "", key.strip(), "", "", value, "", ""]
        for key, value in summary_pairs(report)
    ]
    for r in report.leads or []:
        lines.append(
            [r["kind"], r["sheet"], r["row"], "", "", "", r["person_name"], r["lead_key"],
             r["record_id"]]
        )  # fmt: skip
    for f in report.flags:
        lines.append(
            ["flag", f["sheet"], f["row"], f["field"], f["check"], f["severity"], f["value"], "",
             f["record_id"]]
        )  # fmt: skip
    for q in report.quarantined:
        lines.append(
            ["quarantined", q["sheet"], q["row"], "", "", "", q["raw_text"], "", q["reason"]]
        )
    for u in report.unresolved:
        lines.append(
            [u["status"], u["sheet"], u["row"], u["entity"], "", "", u["candidates"], "",
             u["record_id"]]
        )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows([safe_cell(v) for v in line] for line in lines)


def _store(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    reports: list[FileReport],
    paths: list[tuple[Path, Path]],
    *,
    stage: str,
) -> None:
    warehouse_db.ensure_ops_table(con, "load_reports")
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for report, (html_path, csv_path) in zip(reports, paths, strict=True):
        m = report.manifest
        rows.append(
            (
                run_id, m["load_id"], m["file_name"], m["channel"], m["status"],
                m["rows_in_file"], m["records_added"], report.count("new_lead"),
                report.count("merged"), report.count("same_person"), report.count("new_version"),
                report.rows_flagged, len(report.flags), m["rows_quarantined"],
                m["rows_already_loaded"], m["error"], m.get("notes"), stage, str(html_path),
                str(csv_path), now,
            )
        )  # fmt: skip
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM ops.load_reports WHERE run_id = ?", [run_id])
    marks = ", ".join("?" for _ in REPORT_TABLE_COLUMNS)
    con.executemany(f"INSERT INTO ops.load_reports VALUES ({marks})", rows)
    con.execute("COMMIT")


def _write_index(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Every file's latest report, newest first."""
    latest = _rows(
        con,
        "SELECT * FROM ops.load_reports "
        "QUALIFY row_number() OVER (PARTITION BY file_name ORDER BY written_at DESC) = 1 "
        "ORDER BY written_at DESC, file_name",
        {},
    )
    index = folder / "index.html"
    rows = [
        (
            h.link(Path(r["html_path"]), r["file_name"], base=folder), r["status"], r["channel"],
            r["rows_in_file"], r["rows_added"], r["rows_merged"], r["rows_flagged"],
            r["rows_quarantined"], r["rows_already_loaded"], r["reason"] or r["notes"] or "",
            f"{r['written_at']:%Y-%m-%d %H:%M:%S}",
        )
        for r in latest
    ]  # fmt: skip
    headers = [
        "file", "status", "channel", "rows", "added", "merged into a lead", "flagged",
        "quarantined", "already loaded", "reason / notes", "written (UTC)",
    ]  # fmt: skip
    table = h.table(headers, rows, numeric=(3, 4, 5, 6, 7, 8))
    return h.write_page(index, "Load reports: the latest of every file", [table])
