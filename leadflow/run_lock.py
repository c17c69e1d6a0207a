"""One run at a time: a lock file beside the warehouse, shared by `leadflow run` and the DAG.

`<warehouse>.lock` is held with `flock`. The kernel releases it when its holder dies, however it
dies (SIGKILL, the OOM killer, a power cut of the container), so a lock left by a dead process
is simply free: the next run takes it over and says so. The file's content (pid, host, start
time, what holds it) is only for messages; it is emptied on a clean release, so content found
on taking the lock means the previous holder died holding it.

`leadflow run` holds the lock for the whole run; each DAG task holds it for its step (a lock
cannot outlive a process, and every step resumes from durable state, see docs/operations.md).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from leadflow.core.errors import LeadflowError, TransientError
from leadflow.core.settings import RUN_LOCK_WAIT_ENV as WAIT_ENV
from leadflow.core.settings import run_lock_wait_seconds as wait_seconds

__all__ = ["WAIT_ENV", "wait_seconds"]  # where a run reads how long it waits for the lock

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
_held: dict[str, int] = {}  # lock paths this process holds -> depth (re-entrant in a process)


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    since: str  # ISO 8601, UTC
    what: str

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on host {self.host}"
        return f"pid {self.pid}{where}, since {self.since}"


class RunInProgress(TransientError):
    """Another run holds the warehouse: worth trying again once it is done."""

    def __init__(self, path: Path, holder: Holder | None, waited: float) -> None:
        who = holder.describe() if holder else "holder unknown"
        what = f": {holder.what}" if holder and holder.what else ""
        super().__init__(
            f"another run is in progress ({who}){what}; waited {waited:.0f} s for lock {path}"
        )
        self.holder = holder


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def read_holder(path: Path) -> Holder | None:
    """Who the lock file names (the current holder while it is held), None if nobody."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text) if text else None
        return Holder(int(data["pid"]), str(data["host"]), str(data["since"]), str(data["what"]))
    except (ValueError, TypeError, KeyError):
        return None


def current_holder(warehouse: Path) -> Holder | None:
    """Who the warehouse's lock file names: the holder while a run holds it. Read without
    locking, so asking never makes a starting run believe the lock is taken."""
    return read_holder(lock_path(Path(warehouse)))


@contextmanager
def run_lock(warehouse: Path, *, what: str, wait: float = 0) -> Iterator[Holder]:
    """Hold the warehouse's run lock; wait up to `wait` seconds for it, else RunInProgress."""
    path = lock_path(Path(warehouse))
    key = str(path.resolve())
    if key in _held:  # already ours: a step called inside a run
        _held[key] += 1
        try:
            yield read_holder(path) or _me(what)
        finally:
            _held[key] -= 1
        return
    fd = _open(path)
    try:
        _acquire(fd, path, wait)
        _report_takeover(path)
        me = _me(what)
        _write(fd, me)
        _held[key] = 1
        try:
            yield me
        finally:
            del _held[key]
            os.ftruncate(fd, 0)  # a clean release leaves an empty file
    finally:
        os.close(fd)  # closing drops the flock


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    except OSError as exc:
        raise LeadflowError(
            f"cannot open the run lock {path}: {exc.strerror or exc}",
            retryable=exc.errno in (errno.ENOSPC, errno.EAGAIN),
        ) from None


def _acquire(fd: int, path: Path, wait: float) -> None:
    started = time.monotonic()
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - started
        if waited >= wait:
            raise RunInProgress(path, read_holder(path), waited)
        if not announced:
            holder = read_holder(path)
            log.info(
                "another run is in progress (%s); waiting up to %.0f s",
                holder.describe() if holder else "holder unknown",
                wait,
            )
            announced = True
        time.sleep(min(POLL_SECONDS, wait - waited))


def _report_takeover(path: Path) -> None:
    """Content left in a free lock file: its holder died without releasing it."""
    stale = read_holder(path)
    if stale is None:
        return
    state = "no longer running" if not _alive(stale) else "running but no longer holding it"
    log.warning(
        "taking over the run lock %s left by pid %s (since %s, %s): %s",
        path,
        stale.pid,
        stale.since,
        state,
        stale.what,
    )


def _alive(holder: Holder) -> bool:
    if holder.host != socket.gethostname():
        return False  # cannot tell; the free flock says it does not hold the lock
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me(what: str) -> Holder:
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return Holder(os.getpid(), socket.gethostname(), since, what)


def _write(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(asdict(holder)) + "\n").encode("utf-8"), 0)
