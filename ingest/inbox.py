"""The inbox as people keep it: files at the top or in sub-folders (a folder per channel, per
show, per month), never the `archive/` and `failed/` folders the loader files them into.

A file is named by its path relative to the inbox (`expo/badge_scans_1102.csv`): that name is
its lineage (`file_name` in the raw tables and the manifest), its place under `archive/` and
`failed/`, and the name of its reports. Only the last part of it is matched against the
channels' `files` patterns. Import-light: the DAG's inbox watch calls it.
"""

from __future__ import annotations

from pathlib import Path

from leadflow.core.errors import InboxMissing, NotRetryable

FILED_AWAY = ("archive", "failed")  # where the loader moves files: never scanned again


def require_inbox(inbox: Path) -> Path:
    if not Path(inbox).is_dir():
        raise InboxMissing(
            f"inbox {inbox} does not exist: create it and drop the exports there "
            "(or point LEADFLOW_INBOX / --inbox at the folder that holds them)"
        )
    return Path(inbox)


def inbox_files(inbox: Path) -> list[Path]:
    """Every file waiting in the inbox and its sub-folders, in name order; hidden files and
    folders (`.DS_Store`, `.~lock.x.csv#`) and the loader's own folders are skipped."""
    inbox = require_inbox(inbox)
    found: list[Path] = []
    for path in inbox.rglob("*"):
        parts = path.relative_to(inbox).parts
        if parts[0] in FILED_AWAY or any(p.startswith((".", "~$")) for p in parts):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: relative_name(p, inbox))


def relative_name(path: Path, inbox: Path) -> str:
    """The file's name in lineage and reports: its path below the inbox, with `/`."""
    return Path(path).relative_to(inbox).as_posix()


def failed_files(inbox: Path) -> list[str]:
    """Rejected files waiting in `failed/` (their reason files aside), by name below it."""
    failed = Path(inbox) / "failed"
    if not failed.is_dir():
        return []
    return sorted(
        p.relative_to(failed).as_posix()
        for p in failed.rglob("*")
        if p.is_file() and not p.name.endswith(".reason.txt")
    )


def retry_files(inbox: Path, names: list[str]) -> list[tuple[Path, Path]]:
    """Move rejected files from `failed/` back to their place in the inbox, so the next run
    loads them; their reason files go. A name may be given as below `failed/` (`expo/a.csv`),
    with the `failed/` prefix, or as a path to the file. Nothing moves unless all are found."""
    inbox = require_inbox(inbox).resolve()
    failed = inbox / "failed"
    moves: list[tuple[Path, Path]] = []
    for name in names:
        source = _failed_path(failed, name)
        target = inbox / source.relative_to(failed)
        if target.exists():
            raise NotRetryable(f"{target} already exists: move or rename it before retrying")
        moves.append((source, target))
    for source, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
        source.with_name(source.name + ".reason.txt").unlink(missing_ok=True)
    return moves


def _failed_path(failed: Path, name: str) -> Path:
    given = Path(name).expanduser()
    candidates = [given.resolve()] if given.is_absolute() or given.exists() else []
    text = given.as_posix()
    for prefix in ("inbox/failed/", "failed/"):
        text = text[len(prefix) :] if text.startswith(prefix) else text
    candidates.append(failed / text)
    for candidate in candidates:
        if candidate.is_file() and candidate.resolve().is_relative_to(failed):
            return candidate.resolve()
    waiting = ", ".join(failed_files(failed.parent)) or "none"
    raise NotRetryable(f"{name} is not a rejected file in {failed} (rejected files: {waiting})")
