"""`leadflow`: generate demo data, run the pipeline in-process, print the last run's summary."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from leadflow.config import load_settings, resolve_as_of


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
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait this long for another run to finish (default: "
        "LEADFLOW_RUN_LOCK_WAIT_SECONDS, else 0: exit at once)",
    )

    summary = sub.add_parser("summary", help="print the summary of the latest run")
    summary.add_argument("--warehouse", type=Path)
    summary.add_argument("--json", action="store_true")
    return parser


# `leadflow run` exits with this when another run holds the warehouse (EX_TEMPFAIL: try later).
EXIT_RUN_IN_PROGRESS = 75


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    from leadflow.errors import LeadflowError
    from leadflow.run_lock import RunInProgress

    try:
        return _command(args)
    except RunInProgress as exc:
        print(f"leadflow: {exc}", file=sys.stderr)
        return EXIT_RUN_IN_PROGRESS
    except LeadflowError as exc:  # a fault the message explains: no traceback
        print(f"leadflow: error: {exc}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    if args.command == "demo-data":
        from leadflow.demo_data import generate

        settings = load_settings()
        as_of = resolve_as_of(args.as_of, settings.tz)
        result = generate(
            args.out, seed=args.seed, leads=args.leads, as_of=as_of, truth_path=args.truth
        )
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return 0
    if args.command == "run":
        from leadflow.pipeline import run_all

        settings = load_settings(inbox=args.inbox, warehouse=args.warehouse, outbox=args.outbox)
        as_of = resolve_as_of(args.as_of, settings.tz)
        summary = run_all(settings, as_of, send=args.send, resend=args.resend, lock_wait=args.wait)
        # as stored in ops.run_summary; read back here it could race the next run's lock
        print(format_summary(json.loads(json.dumps(summary, default=str)), settings))
        return 0
    if args.command == "summary":
        settings = load_settings(warehouse=args.warehouse)
        summary = latest_summary(settings.warehouse)
        if args.json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            print(format_summary(summary, settings))
        return 0
    return 2


def latest_summary(warehouse: Path) -> dict[str, Any]:
    import duckdb

    from leadflow.errors import LeadflowError
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


def format_summary(summary: dict[str, Any], settings) -> str:
    ing, val = summary.get("ingest", {}), summary.get("validate", {})
    tra, pub, mail = (
        summary.get("transform", {}),
        summary.get("publish", {}),
        summary.get("notify", {}),
    )
    lines = [
        f"leadflow run {summary.get('run_id')} for as-of {summary.get('as_of')}",
        f"  files ingested      {ing.get('files_ingested', 0)} "
        f"(rejected: {ing.get('files_rejected', 0)})",
        f"  records loaded      {ing.get('records_added', 0)}",
        f"  rows skipped        {ing.get('rows_already_loaded', 0)} (already loaded)",
        f"  rows quarantined    {ing.get('rows_quarantined', 0)}",
        f"  data-quality flags  {val.get('flags', 0)} "
        + json.dumps(val.get("flags_by_check", {}), ensure_ascii=False),
        f"  dbt build           {tra.get('nodes', 0)} nodes, {tra.get('warned', 0)} warnings, "
        f"{tra.get('seconds', 0)} s",
        "  marts built:",
        *[f"    marts.{name:<24} {count:>8} rows" for name, count in tra.get("marts", {}).items()],
        f"  emails              sent {mail.get('emails_sent', 0)}, written "
        f"{mail.get('emails_written', 0)}, already sent {mail.get('skipped_already_sent', 0)}"
        + (f" ({mail['reason']})" if mail.get("reason") else ""),
        f"  new-lead emails     {mail.get('new_lead_emails', 0)} "
        f"({mail.get('new_leads', 0)} leads reached their owner since their last email)",
        f"  published           {pub.get('snapshot') or pub.get('reason', 'no')}",
        "paths:",
        f"  warehouse           {settings.warehouse}",
        f"  data-quality report {val.get('data_docs', settings.reports_dir)}",
        f"  error reports       {settings.reports_dir / 'errors'}",
        f"  outbox              {mail.get('outbox', settings.outbox)}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
