"""What a run is doing, as it happens, for whoever shows it.

The steps report here (a file loaded, a step started or finished, n of m dbt nodes done); the
reporter installed decides what a person sees. The default one does nothing, so the DAG's tasks
keep their plain logs; `leadflow run` installs a console reporter (`leadflow.console`).
Import-light: the steps import it at DAG parse time.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# dbt's lines per node: "12:00:01  3 of 211 OK created sql view model staging.stg_x ..."
DBT_NODE_DONE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|SUCCESS|NO-OP)\b")


class Reporter:
    """Receives a run's events; every method may be left as is (nothing shown)."""

    def step_started(self, step: str) -> None:
        """A step of the run (ingest, validate, transform, publish, notify) begins."""

    def step_finished(self, step: str, result: Any) -> None:
        """A step ended with its result (leadflow.results; its `seconds` included)."""

    def file_done(self, result: Any) -> None:
        """Ingest finished one file: its `ingest.landing.FileResult`."""

    def advance(self, step: str, done: int, total: int | None, label: str = "") -> None:
        """A long step moved on: `done` of `total` units (dbt nodes)."""


_reporter = Reporter()


def current() -> Reporter:
    return _reporter


@contextmanager
def reporting_to(reporter: Reporter) -> Iterator[Reporter]:
    """Send the events of the code inside to `reporter`."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield reporter
    finally:
        _reporter = previous


def step_started(step: str) -> None:
    _reporter.step_started(step)


def step_finished(step: str, result: Any) -> None:
    _reporter.step_finished(step, result)


def file_done(result: Any) -> None:
    _reporter.file_done(result)


def advance(step: str, done: int, total: int | None, label: str = "") -> None:
    _reporter.advance(step, done, total, label)


def run_reporting_dbt(
    command: list[str], env: dict[str, str], *, step: str, log: logging.Logger
) -> tuple[int, str]:
    """Run dbt, its output line by line into `log` (the log file, not the console) and its
    node count into `advance`; returns the exit code and the whole output (stderr merged)."""
    lines: list[str] = []
    done = 0
    with subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            log.info("%s", line)
            match = DBT_NODE_DONE.search(line)
            if match:  # nodes finish out of their numbered order: count the lines
                done += 1
                advance(step, done, int(match[2]), line.split(" of ", 1)[-1][:80])
        code = process.wait()
    return code, "\n".join(lines)
