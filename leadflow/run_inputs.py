"""What a build consumed, so that a run with nothing new can end at once (issue 17).

The inbox sensor triggers runs all day; most find nothing. A build's inputs are the committed
loads and their validation (the warehouse), the channel YAMLs, the routing rules, the dbt project
and the business timezone; together with `as_of` and the run's kind they decide every mart. Each
finished run records their fingerprint in its summary (`ops.run_summary`); a later run whose
inbox is empty and whose fingerprint and `as_of` equal the last finished run's has nothing to do.

Cheap by design: DuckDB (no GX, no dbt, no pandas), a few aggregates over the manifest, and file
hashes of a few hundred small text files.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from leadflow.core import warehouse as warehouse_db

# Files of the dbt project that change what a build computes (not target/ or logs/).
DBT_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def files_digest(paths: list[Path]) -> str:
    """One hash over the relative names and bytes of every file under `paths`."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def warehouse_digest(warehouse: Path) -> str | None:
    """Loads and validations committed so far; None without a manifest (nothing loaded)."""
    if not warehouse.exists():
        return None
    with warehouse_db.connect(warehouse, read_only=True) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN ('raw', 'dq')"
            ).fetchall()
        }
        if "raw.load_manifest" not in tables:
            return None
        loads = con.execute(
            "SELECT count(*), coalesce(sum(hash(load_id, status)::HUGEINT), 0) "
            "FROM raw.load_manifest"
        ).fetchone()
        validated = (0, 0)
        if "dq.validated_loads" in tables:
            validated = con.execute(
                "SELECT count(*), coalesce(sum(hash(load_id)::HUGEINT), 0) FROM dq.validated_loads"
            ).fetchone()
    return f"{loads[0]}:{loads[1]}:{validated[0]}:{validated[1]}"


def fingerprint(
    warehouse: Path,
    *,
    channels_dir: Path,
    routing_rules: Path | None,
    dbt_project_dir: Path,
    business_timezone: str,
) -> str | None:
    """The inputs of a build as one string; None when the warehouse has no loads yet."""
    loads = warehouse_digest(warehouse)
    if loads is None:
        return None
    parts = {
        "loads": loads,
        "channels": files_digest([channels_dir]),
        "routing": files_digest([routing_rules]) if routing_rules else "",
        "dbt": files_digest([dbt_project_dir / name for name in DBT_SOURCES]),
        "timezone": business_timezone,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


def last_finished_run(warehouse: Path) -> dict[str, Any] | None:
    """The summary of the latest run that recorded one (all its steps finished)."""
    if not warehouse.exists():
        return None
    with warehouse_db.connect(warehouse, read_only=True) as con:
        if not warehouse_db.table_exists(con, "ops", "run_summary"):
            return None
        row = con.execute(
            "SELECT summary FROM ops.run_summary ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    return json.loads(row[0]) if row else None


def covers(previous: dict[str, Any], *, kind: str, send: bool) -> bool:
    """Whether the previous run did everything this one would: a forward run published and
    mailed; a backfill or file-triggered run covers another of its kind, mail only if it sent."""
    done_kind = previous.get("kind") or (previous.get("transform") or {}).get("kind")
    if done_kind == "forward":
        return True
    return done_kind == kind and (bool(previous.get("send")) or not send)


def nothing_to_do(
    previous: dict[str, Any] | None,
    current: str | None,
    *,
    as_of: date,
    kind: str,
    send: bool,
    resend: bool,
    waiting: list[str],
) -> str | None:
    """The one line a run prints when it has nothing to do, else None (it runs)."""
    if waiting or resend or current is None or previous is None:
        return None
    built = (previous.get("transform") or {}).get("inputs")
    if previous.get("as_of") != as_of.isoformat() or built != current:
        return None
    if not covers(previous, kind=kind, send=send):
        return None
    return (
        f"nothing new since run {previous.get('run_id')} for {as_of} "
        "(no file in the inbox, same loads, rules and models): nothing to do"
    )


# --------------------------------------------------------------------------- full refreshes

BUILDS = "ops.dbt_builds"


def code_digest(dbt_project_dir: Path, business_timezone: str) -> str:
    """What an incremental model's kept rows were computed with: the dbt project and the zone."""
    project = files_digest([dbt_project_dir / name for name in DBT_SOURCES])
    return f"{project}:{business_timezone}"


def last_built_code(warehouse: Path) -> str | None:
    """The code digest of the last build that passed; None before the first."""
    if not warehouse.exists():
        return None
    with warehouse_db.connect(warehouse, read_only=True) as con:
        if not warehouse_db.table_exists(con, "ops", "dbt_builds"):
            return None
        row = con.execute(
            f"SELECT code FROM {BUILDS} ORDER BY built_at DESC, rowid DESC LIMIT 1"
        ).fetchall()
    return row[0][0] if row else None


def record_build(warehouse: Path, *, run_id: str, code: str, full_refresh: bool) -> None:
    with warehouse_db.connect(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {BUILDS} (run_id VARCHAR, code VARCHAR, "
            "full_refresh BOOLEAN, built_at TIMESTAMP)"
        )
        con.execute(
            f"INSERT INTO {BUILDS} VALUES (?, ?, ?, now()::TIMESTAMP)", [run_id, code, full_refresh]
        )
