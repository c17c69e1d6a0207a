"""`leadflow`: check files and channels, run the pipeline in-process, retry rejected files,
generate demo data, print the last run's summary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadflow.core.clock import resolve_as_of
from leadflow.core.errors import LeadflowError
from leadflow.core.settings import Settings, default_airflow_home, load_settings

if TYPE_CHECKING:
    from leadflow.results import RunSummary

log = logging.getLogger(__name__)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write realistic demo channel exports into a folder")
    demo.add_argument("--out", type=Path, required=True, help="the inbox folder to fill")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--leads", type=int, default=60)
    demo.add_argument("--as-of", type=_date, default=None, help="anchor date (default today)")
    demo.add_argument("--truth", type=Path, default=None, help="ground-truth JSON path")

    run = sub.add_parser("run", help="ingest, validate, build the marts, publish and mail")
    run.add_argument("--inbox", type=Path)
    run.add_argument("--warehouse", type=Path)
    run.add_argument("--outbox", type=Path)
    run.add_argument("--as-of", type=_date, default=None, help="business date (default today)")
    run.add_argument("--send", action="store_true", help="mail even on a backfill (C9)")
    run.add_argument("--resend", action="store_true", help="mail again for a date already sent")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from every load (also when nothing is new)",
    )
    run.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait this long for another run to finish (default: "
        "LEADFLOW_RUN_LOCK_WAIT_SECONDS, else 0: exit at once)",
    )
    _output_options(run)

    check = sub.add_parser(
        "check",
        help="dry run in seconds: what a run would do with these files (writes nothing)",
        description="Load the files into a throw-away in-memory warehouse with the real loader "
        "and run the validation checks on them: channel, header mapping, rows as stored, "
        "flags, quarantined rows. Exit 1 when a file would be rejected.",
    )
    check.add_argument("files", nargs="+", type=Path, help="export files, or folders of them")
    check.add_argument(
        "--channel", type=Path, help="a channel YAML to read every file with (the one you write)"
    )
    check.add_argument("--channels-dir", type=Path, help="default: LEADFLOW_CHANNELS_DIR")
    check.add_argument("--rows", type=int, default=5, help="rows shown as stored (default 5)")
    check.add_argument("--as-of", type=_date, default=None, help="business date (default today)")
    check.add_argument("--warehouse", type=Path, help="compared read-only: already loaded rows")
    check.add_argument("--no-warehouse", action="store_true", help="compare with no warehouse")
    check.add_argument("--all-flags", action="store_true", help="every flag line, not the first")
    check.add_argument("--json", action="store_true", help="the whole result as JSON")

    channels = sub.add_parser("channels", help="channel YAML files")
    channels_sub = channels.add_subparsers(dest="channels_command", required=True)
    validate = channels_sub.add_parser("validate", help="check every channel file of a folder")
    validate.add_argument("dir", nargs="?", type=Path, help="default: LEADFLOW_CHANNELS_DIR")

    retry = sub.add_parser(
        "retry", help="put rejected files back from inbox/failed/ so the next run loads them"
    )
    retry.add_argument("files", nargs="*", help="names below failed/ (see `--list`)")
    retry.add_argument("--all", action="store_true", help="every file in failed/")
    retry.add_argument("--list", action="store_true", help="list the rejected files and why")
    retry.add_argument("--inbox", type=Path)

    demo_dir = sub.add_parser(
        "demo-dir", help="make a folder the demo's own; refuse one holding anything else"
    )
    demo_dir.add_argument("dir", type=Path)

    report = sub.add_parser(
        "report",
        help="render the weekly or monthly analysis (R11) from the marts; --send mails it",
        description="Render the period report for --as-of from the warehouse's marts (built "
        "for that date by `leadflow run --as-of D`): one HTML page and PNG charts per scope "
        "(the organisation and each team) under <reports>/periods/. With --send, mail each "
        "manager and ops their report (once per recipient and period; --resend again).",
    )
    report.add_argument("--period", choices=("week", "month"), required=True)
    report.add_argument("--as-of", type=_date, default=None, help="business date (default today)")
    report.add_argument("--warehouse", type=Path)
    report.add_argument("--outbox", type=Path)
    report.add_argument("--send", action="store_true", help="mail the reports (explicitly asked)")
    report.add_argument("--resend", action="store_true", help="mail again a period already sent")

    summary = sub.add_parser("summary", help="print the summary of the latest run")
    summary.add_argument("--warehouse", type=Path)
    summary.add_argument("--json", action="store_true")
    return parser


# Exit code when another run holds the warehouse, or another fault that passes (EX_TEMPFAIL).
EXIT_RUN_IN_PROGRESS = 75


def _output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="only errors and one last line")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="also leadflow's log lines on the console"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from leadflow.run_lock import RunInProgress

    try:
        return _dispatch(args)
    except RunInProgress as exc:
        print(f"leadflow: {exc}", file=sys.stderr)
        return EXIT_RUN_IN_PROGRESS
    except LeadflowError as exc:  # a problem the message explains: no traceback
        print(str(exc), file=sys.stderr)
        # a fault that passes (a busy warehouse, a full disk): EX_TEMPFAIL, as for a held lock
        return EXIT_RUN_IN_PROGRESS if exc.retryable else exc.exit_code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command not in ("run",):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "check":
        return check_command(args)
    if args.command == "channels":
        return channels_validate(args.dir or load_settings().channels_dir)
    if args.command == "retry":
        return retry_command(args)
    if args.command == "demo-dir":
        from tools.demo.data import claim_demo_dir

        print(claim_demo_dir(args.dir))
        return 0
    if args.command == "demo-data":
        from tools.demo.data import generate

        settings = load_settings()
        as_of = resolve_as_of(args.as_of, settings.tz)
        result = generate(
            args.out, seed=args.seed, leads=args.leads, as_of=as_of, truth_path=args.truth
        )
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return 0
    if args.command == "run":
        return run_command(args)
    if args.command == "report":
        return report_command(args)
    if args.command == "summary":
        settings = load_settings(warehouse=args.warehouse)
        summary = latest_summary(settings.warehouse)
        if args.json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            print(format_summary(summary, settings))
        return 0
    return 2


def report_command(args: argparse.Namespace) -> int:
    """`leadflow report`: the same step a run takes (pipeline.report), for one period kind."""
    from leadflow.pipeline import report

    settings = load_settings(warehouse=args.warehouse, outbox=args.outbox)
    default_airflow_home(settings)
    as_of = resolve_as_of(args.as_of, settings.tz)
    if not settings.warehouse.is_file():
        print(f"no warehouse at {settings.warehouse}: run `leadflow run` first", file=sys.stderr)
        return 2
    result = report(settings, as_of, send=args.send, resend=args.resend, kinds=[args.period])
    for path in result.reports:
        print(path)
    if result.delivery is not None:
        d = result.delivery
        print(
            f"mailed: {d.reports_sent} sent, {d.reports_written} written, "
            f"{d.skipped_already_sent} already sent"
        )
    return 0


def run_command(args: argparse.Namespace) -> int:
    """`leadflow run`: a line per file and step as they finish, library output to the log."""
    from ingest.inbox import require_inbox
    from leadflow.console import ConsoleReporter, configure_logging
    from leadflow.core import progress
    from leadflow.core.channels import load_channels
    from leadflow.pipeline import new_run_id, run_all, run_kind

    settings = load_settings(inbox=args.inbox, warehouse=args.warehouse, outbox=args.outbox)
    default_airflow_home(settings)
    as_of = resolve_as_of(args.as_of, settings.tz)
    reason = _nothing_to_do(settings, as_of, args)
    if reason:  # before Airflow's import (~3-10 s): a run that finds nothing ends in seconds
        print(reason)
        return 0
    if args.send or run_kind(as_of, settings) == "forward":
        # mail looks up the SMTP connection through Airflow, whose import points the root
        # logger at stdout: imported first, so the log set-up below stays in charge
        from notify.smtp_connection import preload_airflow

        preload_airflow()
    log_path = configure_logging(settings.data_dir / "logs", verbose=args.verbose)
    load_channels(settings.channels_dir)  # refuse to start on an invalid channel, or inbox
    require_inbox(settings.inbox)
    run_id = new_run_id()
    reporter = ConsoleReporter(quiet=args.quiet)
    reporter.say(f"leadflow run {run_id} for {as_of} ({run_kind(as_of, settings)} run)")
    log.info("run %s for %s starts (%s)", run_id, as_of, settings.data_dir)
    try:
        with progress.reporting_to(reporter):
            summary = run_all(
                settings,
                as_of,
                send=args.send,
                resend=args.resend,
                full_refresh=args.full_refresh,
                run_id=run_id,
                lock_wait=args.wait,
            )
    except LeadflowError:
        raise
    except Exception as exc:  # the step's own message; the traceback is in the log file
        log.exception("run %s failed", run_id)
        print(f"run {run_id} failed: {exc}\n(details in {log_path})", file=sys.stderr)
        return 1
    finally:
        reporter.close()
    if summary.nothing_to_do:  # another run finished the same work since the check above
        print(summary.nothing_to_do)
        return 0
    print("\n".join(run_footer(summary, settings, log_path, quiet=args.quiet)))
    return 0


def _nothing_to_do(settings: Settings, as_of: date, args: argparse.Namespace) -> str | None:
    """The one line of a run with nothing to do (leadflow.run_inputs), checked under the run
    lock; None when there is something to do."""
    from leadflow.pipeline import nothing_to_do
    from leadflow.run_lock import run_lock, wait_seconds

    if not settings.warehouse.exists() or args.full_refresh:
        return None
    wait = wait_seconds() if args.wait is None else args.wait
    with run_lock(settings.warehouse, what=f"leadflow run check for {as_of}", wait=wait):
        return nothing_to_do(settings, as_of, send=args.send, resend=args.resend)


def run_footer(
    summary: RunSummary, settings: Settings, log_path: Path, *, quiet: bool
) -> list[str]:
    """Where to look next; with --quiet, the run in one line."""
    ing, val, tra, mail = summary.ingest, summary.validate, summary.transform, summary.notify
    assert ing and val and tra and summary.report and summary.publish and mail  # did something
    steps = (ing, val, tra, summary.report, summary.publish, mail)  # every step line printed
    seconds = sum(step.seconds for step in steps)
    emails = mail.emails
    if quiet:
        mailed = emails.emails_sent + emails.emails_written if emails else 0
        return [
            f"leadflow run {summary.run_id} for {summary.as_of}: "
            f"{ing.files_ingested} files loaded, {ing.files_rejected} rejected, "
            f"{ing.records_added} rows added, {val.validation.flags} flags, "
            f"{mailed} emails in {seconds:.0f} s"
        ]
    reports = tra.load_report_index or val.load_report_index
    lines = [f"done in {seconds:.0f} s"]
    if reports:
        lines.append(f"  load reports   {reports}")
    lines.append(f"  data quality   {val.quality_page or 'no new rows validated'}")
    if ing.files_rejected:
        lines.append(f"  rejected       {settings.failed_dir} (fix, then `leadflow retry NAME`)")
    if emails and emails.emails_written:
        lines.append(f"  outbox         {emails.outbox}")
    lines.append(f"  log            {log_path}")
    return lines


def check_command(args: argparse.Namespace) -> int:
    """`leadflow check`: exit 1 when any file would be rejected."""
    from leadflow.check import channels_for_check, check_files, format_check

    settings = load_settings(warehouse=args.warehouse)
    channels_dir = args.channels_dir or settings.channels_dir
    channels, forced, warnings = channels_for_check(channels_dir, args.channel)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    run = check_files(
        expand_folders(args.files),
        channels,
        forced=forced,
        warehouse=None if args.no_warehouse else settings.warehouse,
        business_timezone=settings.business_timezone,
        as_of=resolve_as_of(args.as_of, settings.tz),
        rows=args.rows,
    )
    if args.json:
        payload = {"files": [c.as_dict() for c in run.files], "warehouse": run.warehouse_note}
        print(json.dumps({**payload, "seconds": run.seconds}, ensure_ascii=False, default=str))
    else:
        print(format_check(run, rows=args.rows, all_flags=args.all_flags))
    return 1 if any(c.rejected for c in run.files) else 0


def expand_folders(paths: list[Path]) -> list[Path]:
    """A folder stands for the files a run would take from it (sub-folders included)."""
    from ingest.inbox import inbox_files

    return [f for p in paths for f in (inbox_files(p) if p.is_dir() else [p])]


def channels_validate(channels_dir: Path) -> int:
    """`leadflow channels validate`: every problem of every file; exit 1 on any error."""
    from leadflow.core.channels import validate_channels

    channels, problems = validate_channels(channels_dir)
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    errors = sum(p.severity == "error" for p in problems)
    names = ", ".join(c.name for c in channels) or "none"
    print(f"{channels_dir}: {len(channels)} valid channels ({names}), {errors} errors")
    return 1 if errors else 0


def retry_command(args: argparse.Namespace) -> int:
    from ingest.inbox import failed_files, retry_files

    settings = load_settings(inbox=args.inbox)
    waiting = failed_files(settings.inbox)
    if args.list or not (args.files or args.all):
        for name in waiting:
            reason = settings.failed_dir / f"{name}.reason.txt"
            why = reason.read_text(encoding="utf-8").splitlines()[0] if reason.exists() else ""
            print(f"{name}\n    {why.split(': ', 1)[-1]}")
        print(f"{len(waiting)} rejected files in {settings.failed_dir}")
        return 0
    moves = retry_files(settings.inbox, waiting if args.all else list(args.files))
    for source, target in moves:
        print(f"{source} -> {target}")
    print(f"{len(moves)} files back in the inbox: the next `leadflow run` loads them")
    return 0


def latest_summary(warehouse: Path) -> dict[str, Any]:
    import duckdb

    from leadflow.core.errors import LeadflowError
    from leadflow.run_lock import current_holder

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        holder = current_holder(warehouse)
        if holder is None:
            raise
        raise LeadflowError(
            f"the warehouse {warehouse} is being written by a run ({holder.describe()}): "
            "try again when it is done",
            retryable=True,
        ) from exc
    with con:
        row = con.execute(
            "SELECT summary FROM ops.run_summary ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        raise SystemExit(f"no run recorded in {warehouse}")
    return json.loads(row[0])


def format_summary(summary: dict[str, Any], settings: Settings) -> str:
    """The stored JSON of a `RunSummary` (leadflow.results), as `leadflow summary` prints it."""
    ing, val = summary.get("ingest") or {}, summary.get("validate") or {}
    tra, pub, notified = (
        summary.get("transform") or {},
        summary.get("publish") or {},
        summary.get("notify") or {},
    )
    checks, mail = val.get("validation") or {}, notified.get("emails") or {}
    marts = tra.get("marts", {})
    width = max(map(len, marts), default=0)  # the row counts in one column
    lines = [
        f"leadflow run {summary.get('run_id')} for as-of {summary.get('as_of')}",
        f"  files ingested      {ing.get('files_ingested', 0)} "
        f"(rejected: {ing.get('files_rejected', 0)})",
        f"  records loaded      {ing.get('records_added', 0)}",
        f"  rows skipped        {ing.get('rows_already_loaded', 0)} (already loaded)",
        f"  rows quarantined    {ing.get('rows_quarantined', 0)}",
        f"  data-quality flags  {checks.get('flags', 0)} "
        + json.dumps(checks.get("flags_by_check", {}), ensure_ascii=False),
        f"  dbt build           {tra.get('nodes', 0)} nodes, {tra.get('warned', 0)} warnings, "
        f"{tra.get('seconds', 0)} s",
        "  marts built:",
        *[f"    marts.{name:<{width}} {count:>8} rows" for name, count in marts.items()],
        f"  emails              sent {mail.get('emails_sent', 0)}, written "
        f"{mail.get('emails_written', 0)}, already sent {mail.get('skipped_already_sent', 0)}"
        + (f" ({notified['reason']})" if notified.get("reason") else ""),
        f"  new-lead emails     {mail.get('new_lead_emails', 0)} "
        f"({mail.get('new_leads', 0)} leads reached their owner since their last email)",
        f"  published           {pub.get('snapshot') or pub.get('reason') or 'no'}",
        "paths:",
        f"  warehouse           {settings.warehouse}",
        f"  load reports        {tra.get('load_report_index') or val.get('load_report_index')}",
        f"  data-quality pages  {val.get('quality_page') or settings.reports_dir / 'quality'}",
        f"  GX Data Docs        {checks.get('data_docs', settings.reports_dir)}",
        f"  error reports       {settings.reports_dir / 'errors'}",
        f"  outbox              {mail.get('outbox', settings.outbox)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
