"""Publish the marts for BI: a read-only DuckDB snapshot and Parquet files, swapped atomically.

BI tools never open the warehouse the pipeline writes (DuckDB has one writer): they open
`publish/leadflow_marts.duckdb`, which is built beside it under a temporary name and renamed over
the old one, or `publish/parquet/current/<mart>.parquet`, where `current` is a symlink switched
to a complete new folder. A reader holding the old file keeps reading the old, whole snapshot.

Only marts whose content changed are rewritten (issue 17): each mart's fingerprint (row count,
an order-free sum of row hashes, its columns) is kept in the snapshot (`_publish.fingerprints`)
and in each Parquet version (`_fingerprints.json`). The staging snapshot starts as a byte copy of
the current one, whose unchanged marts stay as they are; an unchanged Parquet file is hard-linked
into the new version. A full copy of 1M leads' marts took 13 s; the copy of the file takes a
fraction of a second, the fingerprints a scan without a write. A mart whose `marts.<name>` view
still shows the slot and build it showed at the last publish (`ops.mart_versions`: a build
never writes the slot a view shows) keeps its published fingerprint without a scan, so a
time-only build (leadflow/time_only.py) costs the scans of the marts it rebuilt only.

Faults: a run killed mid-publish leaves only hidden staging files, which the next publish
removes (runs hold the run lock, so staging of another run is always a dead run's). A full disk
or a folder the pipeline may not write fails the step with PublishError naming the path; the
previous snapshot and Parquet version stay as they were.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadflow.core import warehouse as warehouse_db
from leadflow.core.errors import LeadflowError
from leadflow.core.settings import SNAPSHOT_NAME

__all__ = ["SNAPSHOT_NAME", "PublishError", "publish_marts"]

log = logging.getLogger(__name__)

KEEP_PARQUET_VERSIONS = 3
FINGERPRINTS = "_publish.fingerprints"  # mart -> fingerprint, inside the snapshot
PARQUET_FINGERPRINTS = "_fingerprints.json"  # the same, inside each Parquet version
STAGING_SUFFIX = ".tmp"
# Errors a retry can cure (space freed, a share back); a permission or read-only mount cannot.
RETRYABLE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN})


class PublishError(LeadflowError):
    """The snapshot could not be written; the previous one is untouched."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish wrote: the snapshot, its Parquet twin, row counts per mart, and the marts
    it had to write anew; or why it published nothing (not a forward run, C9)."""

    published: bool
    reason: str | None = None
    snapshot: str | None = None
    parquet: str | None = None
    marts: dict[str, int] = field(default_factory=dict)
    rewritten: list[str] = field(default_factory=list)
    parquet_rewritten: list[str] = field(default_factory=list)
    reports: str | None = None  # the period reports' folder beside the marts (publish_reports)
    seconds: float = 0.0  # the step's wall time (leadflow.pipeline.timed)


def publish_marts(warehouse: Path, publish_dir: Path, *, run_id: str) -> PublishResult:
    snapshot = publish_dir / SNAPSHOT_NAME
    staging = publish_dir / f".{SNAPSHOT_NAME}.{run_id}{STAGING_SUFFIX}"
    parquet_root = publish_dir / "parquet"
    parquet_staging = parquet_root / f".{run_id}{STAGING_SUFFIX}"
    try:
        parquet_root.mkdir(parents=True, exist_ok=True)
        remove_staging(publish_dir)
        parquet_staging.mkdir()
        written = _write_snapshot(
            warehouse, snapshot, staging, parquet_root / "current", parquet_staging
        )
        log.info(
            "publish: %d marts staged in %s, %d of them rewritten",
            len(written.counts),
            publish_dir,
            len(written.rewritten),
        )
        version_dir = _free_version_dir(parquet_root, run_id)
        parquet_staging.rename(version_dir)
        os.replace(staging, snapshot)  # atomic on one file system
        _switch_symlink(parquet_root / "current", version_dir)
    except Exception as exc:
        _discard(staging, parquet_staging)
        if not _is_storage_fault(exc):
            raise
        raise _publish_error(exc, publish_dir) from exc
    _prune(parquet_root, keep=version_dir)
    log.info("published %s", snapshot)
    return PublishResult(
        published=True,
        snapshot=str(snapshot),
        parquet=str(parquet_root / "current"),
        marts=written.counts,
        rewritten=written.rewritten,
        parquet_rewritten=written.parquet_rewritten,
    )


class _Written:
    """What a publish staged: row counts per mart, and which marts it had to write anew."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.rewritten: list[str] = []
        self.parquet_rewritten: list[str] = []


def _write_snapshot(
    warehouse: Path, snapshot: Path, staging: Path, current_parquet: Path, parquet_dir: Path
) -> _Written:
    """Every mart into the staging DuckDB file and one Parquet file each, writing only the
    marts whose fingerprint differs from the published one's."""
    from leadflow.marts_release import mart_versions  # imports duckdb

    published = _snapshot_fingerprints(snapshot)
    if published is not None:
        shutil.copyfile(snapshot, staging)  # unchanged marts travel as bytes, not as rows
    else:
        published = {}
    previous = {mart: fingerprint for mart, (fingerprint, _) in published.items()}
    written = _Written()
    with warehouse_db.connect(staging) as con:
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        marts = _mart_names(con)
        versions = mart_versions(con, "wh")
        fingerprints = {
            mart: _known_fingerprint(published.get(mart), versions.get(mart))
            or _fingerprint(con, f'wh.marts."{mart}"')
            for mart in marts
        }
        changed = [m for m in marts if previous.get(m) != fingerprints[m]]
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE SCHEMA IF NOT EXISTS _publish")
        for mart in changed + [m for m in previous if m not in fingerprints]:
            con.execute(f'DROP TABLE IF EXISTS marts."{mart}"')
        con.execute("CHECKPOINT")  # the dropped marts' blocks are reused, the file stays small
        for mart in changed:
            con.execute(f'CREATE TABLE marts."{mart}" AS SELECT * FROM wh.marts."{mart}"')
        con.execute("DETACH wh")
        con.execute(
            f"CREATE OR REPLACE TABLE {FINGERPRINTS} "
            "(mart VARCHAR, fingerprint VARCHAR, mart_version VARCHAR)"
        )
        con.executemany(
            f"INSERT INTO {FINGERPRINTS} VALUES (?, ?, ?)",
            [[mart, fp, versions.get(mart)] for mart, fp in fingerprints.items()],
        )
        exported = _parquet_fingerprints(current_parquet)
        for mart in marts:
            if not _reuse_parquet(mart, fingerprints[mart], exported, current_parquet, parquet_dir):
                target = parquet_dir / (mart + ".parquet")
                con.execute(f"COPY marts.\"{mart}\" TO '{target}' (FORMAT parquet)")
                written.parquet_rewritten.append(mart)
            written.counts[mart] = int(fingerprints[mart].split(":", 1)[0])
        con.execute("CHECKPOINT")  # everything in the file itself before it is renamed
    (parquet_dir / PARQUET_FINGERPRINTS).write_text(json.dumps(fingerprints, indent=1))
    written.rewritten = changed
    return written


def _mart_names(con: Any) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
            "AND schema_name = 'marts' UNION SELECT view_name FROM duckdb_views() "
            "WHERE database_name = 'wh' AND schema_name = 'marts' ORDER BY 1"
        ).fetchall()
    ]


def _fingerprint(con: Any, relation: str) -> str:
    """`rows:sum:xor:columns` of a relation: equal content (as a multiset of rows, with the
    same columns) gives the same fingerprint; a scan, no write."""
    rows, total, xor = con.execute(
        f"SELECT count(*), coalesce(sum(hash(r)::HUGEINT), 0), coalesce(bit_xor(hash(r)), 0) "
        f"FROM {relation} r"
    ).fetchone()
    columns = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {relation})").fetchall()
    shape = hashlib.sha256(json.dumps(columns).encode()).hexdigest()[:16]
    return f"{rows}:{total}:{xor}:{shape}"


def _known_fingerprint(published: tuple[str, str | None] | None, version: str | None) -> str | None:
    """The published fingerprint of a mart whose view still shows the build it showed then
    (the same slot and run: the same rows), so it need not be scanned again; else None."""
    if published is None or version is None or published[1] != version:
        return None
    return published[0]


def _snapshot_fingerprints(snapshot: Path) -> dict[str, tuple[str, str | None]] | None:
    """The published snapshot's mart -> (fingerprint, mart version it was taken of); None when
    there is none to build on (no snapshot, one from before fingerprints, or one that cannot be
    read). A snapshot from before mart versions gives None for each version."""
    if not snapshot.is_file():
        return None
    import duckdb

    try:
        with duckdb.connect(str(snapshot), read_only=True) as con:
            columns = {
                r[0]
                for r in con.execute(
                    f"SELECT column_name FROM (DESCRIBE {FINGERPRINTS})"
                ).fetchall()
            }
            version = "mart_version" if "mart_version" in columns else "NULL"
            rows = con.execute(
                f"SELECT mart, fingerprint, {version} FROM {FINGERPRINTS}"
            ).fetchall()
    except duckdb.Error:
        return None
    return {mart: (fingerprint, mart_version) for mart, fingerprint, mart_version in rows}


def _parquet_fingerprints(current: Path) -> dict[str, str]:
    try:
        return json.loads((current / PARQUET_FINGERPRINTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _reuse_parquet(
    mart: str, fingerprint: str, published: dict[str, str], current: Path, parquet_dir: Path
) -> bool:
    """Hard-link the published file of an unchanged mart into the new version."""
    source = current / f"{mart}.parquet"
    if published.get(mart) != fingerprint or not source.is_file():
        return False
    try:
        os.link(source.resolve(), parquet_dir / source.name)
    except OSError:
        return False  # a file system without hard links: write it
    return True


def _free_version_dir(parquet_root: Path, run_id: str) -> Path:
    """`parquet/<run_id>`, or `<run_id>.<n>` when a retry of the same run published before."""
    candidate, number = parquet_root / run_id, 0
    while candidate.exists():
        number += 1
        candidate = parquet_root / f"{run_id}.{number}"
    return candidate


def remove_staging(publish_dir: Path) -> list[Path]:
    """Remove the staging files a killed publish left (hidden `.….tmp` names); returns them."""
    leftovers = [p for p in publish_dir.glob(f".{SNAPSHOT_NAME}.*") if STAGING_SUFFIX in p.name]
    leftovers += list((publish_dir / "parquet").glob(f".*{STAGING_SUFFIX}"))
    for path in leftovers:
        log.warning("publish: removing %s, left by an interrupted publish", path)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return leftovers


def _discard(*paths: Path) -> None:
    """Best effort: a failed publish should not leave its half-written staging behind."""
    for path in paths:
        for candidate in (path, path.with_name(path.name + ".wal")):
            try:
                if candidate.is_dir():
                    shutil.rmtree(candidate)
                else:
                    candidate.unlink(missing_ok=True)
            except OSError:
                pass  # the folder refused writes already; the next publish tries again


def _is_storage_fault(exc: BaseException) -> bool:
    """A fault of the disk or the folder (reported by the OS or by DuckDB), not of the code."""
    import duckdb

    return isinstance(exc, OSError | duckdb.IOException | duckdb.PermissionException) or (
        isinstance(exc, duckdb.Error) and _errno(exc) is not None
    )


def _publish_error(exc: Exception, publish_dir: Path) -> PublishError:
    number = _errno(exc)
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
    }.get(number, f"{type(exc).__name__}: {exc}")
    detail = f" ({exc})" if number is not None else ""
    return PublishError(
        f"cannot publish the BI snapshot to {publish_dir}: {reason}{detail}; "
        f"the previous snapshot {publish_dir / SNAPSHOT_NAME} is unchanged",
        retryable=number in RETRYABLE_ERRNOS,
    )


def _errno(exc: BaseException) -> int | None:
    """The OS error behind `exc`; DuckDB reports one only in its message text."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    text = str(exc).lower()
    for number, words in (
        (errno.ENOSPC, "no space left"),
        (errno.EDQUOT, "quota exceeded"),
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
    ):
        if words in text:
            return number
    return None


def _switch_symlink(link: Path, target: Path) -> None:
    temporary = link.with_name(link.name + ".new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name, target_is_directory=True)
    os.replace(temporary, link)


def _prune(parquet_root: Path, keep: Path) -> None:
    versions = sorted(
        (
            p
            for p in parquet_root.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        ),
        key=lambda p: p.stat().st_mtime,
    )
    for old in versions[:-KEEP_PARQUET_VERSIONS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


REPORTS_FOLDER = "periods"  # the period reports (R11) under the reports dir


def publish_reports(reports_dir: Path, publish_dir: Path, *, run_id: str) -> str | None:
    """The period reports beside the marts: reports/periods copied whole to
    publish/reports/periods, staged under a hidden name, then swapped in (a reader sees the old
    or the new folder, never half of one). Returns that folder; None when there is no report."""
    source = reports_dir / REPORTS_FOLDER
    if not source.is_dir():
        return None
    target_root = publish_dir / "reports"
    target = target_root / REPORTS_FOLDER
    staging = target_root / f".{REPORTS_FOLDER}.{run_id}{STAGING_SUFFIX}"
    old = target_root / f".{REPORTS_FOLDER}.{run_id}.old"
    try:
        target_root.mkdir(parents=True, exist_ok=True)
        for leftover in target_root.glob(f".{REPORTS_FOLDER}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("*.tmp"))
        if target.exists():
            target.rename(old)
        staging.rename(target)
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)  # put the previous reports back
        if not _is_storage_fault(exc):
            raise
        raise _publish_error(exc, publish_dir) from exc
    shutil.rmtree(old, ignore_errors=True)
    return str(target)
