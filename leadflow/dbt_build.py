"""One `dbt build` of the transform step: the command, the child process that dies with its
parent, the results dbt writes (stored per node in `ops.dbt_results`), and the release of the
marts the build rebuilt. `leadflow.pipeline.transform` decides what to build (everything, or the
time-driven models alone: leadflow/time_only.py) and calls `run_build`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadflow.core import progress
from leadflow.core import warehouse as warehouse_db
from leadflow.core.errors import BuildFailed
from leadflow.core.settings import Settings, child_environment

if TYPE_CHECKING:
    from leadflow.time_only import TimeOnly

log = logging.getLogger("leadflow.pipeline")  # one logger for the step's lines, as before


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# dbt runs as a child process. Should this process be killed (SIGKILL, the OOM killer), the child
# must not live on, writing the warehouse under the next run: on Linux a tiny launcher asks the
# kernel to kill it with its parent (PR_SET_PDEATHSIG survives exec), then becomes dbt.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"  # 1 = PR_SET_PDEATHSIG
    "os.getppid() == int(sys.argv[1]) or os._exit(137)\n"  # the parent died before prctl
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def child_command(command: list[str]) -> list[str]:
    """`command`, wrapped so that its process dies with this one (Linux; elsewhere as is)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-S", "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


@dataclass(frozen=True)
class BuildSpec:
    """What one dbt invocation of transform builds with."""

    as_of: date
    run_id: str
    inputs: str | None
    routing_enabled: bool
    full_refresh: bool
    target_dir: Path
    rebuild_leads: bool = False  # the last build did not pass (macros/lead_increments.sql)


def run_build(
    settings: Settings, build: BuildSpec, selection: TimeOnly | None
) -> list[dict[str, Any]] | None:
    """One `dbt build`: everything, or the time-only selection (a leadflow.time_only.TimeOnly);
    the marts it rebuilt are released only when it passed (BuildFailed otherwise). None: the
    time-only build routed leads (their owners, and so most marts, change): not released."""
    from leadflow import time_only
    from leadflow.marts_release import build_slots, default_slot, project_marts, release

    rebuilt = selection.marts if selection else None
    slots = build_slots(settings.warehouse, rebuilt)
    variables = {
        "as_of": build.as_of.isoformat(),
        "business_timezone": settings.business_timezone,
        "routing_enabled": build.routing_enabled,
        "marts_schema": default_slot(),
        "mart_slots": slots,
        "rebuild_staging": build.full_refresh,
        "rebuild_leads": build.rebuild_leads,
    }
    target_dir = build.target_dir
    command = [
        dbt_executable(), "build", "--exclude-resource-type", "unit_test",
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target_dir),
        "--log-path", str(settings.data_dir / "dbt" / "logs"),
        "--vars", json.dumps(variables),
    ]  # fmt: skip
    if selection:
        command += ["--select", *selection.models]
    # No usage statistics: nothing goes to the network at run time, and dbt then writes no
    # .user.yml into the (read-only in the image) project directory.
    env = child_environment(LEADFLOW_WAREHOUSE=str(settings.warehouse))
    # A build killed before the end leaves the previous build's results: never read those.
    (target_dir / "run_results.json").unlink(missing_ok=True)
    build_id = time_only.start_build(
        settings.warehouse,
        run_id=build.run_id,
        as_of=build.as_of,
        inputs=build.inputs,
        routing_enabled=build.routing_enabled,
        selection="time_only" if selection else "full",
    )
    routed_before = time_only.routing_log_rows(settings.warehouse)
    returncode, output = progress.run_reporting_dbt(
        child_command(command), env, step="transform", log=logging.getLogger("dbt")
    )
    results = dbt_results(target_dir / "run_results.json")
    store_dbt_results(settings, build.run_id, results)
    failures = [r for r in results if r["status"] in ("error", "fail", "runtime error")]
    warnings = [r for r in results if r["status"] == "warn"]
    log.info("dbt build: %s", summarise_dbt_results(results))
    for r in failures + warnings:
        log.warning("dbt %s %s: %s", r["status"], r["unique_id"], r["message"])
    if returncode != 0:
        tail = "\n".join(output.splitlines()[-30:])
        raise BuildFailed(
            "dbt build failed; the marts, the snapshot and the mail stay on the last good build.\n"
            + failure_report(failures)
            + f"\n--- dbt output (last lines) ---\n{tail}"
        )
    if selection and time_only.routing_log_rows(settings.warehouse) != routed_before:
        return None
    marts = project_marts(target_dir / "manifest.json")
    release(
        settings.warehouse, slots, run_id=build.run_id, as_of=build.as_of, marts=marts,
        rebuilt=rebuilt,
    )  # fmt: skip
    time_only.build_passed(settings.warehouse, build_id)
    return results


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
    counts = Counter((r["unique_id"].split(".")[0], r["status"]) for r in results)
    by_kind = ", ".join(f"{n} {kind} {status}" for (kind, status), n in sorted(counts.items()))
    models = sorted(
        (r for r in results if r["unique_id"].startswith("model.")),
        key=lambda r: r["seconds"],
        reverse=True,
    )[:slowest]
    slow = ", ".join(f"{r['unique_id'].split('.')[-1]} {r['seconds']:.2f}s" for r in models)
    return f"{by_kind}; slowest models: {slow or 'none'}"


def dbt_results(path: Path) -> list[dict[str, Any]]:
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


def store_dbt_results(settings: Settings, run_id: str, results: list[dict[str, Any]]) -> None:
    """Per-node results of every build, so a failure names its model or test afterwards."""
    if not results:  # dbt stopped before any node (a parse error): its own output says why
        return
    with warehouse_db.connect(settings.warehouse) as con:
        warehouse_db.ensure_ops_table(con, "dbt_results")
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
