"""What `leadflow run` shows a person: one line per file and per step with counts and seconds,
a live display while a step takes more than a moment, and nothing of the libraries' chatter.

Everything logged (GX's start-up lines, dbt's output, Airflow's) goes to the log file under
the data dir, `<data dir>/logs/leadflow.log`; the console gets leadflow's own errors (and, with
`--verbose`, its info lines). On a terminal the live display is `rich`'s; elsewhere (a pipe,
cron, CI) a plain line every `LEADFLOW_PROGRESS_SECONDS` (default 15) while a step runs.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from leadflow.core.progress import Reporter
from leadflow.core.settings import progress_tick_seconds

if TYPE_CHECKING:
    from ingest.landing import FileResult
    from ingest.loader import IngestResult
    from leadflow.publish import PublishResult
    from leadflow.results import BuildResult, NotifyResult, ReportResult, ValidateResult

OWN_LOGGERS = ("leadflow", "ingest", "expectations", "notify")


def configure_logging(log_dir: Path, *, verbose: bool = False) -> Path:
    """Every log record into `log_dir/leadflow.log`; leadflow's own errors (or, `verbose`, its
    info lines) also on stderr. Returns the log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "leadflow.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if _replaced(handler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.INFO)
    to_file = RotatingFileHandler(path, maxBytes=20 << 20, backupCount=3, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.leadflow = True  # type: ignore[attr-defined]
    root.addHandler(to_file)
    to_console = logging.StreamHandler(sys.stderr)
    to_console.setLevel(logging.INFO if verbose else logging.ERROR)
    to_console.addFilter(lambda record: record.name.split(".")[0] in OWN_LOGGERS)
    to_console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    to_console.leadflow = True  # type: ignore[attr-defined]
    root.addHandler(to_console)
    logging.captureWarnings(True)  # library warnings are log records too: into the file
    return path


def _replaced(handler: logging.Handler) -> bool:
    """Ours from an earlier call, or a console handler a library installed on import (Airflow
    points the root logger at stdout); others (a test's capture) stay."""
    if getattr(handler, "leadflow", False):
        return True
    stream = getattr(handler, "stream", None)
    return type(handler) is logging.StreamHandler and stream in (sys.stdout, sys.stderr)


def _seconds(value: Any) -> str:
    return f"{float(value or 0):.1f} s"


def file_line(result: FileResult) -> str:
    """One file of ingest: what happened to its rows."""
    if result.status != "loaded":
        return f"  REJECTED {result.file_name}: {result.error}"
    parts = [f"{result.records_added} added"]
    for count, label in (
        (result.rows_already_loaded, "already loaded"),
        (result.rows_quarantined, "quarantined"),
    ):
        if count:
            parts.append(f"{count} {label}")
    line = (
        f"  loaded   {result.file_name} ({result.channel}): {result.rows_in_file} rows, "
        f"{', '.join(parts)}  {_seconds(result.seconds)}"
    )
    notes = "".join(f"\n           note: {n}" for n in result.notes)
    return line + notes


def step_line(step: str, result: Any) -> str:
    """One step of the run (its leadflow.results result), with its counts."""
    describe = _STEP_LINES.get(step)
    text = describe(result) if describe else ""
    return f"{step:<10} {text}  {_seconds(result.seconds)}"


def _ingest_line(r: IngestResult) -> str:
    return (
        f"{r.files_ingested} files loaded, {r.files_rejected} rejected: "
        f"{r.records_added} rows added, {r.rows_already_loaded} already "
        f"loaded, {r.rows_quarantined} quarantined"
    )


def _validate_line(r: ValidateResult) -> str:
    v = r.validation
    by_check = ", ".join(f"{k} {n}" for k, n in v.flags_by_check.items())
    return f"{v.rows_validated} rows checked, {v.flags} flags" + (
        f" ({by_check})" if by_check else ""
    )


def _transform_line(r: BuildResult) -> str:
    routed = sum(r.routing.assignments.values())
    # issue 17: say when only the time-driven models were rebuilt, and why
    nodes = f"{r.nodes} nodes"
    if r.build == "time_only":
        nodes = f"the time-driven models only, {nodes} ({r.build_reason})"
    return f"dbt build of {nodes}: {r.failed} failed, {r.warned} warnings; {len(r.marts)} marts" + (
        f", {routed} leads routed" if routed else ""
    )


def _publish_line(r: PublishResult) -> str:
    return f"snapshot {r.snapshot}" if r.snapshot else str(r.reason or "skipped")


def _report_line(r: ReportResult) -> str:
    if not r.rendered:
        return str(r.reason or "no report")
    line = f"{r.rendered} period reports rendered"
    if r.delivery is not None:
        d = r.delivery
        return line + (
            f", {d.reports_sent} sent, {d.reports_written} written, "
            f"{d.skipped_already_sent} already sent"
        )
    return line + f" ({r.reason or 'not mailed'})"


def _notify_line(r: NotifyResult) -> str:
    if r.emails is None:
        return str(r.reason or "no mail")
    e = r.emails
    return (
        f"{e.emails_sent} emails sent, {e.emails_written} written to "
        f"{e.outbox}, {e.skipped_already_sent} already sent"
    )


_STEP_LINES: dict[str, Callable[[Any], str]] = {
    "ingest": _ingest_line,
    "validate": _validate_line,
    "transform": _transform_line,
    "report": _report_line,
    "publish": _publish_line,
    "notify": _notify_line,
}


class ConsoleReporter(Reporter):
    """Lines as the run goes; a live display for steps that run for more than a moment."""

    def __init__(self, out: TextIO | None = None, *, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.live = not quiet and self.out.isatty()
        self.tick = progress_tick_seconds()
        self._step: str | None = None
        self._started = 0.0
        self._done: tuple[int, int | None] | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._rich: Any = None

    def say(self, text: str) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            self._rich.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=self.out, flush=True)

    def step_started(self, step: str) -> None:
        self._step, self._started, self._done = step, time.monotonic(), None
        if self.quiet:
            return
        if self.live:
            self._start_rich(step)
        else:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def step_finished(self, step: str, result: Any) -> None:
        self._end_display()
        self.say(step_line(step, result))

    def file_done(self, result: FileResult) -> None:
        self.say(file_line(result))

    def advance(self, step: str, done: int, total: int | None, label: str = "") -> None:
        self._done = (done, total)
        if self._rich is not None:
            self._rich.update(self._task, completed=done, total=total, label=label)

    def close(self) -> None:
        self._end_display()

    # ------------------------------------------------------------ displays

    def _start_rich(self, step: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._rich = Progress(
            SpinnerColumn(),
            TextColumn(f"{step:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[label]}"),
            console=Console(file=self.out),
            transient=True,
        )
        self._task = self._rich.add_task(step, total=None, label="")
        self._rich.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            elapsed = time.monotonic() - self._started
            done = ""
            if self._done:
                count, total = self._done
                done = f", {count} of {total} done" if total else f", {count} done"
            print(f"  … {self._step} running for {elapsed:.0f} s{done}", file=self.out, flush=True)

    def _end_display(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
