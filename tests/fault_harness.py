"""`leadflow` with a kill point: the process SIGKILLs itself at a named point of one step.

    python -m tests.fault_harness POINT -- run --as-of 2026-11-20 ...

The test hook lives here, not in the pipeline: before calling `leadflow.cli.main`, it wraps one
function of the step so that its N-th call kills the process (SIGKILL: no cleanup, no finally,
no atexit; as a power cut or the OOM killer would). The points are deterministic: they count
calls, not seconds. A point whose function is never reached makes the run finish normally, and
the test sees exit code 0 instead of -9. Before dying the harness prints `KILLED AT <point>` to
stderr.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

KILLED = "KILLED AT"


def _die(point: str) -> None:
    print(f"{KILLED} {point}", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _wrap(module: str, name: str, point: str, nth: int, *, after: bool) -> None:
    """Kill the process at the `nth` call of `module.name` (`name` may be `Class.method`),
    before or after it runs."""
    owner: Any = importlib.import_module(module)
    *path, name = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    original: Callable[..., Any] = getattr(owner, name)
    calls = 0

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth and not after:
            _die(point)
        result = original(*args, **kwargs)
        if calls == nth and after:
            _die(point)
        return result

    setattr(owner, name, wrapper)


def _kill_dbt_after(point: str, marker: str) -> None:
    """Let dbt run, reading its output; once a line has `marker`, kill this process only. The
    dbt child is not killed here: it must die with its parent (PR_SET_PDEATHSIG, pipeline)."""
    progress = importlib.import_module("leadflow.core.progress")

    def run(command: list[str], env: dict[str, str], **_: Any) -> tuple[int, str]:
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as child:
            lines = []
            for line in child.stdout:
                lines.append(line)
                if marker in line:
                    print(f"dbt child pid {child.pid}", file=sys.stderr, flush=True)
                    _die(point)
            child.wait()
        return child.returncode, "".join(lines)

    # the pipeline runs dbt, its one subprocess, through progress.run_reporting_dbt
    progress.run_reporting_dbt = run


# point -> how to reach it: mid-file in ingest (rows landed, transaction open), after a file's
# commit but before it is archived, mid-validation (one channel validated, nothing written),
# mid-build (the incremental routing log committed, marts not), mid-publish (snapshot and
# Parquet staged, nothing swapped), between two emails (two delivered and recorded).
POINTS: dict[str, Callable[[str], None]] = {
    "ingest.mid_file": lambda p: _wrap("ingest.loader", "land_batch", p, 3, after=True),
    "ingest.before_archive": lambda p: _wrap("ingest.loader", "file_away", p, 1, after=False),
    "validate.mid_batch": lambda p: _wrap(
        "expectations.validate", "_validate_batch", p, 2, after=False
    ),
    "build.after_routing": lambda p: _kill_dbt_after(
        p, "OK created sql incremental model intermediate.int_lead_routing"
    ),
    "publish.before_swap": lambda p: _wrap(
        "leadflow.publish", "_free_version_dir", p, 1, after=False
    ),
    # after the second daily email is sent and its ledger rows committed, before the third
    "notify.between_emails": lambda p: _wrap(
        "notify.service", "_Run.deliver_daily", p, 2, after=True
    ),
}


def main(argv: list[str]) -> int:
    point, separator, *cli_args = argv
    if separator != "--" or point not in POINTS:
        raise SystemExit(f"usage: fault_harness {{{','.join(POINTS)}}} -- leadflow-args")
    POINTS[point](point)
    from leadflow.cli import main as leadflow_main

    return leadflow_main(cli_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
