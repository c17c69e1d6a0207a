"""Data-quality pages that work offline (issue 14): one page per run that validated something,
`reports/quality/<run>.html`, per file and check with the failing rows, from `dq.flags`; and
`reports/quality/index.html` listing every such run (a later run never removes an earlier page).

GX's Data Docs stay beside them (`reports/data_docs/`) but load their CSS and scripts from the
internet; these pages have no external resource and escape every value.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from expectations.suites import batch_suite, channels_by_name
from leadflow.core import html_page as h
from leadflow.core import warehouse as warehouse_db
from leadflow.core.canonical import ENTITIES
from leadflow.core.channels import Channel
from leadflow.core.settings import Settings

log = logging.getLogger(__name__)

ROWS_SHOWN = 200  # failing rows listed per check and file; all are counted


def page_name(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


@dataclass(frozen=True)
class QualityPage:
    page: str  # this run's page
    index: str  # the page listing every run's


def write_quality_page(
    settings: Settings, run_id: str, load_ids: list[str], as_of: date
) -> QualityPage | None:
    """The page of this run's validation; None when it validated no new rows."""
    load_ids = sorted({i for i in load_ids if i})
    if not load_ids:
        return None
    folder = settings.reports_dir / "quality"
    channels = channels_by_name(settings.channels_dir)
    with warehouse_db.connect(settings.warehouse, read_only=True) as con:
        batches = _batches(con, load_ids)
        sections = [
            _file_section(con, b, _checks(b, channels, as_of, settings.tz)) for b in batches
        ]
        stale = _stale(con, as_of)
    flags = sum(b["flags"] for b in batches)
    summary = {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "written_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "files": len({b["file_name"] for b in batches}),
        "rows_validated": sum(b["rows"] for b in batches),
        "flags": flags,
    }
    path = folder / f"{page_name(run_id)}.html"
    intro = h.facts([(k.replace("_", " "), v) for k, v in summary.items()])
    h.write_page(path, f"Data quality: run {run_id}", [intro, *sections, stale])
    (folder / f"{page_name(run_id)}.json").write_text(json.dumps(summary), encoding="utf-8")
    index = _write_index(folder, settings.reports_dir / "data_docs" / "index.html")
    log.info("data-quality page %s", path)
    return QualityPage(page=str(path), index=str(index))


def _batches(con: duckdb.DuckDBPyConnection, load_ids: list[str]) -> list[dict[str, Any]]:
    """One batch per file and channel (a sheet's derived records are a channel of their own)."""
    union = " UNION ALL ".join(
        f"SELECT load_id, file_name, channel, '{e.name}' AS entity FROM raw.{e.table} "
        "WHERE load_id IN (SELECT unnest($ids))"
        for e in ENTITIES.values()
    )
    cursor = con.execute(
        f"""
        WITH r AS ({union})
        SELECT r.load_id, r.file_name, r.channel, r.entity, count(*) AS rows,
               (SELECT count(*) FROM dq.flags f WHERE f.load_id = r.load_id
                AND f.channel = r.channel) AS flags
        FROM r GROUP BY ALL ORDER BY r.file_name, r.channel
        """,
        {"ids": load_ids},
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _checks(
    batch: dict[str, Any], channels: dict[str, Channel], as_of: date, tz: ZoneInfo
) -> list[tuple[str, str | None, str]]:
    """The checks the batch ran: (check, column, severity), each once."""
    suite = batch_suite(
        channels, batch["channel"], batch["entity"], as_of=as_of, tz=tz, owner_names=frozenset()
    )
    seen: dict[tuple[str, str | None], str] = {}
    for check in suite.checks:
        seen.setdefault((check.check_name, check.column_name), check.severity)
    return [(name, column, severity) for (name, column), severity in seen.items()]


def _file_section(
    con: duckdb.DuckDBPyConnection, batch: dict[str, Any], checks: list[tuple]
) -> str:
    params = {"load": batch["load_id"], "channel": batch["channel"]}
    failing = con.execute(
        "SELECT check_name, column_name, count(*) FROM dq.flags "
        "WHERE load_id = $load AND channel = $channel GROUP BY ALL",
        params,
    ).fetchall()
    counts = {(name, column): n for name, column, n in failing}
    overview = h.table(
        ["check", "field", "severity", "failing rows", "result"],
        [
            (
                name,
                column or "(row)",
                severity,
                counts.get((name, column), 0),
                "passed" if not counts.get((name, column)) else "failed",
            )
            for name, column, severity in checks
        ],  # fmt: skip
        numeric=(3,),
    )
    parts = [
        h.heading(f"{batch['file_name']} — {batch['channel']} ({batch['entity']})"),
        h.para(f"{batch['rows']} rows validated, {batch['flags']} flags"),
        overview,
    ]
    for (name, column), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        rows = con.execute(
            "SELECT row_number, observed_value, severity, source_record_id FROM dq.flags "
            "WHERE load_id = $load AND channel = $channel AND check_name = $check "
            "AND column_name IS NOT DISTINCT FROM $column ORDER BY row_number LIMIT $limit",
            {**params, "check": name, "column": column, "limit": ROWS_SHOWN},
        ).fetchall()
        parts += [h.heading(f"{name} on {column or 'the row'}: {n} rows", 3)]
        parts.append(h.table(["row", "observed value", "severity", "record"], rows, numeric=(0,)))
        if n > ROWS_SHOWN:
            parts.append(
                h.para(
                    f"… and {n - ROWS_SHOWN} more: SELECT * FROM dq.flags WHERE load_id = "
                    f"'{batch['load_id']}' AND check_name = '{name}'",
                    "muted",
                )
            )
    return "".join(parts)


def _stale(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    rows = con.execute(
        "SELECT channel, observed_value FROM dq.flags WHERE check_name = 'channel_stale' "
        "AND as_of = ? ORDER BY channel",
        [as_of],
    ).fetchall()
    return h.heading("Channels without a recent file") + h.table(["channel", "last file"], rows)


def _write_index(folder: Path, data_docs: Path) -> Path:
    runs = []
    for sidecar in folder.glob("*.json"):
        try:
            runs.append(json.loads(sidecar.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    runs.sort(key=lambda r: r.get("written_at", ""), reverse=True)
    index = folder / "index.html"
    rows = [
        (
            h.link(folder / f"{page_name(r['run_id'])}.html", r["run_id"], base=folder),
            r.get("as_of"), r.get("written_at"), r.get("files"), r.get("rows_validated"),
            r.get("flags"),
        )
        for r in runs
    ]  # fmt: skip
    body = [
        h.table(
            ["run", "as of", "written (UTC)", "files", "rows validated", "flags"],
            rows,
            numeric=(3, 4, 5),
        ),
        h.para("Great Expectations' own Data Docs (they need the internet for their styling):"),
        h.link(data_docs, "data_docs/index.html", base=folder),
    ]
    return h.write_page(index, "Data quality: every run that validated files", body)
