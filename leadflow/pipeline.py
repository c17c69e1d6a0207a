"""The steps of a run, one implementation each, shared by the Airflow DAG and `leadflow run` (C9).

Each step is plain Python that takes settings and JSON-able values and returns a JSON-able dict,
so Airflow passes only paths and small summaries between tasks. Heavy libraries (GX, dbt, DuckDB,
pandas) are imported inside the steps, never when the DAG file is parsed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from leadflow import progress
from leadflow import warehouse as warehouse_db
from leadflow.config import Settings, is_forward_run

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def waiting_files(settings: Settings) -> list[str]:
    """Names of the files waiting in the inbox and its sub-folders (cheap: no heavy import);
    none when the inbox is missing (the run itself then stops with the reason)."""
    from ingest.inbox import inbox_files, relative_name

    if not settings.inbox.is_dir():
        return []
    return [relative_name(p, settings.inbox) for p in inbox_files(settings.inbox)]


def ingest(settings: Settings, run_id: str) -> dict[str, Any]:
    """Load every file waiting in the inbox into the raw tables (C1, C2)."""
    from ingest.loader import ingest_inbox

    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    return ingest_inbox(
        settings.warehouse,
        settings.inbox,
        settings.channels_dir,
        run_id=run_id,
        business_timezone=settings.business_timezone,
        reports_dir=settings.reports_dir,
    )


def validate(settings: Settings, load_ids: list[str], as_of: date, run_id: str) -> dict[str, Any]:
    """Run the expectation suites on the new batches only and write flags (C6); then the
    run's data-quality page and its files' load reports (before the build: no leads yet)."""
    from expectations.validate import validate_loads
    from leadflow.load_reports import write_load_reports
    from leadflow.quality_pages import write_quality_page

    result = validate_loads(
        settings.warehouse,
        load_ids,
        channels_dir=settings.channels_dir,
        as_of=as_of,
        business_timezone=settings.business_timezone,
        reports_dir=settings.reports_dir,
        run_id=run_id,
    )
    result.update(write_quality_page(settings, run_id, load_ids, as_of))
    result.update(write_load_reports(settings, run_id, built=False))
    return result


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def transform(
    settings: Settings, as_of: date, run_id: str, *, file_triggered: bool = False
) -> dict[str, Any]:
    """One `dbt build` of models, seeds and data tests: start-up costs ~5 s per invocation.
    Unit tests are the models' known answers, run by `make test` under several timezones; in
    production they would only cost time, and one written for another zone would stop the run.

    The routing rules (config/routing.yaml, or LEADFLOW_ROUTING_RULES) are validated and written
    to config.routing_* first, in every run, so a broken rules file fails early; only forward
    runs route (var routing_enabled, C9): backfills and file-triggered runs do not."""
    from leadflow.routing_rules import default_rules_path, load_routing_rules

    routing_enabled = run_kind(as_of, settings, file_triggered=file_triggered) == "forward"
    routing = load_routing_rules(settings.warehouse, default_rules_path())
    target_dir = settings.data_dir / "dbt" / "target"
    variables = {
        "as_of": as_of.isoformat(),
        "business_timezone": settings.business_timezone,
        "routing_enabled": routing_enabled,
    }
    command = [
        dbt_executable(), "build", "--exclude-resource-type", "unit_test",
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target_dir),
        "--log-path", str(settings.data_dir / "dbt" / "logs"),
        "--vars", json.dumps(variables),
    ]  # fmt: skip
    # no usage statistics: they need the internet and write dbt_project/.user.yml
    env = {
        **os.environ,
        "LEADFLOW_WAREHOUSE": str(settings.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    started = time.monotonic()
    returncode, output = progress.run_reporting_dbt(
        command, env, step="transform", log=logging.getLogger("dbt")
    )
    results = _dbt_results(target_dir / "run_results.json")
    _store_dbt_results(settings, run_id, results)
    failures = [r for r in results if r["status"] in ("error", "fail", "runtime error")]
    warnings = [r for r in results if r["status"] == "warn"]
    log.info("dbt build: %s", summarise_dbt_results(results))
    for r in failures + warnings:
        log.warning("dbt %s %s: %s", r["status"], r["unique_id"], r["message"])
    if returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise RuntimeError(
            "dbt build failed; nothing was published or mailed, the last snapshot stays.\n"
            + failure_report(failures)
            + f"\n--- dbt output (last lines) ---\n{tail}"
        )
    from leadflow.load_reports import write_load_reports

    return {
        **write_load_reports(settings, run_id, built=True),  # which lead each row joined
        "nodes": len(results),
        "failed": len(failures),
        "warned": len(warnings),
        "seconds": round(time.monotonic() - started, 1),
        "routing": {
            "enabled": routing_enabled,
            "assignments": routing_assignments(settings.warehouse, as_of),
            **routing,
        },
        "marts": mart_row_counts(settings.warehouse),
    }


def routing_assignments(warehouse: Path, as_of: date) -> dict[str, int]:
    """Routing assignments stamped with this business date, per owner (ops: unassignable)."""
    with warehouse_db.connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT owner_name, count(*) FROM intermediate.int_lead_routing "
            "WHERE business_date = ? GROUP BY owner_name ORDER BY owner_name",
            [as_of],
        ).fetchall()
    return dict(rows)


def failure_report(failures: list[dict[str, Any]]) -> str:
    """One line per failing node: what failed and dbt's own message."""
    if not failures:
        return "failing node: none reported (dbt stopped before running a node, see its output)"
    return "\n".join(
        f"failing node: {r['unique_id']} ({r['status']}): {(r['message'] or '').strip()[:500]}"
        for r in failures
    )


def summarise_dbt_results(results: list[dict[str, Any]], slowest: int = 5) -> str:
    """One log line: nodes by type and status, and the slowest models (where time goes)."""
    from collections import Counter

    counts = Counter((r["unique_id"].split(".")[0], r["status"]) for r in results)
    by_kind = ", ".join(f"{n} {kind} {status}" for (kind, status), n in sorted(counts.items()))
    models = sorted(
        (r for r in results if r["unique_id"].startswith("model.")),
        key=lambda r: r["seconds"],
        reverse=True,
    )[:slowest]
    slow = ", ".join(f"{r['unique_id'].split('.')[-1]} {r['seconds']:.2f}s" for r in models)
    return f"{by_kind}; slowest models: {slow or 'none'}"


def _dbt_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    payload = json.loads(path.read_text(encoding="utf-8"))
    return [
        {
            "unique_id": r["unique_id"],
            "status": str(r["status"]),
            "seconds": round(float(r.get("execution_time") or 0), 3),
            "rows_affected": (r.get("adapter_response") or {}).get("rows_affected"),
            "failures": r.get("failures"),
            "message": r.get("message"),
        }
        for r in payload.get("results", [])
    ]


def _store_dbt_results(settings: Settings, run_id: str, results: list[dict[str, Any]]) -> None:
    """Per-node results of every build, so a failure names its model or test afterwards."""
    with warehouse_db.connect(settings.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(
            "CREATE TABLE IF NOT EXISTS ops.dbt_results (run_id VARCHAR, unique_id VARCHAR, "
            "status VARCHAR, seconds DOUBLE, rows_affected BIGINT, failures BIGINT, "
            "message VARCHAR)"
        )
        con.executemany(
            "INSERT INTO ops.dbt_results VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    r["unique_id"],
                    r["status"],
                    r["seconds"],
                    r["rows_affected"],
                    r["failures"],
                    r["message"],
                )
                for r in results
            ],  # fmt: skip
        )


def mart_row_counts(warehouse: Path) -> dict[str, int]:

    with warehouse_db.connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "ORDER BY table_name"
        ).fetchall()
        return {
            t: con.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for (t,) in tables
        }


def run_kind(as_of: date, settings: Settings, *, file_triggered: bool = False) -> str:
    """forward (as_of = today, scheduled or manual), backfill, or file (a new inbox file)."""
    if file_triggered:
        return "file"
    return "forward" if is_forward_run(as_of, settings.tz) else "backfill"


def publish(
    settings: Settings, as_of: date, run_id: str, *, file_triggered: bool = False
) -> dict[str, Any]:
    """Copy the marts to the read-only BI snapshot: forward runs only (C9)."""
    from leadflow.publish import publish_marts

    kind = run_kind(as_of, settings, file_triggered=file_triggered)
    if kind != "forward":
        return {"published": False, "reason": f"{kind} run for {as_of}: nothing published (C9)"}
    return publish_marts(settings.warehouse, settings.publish_dir, run_id=run_id)


def notify(
    settings: Settings,
    as_of: date,
    *,
    send: bool,
    resend: bool = False,
    file_triggered: bool = False,
) -> dict[str, Any]:
    """Email each owner their queue, or write .eml files when no SMTP connection exists.
    Forward runs mail; backfills and file-triggered runs only when `send` asks (C9)."""
    kind = run_kind(as_of, settings, file_triggered=file_triggered)
    if kind != "forward" and not send:
        return {"sent": False, "reason": f"{kind} run for {as_of} without send: no mail (C9)"}
    from leadflow.ops_address import require_ops_address
    from notify.service import send_owner_emails
    from notify.smtp_connection import load_smtp_settings

    require_ops_address(settings.warehouse, settings.channels_dir)  # before any mail goes out

    result = send_owner_emails(
        settings.warehouse,
        settings.outbox,
        as_of,
        smtp=load_smtp_settings(),
        resend=resend,
    )
    if result["failed"]:  # fail the step: a retry sends only the unsent ones (the ledger)
        raise RuntimeError(f"{result['failed']} owner emails not delivered for {as_of}: {result}")
    return result


def record_run(settings: Settings, run_id: str, as_of: date, summary: dict[str, Any]) -> None:
    """One row per run with every step's summary and duration (observability)."""
    with warehouse_db.connect(settings.warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(
            "CREATE TABLE IF NOT EXISTS ops.run_summary (run_id VARCHAR, as_of DATE, "
            "finished_at TIMESTAMP, summary JSON)"
        )
        con.execute(
            "INSERT INTO ops.run_summary VALUES (?, ?, ?, ?)",
            [
                run_id,
                as_of,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(summary, default=str),
            ],
        )


def timed(step: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    progress.step_started(step.__name__)
    started = time.monotonic()
    result = step(*args, **kwargs)
    result["seconds"] = round(time.monotonic() - started, 2)
    progress.step_finished(step.__name__, result)
    return result


def run_all(
    settings: Settings,
    as_of: date,
    *,
    send: bool = False,
    resend: bool = False,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Every step in order, in-process: what `leadflow run` does, and the DAG does task by task."""
    run_id = run_id or new_run_id()
    summary: dict[str, Any] = {"run_id": run_id, "as_of": as_of.isoformat()}
    summary["ingest"] = timed(ingest, settings, run_id)
    summary["validate"] = timed(validate, settings, summary["ingest"]["load_ids"], as_of, run_id)
    summary["transform"] = timed(transform, settings, as_of, run_id)
    summary["publish"] = timed(publish, settings, as_of, run_id)
    summary["notify"] = timed(notify, settings, as_of, send=send, resend=resend)
    record_run(settings, run_id, as_of, summary)
    return summary
