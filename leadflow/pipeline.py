"""The steps of a run, one implementation each, shared by the Airflow DAG and `leadflow run` (C9).

Each step is plain Python that takes settings and plain values and returns a typed result
(leadflow.results); the DAG turns results into JSON for XCom (leadflow.core.results.to_json),
so Airflow passes only paths and small summaries between tasks. Heavy libraries (GX, dbt, DuckDB,
pandas) are imported inside the steps, never when the DAG file is parsed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from leadflow.core import progress
from leadflow.core import warehouse as warehouse_db
from leadflow.core.clock import is_forward_run
from leadflow.core.errors import BuildFailed, MailNotDelivered
from leadflow.core.results import to_json
from leadflow.core.settings import Settings
from leadflow.dbt_build import BuildSpec, mart_row_counts, routing_assignments, run_build
from leadflow.results import (
    BuildResult,
    NotifyResult,
    ReportResult,
    Routing,
    RunSummary,
    ValidateResult,
)

if TYPE_CHECKING:  # duckdb comes with them: imported inside the steps only
    from ingest.loader import IngestResult
    from leadflow.publish import PublishResult

__all__ = ["BuildFailed"]  # raised by transform; tests and callers catch it here

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


def ingest(settings: Settings, run_id: str) -> IngestResult:
    """Load every file waiting in the inbox into the raw tables (C1, C2).

    Each file is loaded in one transaction, then moved to the archive: a run killed mid-file
    leaves the file in the inbox and nothing of it in the warehouse, and the next run loads it.
    A run killed between the commit and the move is finished first (`archive_committed`)."""
    from ingest.loader import ingest_inbox

    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    archived = archive_committed(settings)
    result = ingest_inbox(
        settings.warehouse,
        settings.inbox,
        settings.channels_dir,
        run_id=run_id,
        business_timezone=settings.business_timezone,
        reports_dir=settings.reports_dir,
    )
    return replace(result, archived_after_interrupted_run=archived)


def archive_committed(settings: Settings) -> list[str]:
    """Archive the inbox files a killed run had loaded but not yet moved; returns their names.

    Such a file has the content (SHA-256) of a committed load and no copy in the archive. A
    file dropped again on purpose has its first copy archived, so it is loaded again as usual
    (a re-drop is recorded as a load that adds nothing, C1). Runs hold the run lock, so no
    live run can be between its commit and its move."""
    from ingest.files import move_file, sha256_of
    from ingest.inbox import inbox_files

    waiting = inbox_files(settings.inbox)
    if not waiting or not settings.warehouse.exists():
        return []
    committed = _committed_loads(settings.warehouse)
    archived = []
    for path in waiting:
        sha = sha256_of(path)
        if sha not in committed or _archived_copy(settings.archive_dir, path, sha):
            continue
        target = move_file(path, settings.archive_dir)
        log.warning(
            "%s: loaded by an interrupted run (load %s) but never archived: archived now as %s",
            path.name,
            committed[sha],
            target.name,
        )
        archived.append(path.name)
    return archived


def _committed_loads(warehouse: Path) -> dict[str, str]:
    """SHA-256 -> load id of every committed load of a file."""
    with warehouse_db.connect(warehouse, read_only=True) as con:
        if not warehouse_db.table_exists(con, "raw", "load_manifest"):
            return {}
        rows = con.execute(
            "SELECT file_sha256, min(load_id) FROM raw.load_manifest WHERE status = 'loaded' "
            "GROUP BY file_sha256"
        ).fetchall()
    return dict(rows)


def _archived_copy(archive: Path, path: Path, sha: str) -> bool:
    from ingest.files import sha256_of

    if not archive.is_dir():
        return False
    size = path.stat().st_size
    return any(
        p.is_file() and p.stat().st_size == size and sha256_of(p) == sha
        for p in archive.iterdir()
        if p.name == path.name or p.name.startswith(path.stem + ".")
    )


def validate(settings: Settings, as_of: date, run_id: str) -> ValidateResult:
    """Run the expectation suites on every load not validated yet and write flags (C6).

    The loads come from the warehouse (`dq.validated_loads`), not from this run's ingest: a run
    killed after loading files leaves them to the next run, whether the CLI or the DAG runs it.
    Then the run's data-quality page and its files' load reports (before the build: no leads
    yet)."""
    from expectations.specificity import load_feedback_rule
    from expectations.validate import validate_loads
    from leadflow.load_reports import write_load_reports
    from leadflow.quality_pages import write_quality_page

    validation = validate_loads(
        settings.warehouse,
        None,
        channels_dir=settings.channels_dir,
        as_of=as_of,
        business_timezone=settings.business_timezone,
        reports_dir=settings.reports_dir,
        run_id=run_id,
        # R7's rule lives in the dbt project the build uses (one seed, one var)
        feedback_rule=load_feedback_rule(settings.dbt_project_dir),
    )
    page = write_quality_page(settings, run_id, validation.load_ids, as_of)
    reports = write_load_reports(settings, run_id, built=False)
    return ValidateResult(
        validation=validation,
        quality_page=page.page if page else None,
        quality_index=page.index if page else None,
        load_reports=reports.count,
        load_report_index=reports.index,
    )


def transform(
    settings: Settings,
    as_of: date,
    run_id: str,
    *,
    file_triggered: bool = False,
    full_refresh: bool = False,
) -> BuildResult:
    """One `dbt build` of models, seeds and data tests: start-up costs ~5 s per invocation.
    Unit tests are the models' known answers, run by `make test` under several timezones; in
    production they would only cost time, and one written for another zone would stop the run.

    The routing rules (config/routing.yaml, or LEADFLOW_ROUTING_RULES) are validated and written
    to config.routing_* first, in every run, so a broken rules file fails early; only forward
    runs route (var routing_enabled, C9): backfills and file-triggered runs do not.

    The big staging models are incremental (issue 17); the build rebuilds them in full when
    asked (`full_refresh`), before the first build, and whenever the dbt project or the business
    timezone changed since the last build that passed (their kept rows were computed with
    another version): the var `rebuild_staging` (macros/incremental.sql), never dbt's
    --full-refresh, which would recompute the key map's keys (C3) and the routing log."""
    from leadflow import time_only
    from leadflow.routing_rules import default_rules_path, load_routing_rules
    from leadflow.run_inputs import code_digest, last_built_code, record_build

    kind = run_kind(as_of, settings, file_triggered=file_triggered)
    routing_enabled = kind == "forward"
    inputs = build_inputs(settings)  # before the build: what it reads
    code = code_digest(settings.dbt_project_dir, settings.business_timezone)
    full_refresh = full_refresh or last_built_code(settings.warehouse) != code
    routing = load_routing_rules(settings.warehouse, default_rules_path())
    target_dir = settings.data_dir / "dbt" / "target"
    rebuild_leads = time_only.last_build_unpassed(settings.warehouse)
    build = BuildSpec(
        as_of, run_id, inputs, routing_enabled, full_refresh, target_dir, rebuild_leads
    )
    started = time.monotonic()
    # issue 17: nothing loaded since the last good build and no event between its cut-off and
    # this one's: only the time-driven models change (leadflow/time_only.py)
    selection = None if full_refresh else time_only.plan(
        settings.warehouse, target_dir / "manifest.json", as_of=as_of, tz=settings.tz,
        inputs=inputs, routing_enabled=routing_enabled,
    )  # fmt: skip
    reason = selection if isinstance(selection, str) else "full refresh asked or new code"
    results = None
    if isinstance(selection, time_only.TimeOnly):
        results = run_build(settings, build, selection)
        if results is None:
            reason = "the time-only build routed leads: their owners change"
            log.info("run %s: %s; building everything", run_id, reason)
    if results is None:
        selection = None
        results = run_build(settings, build, None)
    record_build(settings.warehouse, run_id=run_id, code=code, full_refresh=full_refresh)
    failures = [r for r in results if r["status"] in ("error", "fail", "runtime error")]
    warnings = [r for r in results if r["status"] == "warn"]
    from leadflow.load_reports import write_load_reports

    load_reports = write_load_reports(settings, run_id, built=True)  # which lead a row joined
    return BuildResult(
        nodes=len(results),
        failed=len(failures),
        warned=len(warnings),
        inputs=inputs,
        kind=kind,
        full_refresh=full_refresh,
        build="time_only" if selection else "full",
        build_reason=(
            f"nothing new and no event since the build for {selection.since}"
            if selection
            else reason
        ),
        routing=Routing(
            enabled=routing_enabled,
            assignments=routing_assignments(settings.warehouse, as_of),
            rules=routing,
        ),
        marts=mart_row_counts(settings.warehouse),
        load_reports=load_reports.count,
        load_report_index=load_reports.index,
        seconds=round(time.monotonic() - started, 1),
    )


def build_inputs(settings: Settings) -> str | None:
    """The fingerprint of everything a build reads but `as_of` (leadflow.run_inputs)."""
    from leadflow.routing_rules import default_rules_path
    from leadflow.run_inputs import fingerprint

    return fingerprint(
        settings.warehouse,
        channels_dir=settings.channels_dir,
        routing_rules=default_rules_path(),
        dbt_project_dir=settings.dbt_project_dir,
        business_timezone=settings.business_timezone,
    )


def nothing_to_do(
    settings: Settings,
    as_of: date,
    *,
    send: bool = False,
    resend: bool = False,
    file_triggered: bool = False,
) -> str | None:
    """One line when the last finished run already did what this one would (an empty inbox,
    the same loads, rules and models, the same as_of), else None. Call it under the run lock.
    Costs a DuckDB connection and a few hashes: no GX, dbt or Airflow import."""
    from leadflow.run_inputs import last_finished_run
    from leadflow.run_inputs import nothing_to_do as decide

    if not settings.inbox.is_dir() or not settings.warehouse.exists():
        return None  # the run itself says what is missing
    waiting = waiting_files(settings)
    if waiting or resend:
        return None
    return decide(
        last_finished_run(settings.warehouse),
        build_inputs(settings),
        as_of=as_of,
        kind=run_kind(as_of, settings, file_triggered=file_triggered),
        send=send,
        resend=resend,
        waiting=waiting,
    )


def run_kind(as_of: date, settings: Settings, *, file_triggered: bool = False) -> str:
    """forward (as_of = today, scheduled or manual), backfill, or file (a new inbox file)."""
    if file_triggered:
        return "file"
    return "forward" if is_forward_run(as_of, settings.tz) else "backfill"


def publish(
    settings: Settings, as_of: date, run_id: str, *, file_triggered: bool = False
) -> PublishResult:
    """Copy the marts to the read-only BI snapshot: forward runs only (C9)."""
    from leadflow.publish import PublishResult, publish_marts, publish_reports

    kind = run_kind(as_of, settings, file_triggered=file_triggered)
    if kind != "forward":
        return PublishResult(
            published=False, reason=f"{kind} run for {as_of}: nothing published (C9)"
        )
    published = publish_marts(settings.warehouse, settings.publish_dir, run_id=run_id)
    reports = publish_reports(settings.reports_dir, settings.publish_dir, run_id=run_id)
    return replace(published, reports=reports)


def report(
    settings: Settings,
    as_of: date,
    *,
    send: bool = False,
    resend: bool = False,
    file_triggered: bool = False,
    kinds: list[str] | None = None,
) -> ReportResult:
    """The weekly and monthly analysis (R11) when due: Monday the last week's, the 1st the last
    month's, rendered from the marts, then mailed to each manager and to ops.

    Runs in forward runs, or when `send` asks (C9). A page stays under reports/ (and in the BI
    snapshot) until the next one; `kinds` (`leadflow report --period`) renders those kinds on
    any day, and mails them only with `send`. reporting/ renders, notify/ sends: the pieces pass
    through here, so neither imports the other."""
    from reporting import due_kinds, render_period_reports

    run = run_kind(as_of, settings, file_triggered=file_triggered)
    if kinds is None and run != "forward" and not send:
        return ReportResult(0, [], reason=f"{run} run for {as_of} without send: no report (C9)")
    render_kinds = kinds if kinds is not None else due_kinds(as_of)
    if not render_kinds:
        return ReportResult(
            0, [], reason=f"no report due on {as_of} (weeks on Mondays, months on the 1st)"
        )
    # matplotlib keeps its font cache in ~/.cache unless told: a run writes only under the
    # data dir (as for AIRFLOW_HOME)
    os.environ.setdefault("MPLCONFIGDIR", str(settings.data_dir / "cache" / "matplotlib"))
    rendered = render_period_reports(settings.warehouse, settings.reports_dir, as_of, render_kinds)
    pages = [str(r.html_path) for r in rendered]
    if kinds is not None and not send:
        return ReportResult(len(rendered), pages, reason="rendered by hand, not mailed")
    from notify.period_report import send_period_reports
    from notify.smtp_connection import load_smtp_settings

    mails = [report_mail(r) for r in rendered]
    delivery = send_period_reports(
        settings.warehouse, settings.outbox, mails, smtp=load_smtp_settings(), resend=resend
    )
    if delivery.failed:  # the ledger keeps the delivered ones: a retry sends only the rest
        raise RuntimeError(
            f"{delivery.failed} period reports not delivered for {as_of}: {delivery}"
        )
    return ReportResult(len(rendered), pages, mailed=True, delivery=delivery)


def report_mail(rendered: Any) -> Any:
    """A rendered report (reporting.RenderedReport) as notify's PeriodReportMail."""
    from notify.period_report import PeriodReportMail, ReportChart

    return PeriodReportMail(
        recipient=rendered.reader,
        period_kind=rendered.period_kind,
        period_start=rendered.period_start,
        period_end=rendered.period_end,
        scope=rendered.scope,
        scope_name=rendered.scope_name,
        headline=tuple((key, this, previous) for key, _, this, previous in rendered.headline),
        actions=rendered.actions,
        cases=rendered.cases,
        charts=tuple(ReportChart(c.name, c.title, c.png) for c in rendered.charts),
        report_path=str(rendered.html_path),
    )


def notify(
    settings: Settings,
    as_of: date,
    *,
    send: bool,
    resend: bool = False,
    file_triggered: bool = False,
) -> NotifyResult:
    """Email each owner their queue, or write .eml files when no SMTP connection exists.
    Forward runs mail; backfills and file-triggered runs only when `send` asks (C9)."""
    kind = run_kind(as_of, settings, file_triggered=file_triggered)
    if kind != "forward" and not send:
        return NotifyResult(sent=False, reason=f"{kind} run for {as_of} without send: no mail (C9)")
    from leadflow.ops_address import require_ops_address
    from notify.service import send_owner_emails
    from notify.smtp_connection import load_smtp_settings

    require_ops_address(settings.warehouse, settings.channels_dir)  # before any mail goes out

    emails = send_owner_emails(
        settings.warehouse,
        settings.outbox,
        as_of,
        smtp=load_smtp_settings(),
        resend=resend,
        settings=settings,
    )
    if emails.failed:  # fail the step: a retry sends only the unsent ones (the ledger)
        raise MailNotDelivered(f"{emails.failed} owner emails not delivered for {as_of}: {emails}")
    return NotifyResult(sent=True, emails=emails)


def record_run(settings: Settings, run_id: str, as_of: date, summary: dict[str, Any]) -> None:
    """One row per run with every step's summary and duration (observability): the JSON of a
    `RunSummary` (`to_json`; the DAG assembles it from its tasks' XCom)."""
    with warehouse_db.connect(settings.warehouse) as con:
        warehouse_db.ensure_ops_table(con, "run_summary")
        con.execute(
            "INSERT INTO ops.run_summary VALUES (?, ?, ?, ?)",
            [
                run_id,
                as_of,
                datetime.now(UTC).replace(tzinfo=None),
                json.dumps(summary, default=str),
            ],
        )


StepResult = TypeVar("StepResult")


def timed(step: Callable[..., StepResult], *args: Any, **kwargs: Any) -> StepResult:
    """The step's result with its wall time in `seconds` (every step result has the field)."""
    progress.step_started(step.__name__)
    started = time.monotonic()
    result = replace(step(*args, **kwargs), seconds=round(time.monotonic() - started, 2))
    progress.step_finished(step.__name__, result)
    return result


def run_all(
    settings: Settings,
    as_of: date,
    *,
    send: bool = False,
    resend: bool = False,
    run_id: str | None = None,
    lock_wait: float | None = None,
    full_refresh: bool = False,
) -> RunSummary:
    """Every step in order, in-process: what `leadflow run` does, and the DAG does task by task.

    The run holds the warehouse's run lock throughout; another run waits up to `lock_wait`
    seconds (default: LEADFLOW_RUN_LOCK_WAIT_SECONDS, else 0), then RunInProgress is raised."""
    from leadflow.run_lock import run_lock, wait_seconds

    run_id = run_id or new_run_id()
    wait = wait_seconds() if lock_wait is None else lock_wait
    run = RunSummary(run_id=run_id, as_of=as_of, kind=run_kind(as_of, settings), send=send)
    with run_lock(settings.warehouse, what=f"leadflow run {run_id} for {as_of}", wait=wait):
        reason = None if full_refresh else nothing_to_do(settings, as_of, send=send, resend=resend)
        if reason:  # not recorded: the run it points at stays the last finished one
            log.info("run %s: %s", run_id, reason)
            return replace(run, nothing_to_do=reason)
        run = replace(
            run,
            ingest=timed(ingest, settings, run_id),
            validate=timed(validate, settings, as_of, run_id),
            transform=timed(transform, settings, as_of, run_id, full_refresh=full_refresh),
            report=timed(report, settings, as_of, send=send, resend=resend),
            publish=timed(publish, settings, as_of, run_id),
            notify=timed(notify, settings, as_of, send=send, resend=resend),
        )
        record_run(settings, run_id, as_of, to_json(run))
    return run
