"""File handling: content hashes, moves to `archive/` and `failed/` (nothing is ever deleted), and
the per-file error CSV a person opens in a spreadsheet.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

from ingest.landing import FileResult
from ingest.readers import QuarantinedRow


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_error_report(
    reports_dir: Path, result: FileResult, problems: list[QuarantinedRow], file_error: str | None
) -> Path | None:
    """A CRM-style import error file; cells that Excel would run as formulas are neutralised.
    A file that loads without problems removes the stale report of an earlier attempt."""
    out = error_report_path(reports_dir, result.file_name)
    if not problems and not file_error:
        out.unlink(missing_ok=True)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sheet", "row", "reason", "raw_text"])
        if file_error:
            writer.writerow([result.file_name, "", "", file_error, ""])
        for p in problems:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (result.file_name, p.sheet or "", p.row_number, p.reason, p.raw_text)
                ]
            )
    return out


def error_report_path(reports_dir: Path, file_name: str) -> Path:
    return Path(reports_dir) / "errors" / f"{file_name}.errors.csv"


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def move_file(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():  # keep both: nothing is ever deleted
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    return target


def file_away(path: Path, result: FileResult, inbox: Path) -> None:
    """Into `archive/` or `failed/`, at the same place below them as below the inbox."""
    below = Path(result.file_name).parent
    if result.status == "loaded":
        move_file(path, inbox / "archive" / below)
        return
    moved = move_file(path, inbox / "failed" / below)
    moved.with_name(moved.name + ".reason.txt").write_text(
        f"{result.file_name}: {result.error}\n"
        f"To retry once fixed: leadflow retry {result.file_name}\n",
        encoding="utf-8",
    )
