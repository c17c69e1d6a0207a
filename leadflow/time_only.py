"""A run with nothing new but a new as_of rebuilds only the time-driven models (issue 17).

Most models depend on as_of only through visibility: an event counts when it lies before the
cut-off (`visible_at_cutoff`, `visible_activities`, `routing_log_by_lead`). If no event time of
any staged record lies between the last build's cut-off and this one's, and nothing was loaded
since (the same inputs fingerprint, leadflow/run_inputs.py), every such model would come out
the same; only the models that compute with as_of itself (days overdue, due today, care due,
the report periods, the SLA deadline, the queue's as_of: dbt tag `time_driven`) and their
descendants change. The guard is a few DuckDB counts; anything it cannot vouch for (a failed or
killed build since the last good one, other code, a missing table, a build that routes after
one that did not) means the normal full build.

Routing (forward runs) is time-driven too: it assigns at the cut-off. The routing models (tag
`routing`: the routing log and its config views) are rebuilt without their descendants; should
the log gain a row (routing assigned someone), the time-only build is not released and the
full build runs instead (pipeline.transform).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from leadflow.core import warehouse as warehouse_db
from leadflow.core.clock import cutoff_utc

TIME_DRIVEN = "time_driven"
ROUTING = "routing"
LOG = "ops.dbt_build_log"

# Every staged timestamp the models compare with the cut-off to decide what is visible (C4), and
# where: tests/test_time_only_build.py holds this list to the models' visibility calls.
VISIBILITY_TIMES: tuple[tuple[str, str], ...] = (
    ("staging.stg_intake_records", "event_at"),  # int_lead_intake_records (acquisition, owners)
    ("staging.stg_intake_records", "status_at"),  # int_lead_status_events: observed_at
    ("staging.stg_intake_records", "closed_at"),  # idem, for won / lost
    ("staging.stg_intake_records", "graded_at"),  # int_lead_grade_events: grade_at
    ("staging.stg_follow_ups", "contacted_at"),  # int_follow_ups (visible_activities)
    ("staging.stg_follow_ups", "graded_at"),  # int_lead_grade_events
    ("staging.stg_status_changes", "changed_at"),  # int_status_changes (visible_activities)
    ("staging.stg_status_changes", "graded_at"),  # int_lead_grade_events
    ("staging.stg_care_actions", "acted_at"),  # int_care_actions (visible_activities)
)
# routing_log_by_lead keeps log rows assigned at or before the cut-off (<=, not <)
ROUTING_LOG = ("intermediate.int_lead_routing", "assigned_at")


@dataclass(frozen=True)
class LastBuild:
    build_id: str
    as_of: date
    inputs: str | None
    routing_enabled: bool
    passed: bool


@dataclass(frozen=True)
class TimeOnly:
    """What a time-only build selects: dbt model names, and the marts among them."""

    models: tuple[str, ...]
    marts: frozenset[str]
    since: date  # the as_of of the last good build


# ----------------------------------------------------------------------------- the build log


def start_build(
    warehouse: Path,
    *,
    run_id: str,
    as_of: date,
    inputs: str | None,
    routing_enabled: bool,
    selection: str,
) -> str:
    """Record a build before dbt starts: a build killed or failed after this stays unpassed,
    and the next run then rebuilds everything (its models may be half written)."""
    build_id = uuid.uuid4().hex[:12]
    with warehouse_db.connect(warehouse) as con:
        warehouse_db.ensure_ops_table(con, "dbt_build_log")
        con.execute(
            f"INSERT INTO {LOG} VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP, false)",
            [build_id, run_id, as_of, inputs, routing_enabled, selection],
        )
    return build_id


def build_passed(warehouse: Path, build_id: str) -> None:
    with warehouse_db.connect(warehouse) as con:
        con.execute(f"UPDATE {LOG} SET passed = true WHERE build_id = ?", [build_id])


def last_build_unpassed(warehouse: Path) -> bool:
    """The newest build in the log failed or was killed: some lead-level models may have been
    written ahead of the fingerprints they are kept by (macros/lead_increments.sql)."""
    if not warehouse.exists():
        return False
    with warehouse_db.connect(warehouse, read_only=True) as con:
        last = last_build(con)
    return last is not None and not last.passed


def last_build(con: duckdb.DuckDBPyConnection) -> LastBuild | None:
    if not warehouse_db.table_exists(con, "ops", "dbt_build_log"):
        return None
    row = con.execute(
        f"SELECT build_id, as_of, inputs, routing_enabled, passed FROM {LOG} "
        "ORDER BY started_at DESC, rowid DESC LIMIT 1"
    ).fetchone()
    return LastBuild(*row) if row else None


# ----------------------------------------------------------------------------- the selection


def time_driven_selection(manifest: dict) -> tuple[tuple[str, ...], frozenset[str]]:
    """The models tagged time_driven and every model downstream of them, plus the routing
    models alone; and which of them are marts."""
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    children = manifest["child_map"]
    selected: set[str] = set()
    todo = [uid for uid, n in nodes.items() if TIME_DRIVEN in n["config"].get("tags", [])]
    while todo:
        uid = todo.pop()
        if uid in selected or uid not in nodes:
            continue
        selected.add(uid)
        todo.extend(children.get(uid, []))
    selected |= {uid for uid, n in nodes.items() if ROUTING in n["config"].get("tags", [])}
    names = tuple(sorted(nodes[uid]["name"] for uid in selected))
    marts = frozenset(
        nodes[uid]["name"]
        for uid in selected
        if nodes[uid]["original_file_path"].startswith("models/marts/")
    )
    return names, marts


# ----------------------------------------------------------------------------- the guard


def events_between(con: duckdb.DuckDBPyConnection, low: datetime, high: datetime) -> list[str]:
    """'table.column: n' for each visibility time whose visibility differs between the two
    cut-offs (low <= t < high; the routing log low < t <= high). Raises CatalogException when
    a table is missing."""
    found = []
    for table, column in VISIBILITY_TIMES:
        n = con.execute(
            f"SELECT count(*) FROM {table} WHERE {column} >= ? AND {column} < ?", [low, high]
        ).fetchone()[0]
        if n:
            found.append(f"{table}.{column}: {n}")
    table, column = ROUTING_LOG
    n = con.execute(
        f"SELECT count(*) FROM {table} WHERE {column} > ? AND {column} <= ?", [low, high]
    ).fetchone()[0]
    if n:
        found.append(f"{table}.{column}: {n}")
    return found


def plan(
    warehouse: Path,
    manifest_path: Path,
    *,
    as_of: date,
    tz: ZoneInfo,
    inputs: str | None,
    routing_enabled: bool,
) -> TimeOnly | str:
    """A time-only build when the guard holds, else the reason for a full build."""
    if inputs is None or not warehouse.exists():
        return "no loads yet"
    with warehouse_db.connect(warehouse, read_only=True) as con:
        last = last_build(con)
        if last is None:
            return "no build recorded before"
        if not last.passed:
            return "the last build did not pass"
        if last.inputs != inputs:
            return "new loads, rules or models since the last build"
        if routing_enabled and not last.routing_enabled:
            return "this run routes and the last build did not"
        low, high = sorted((cutoff_utc(last.as_of, tz), cutoff_utc(as_of, tz)))
        try:
            events = events_between(con, low, high)
        except duckdb.CatalogException as exc:
            return f"a table the guard reads is missing ({exc})"
    if events:
        return f"events between the cut-offs of {last.as_of} and {as_of} ({', '.join(events)})"
    if not manifest_path.exists():
        return "no manifest of the last build"
    models, marts = time_driven_selection(json.loads(manifest_path.read_text(encoding="utf-8")))
    return TimeOnly(models=models, marts=marts, since=last.as_of)


def routing_log_rows(warehouse: Path) -> int:
    """Rows of the routing log: a time-only build that adds one routed someone."""
    table = ROUTING_LOG[0]
    with warehouse_db.connect(warehouse, read_only=True) as con:
        if not warehouse_db.table_exists(con, *table.split(".")):
            return 0
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
