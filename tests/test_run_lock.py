"""One run at a time (issue 19): the run lock beside the warehouse, shared by CLI and DAG."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leadflow.core.errors import LeadflowError
from leadflow.run_lock import RunInProgress, lock_path, read_holder, run_lock, wait_seconds
from tests.e2e_support import BIN, REPO

HOLD = """
import os, signal, sys, time
from pathlib import Path
from leadflow.run_lock import run_lock
with run_lock(Path(sys.argv[1]), what="test holder", wait=0):
    print("held", flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)  # dies holding it: no release, no cleanup
    if sys.argv[2] == "duckdb":
        import duckdb
        con = duckdb.connect(sys.argv[1])  # a run writing the warehouse
    time.sleep(float(sys.argv[3]))
"""


def hold(warehouse: Path, mode: str = "sleep", seconds: float = 30) -> subprocess.Popen[str]:
    """Another process holding the lock; returns once it holds it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), mode, str(seconds)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LEADFLOW"))}
    return {**env, **extra}


def test_a_second_run_exits_non_zero_naming_the_holder_without_a_traceback(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    (tmp_path / "inbox").mkdir()
    holder = hold(warehouse)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [str(BIN / "leadflow"), "run", "--warehouse", str(warehouse), "--wait", "1"],
            env=cli_env(LEADFLOW_DATA_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 75
    assert f"another run is in progress (pid {holder.pid}, since " in done.stderr
    assert "test holder" in done.stderr and str(lock_path(warehouse)) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert elapsed >= 1  # it waited the bounded time first
    assert not warehouse.exists()  # nothing was touched


def test_a_run_waits_for_the_lock_up_to_its_bound(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    holder = hold(warehouse, seconds=1.5)
    started = time.monotonic()
    with run_lock(warehouse, what="waiter", wait=30) as me:
        waited = time.monotonic() - started
        assert me.pid == os.getpid()
    holder.wait()
    assert 0.5 < waited < 15


def test_the_wait_is_bounded_and_the_message_names_pid_and_start(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    holder = hold(warehouse)
    try:
        started = time.monotonic()
        with pytest.raises(RunInProgress) as raised, run_lock(warehouse, what="x", wait=0.6):
            pass
        elapsed = time.monotonic() - started
        held_by = read_holder(lock_path(warehouse))
    finally:
        holder.kill()
        holder.wait()
    assert 0.5 < elapsed < 5
    assert held_by is not None and held_by.pid == holder.pid
    assert f"another run is in progress (pid {holder.pid}, since {held_by.since})" in str(
        raised.value
    )
    assert raised.value.retryable


def test_a_lock_left_by_a_killed_process_is_taken_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warehouse = tmp_path / "wh.duckdb"
    dead = hold(warehouse, mode="die")
    assert dead.wait() == -signal.SIGKILL
    stale = read_holder(lock_path(warehouse))
    assert stale is not None and stale.pid == dead.pid  # the file still names the dead holder
    with (
        caplog.at_level(logging.WARNING, logger="leadflow.run_lock"),
        run_lock(warehouse, what="next run", wait=0),
    ):
        now = json.loads(lock_path(warehouse).read_text())
    assert now["pid"] == os.getpid() and now["what"] == "next run"
    assert {"pid", "host", "since", "what"} <= set(now)
    assert f"left by pid {dead.pid}" in caplog.text and "no longer running" in caplog.text
    assert lock_path(warehouse).read_text() == ""  # released cleanly: nothing to take over


def test_a_lock_file_naming_a_dead_pid_but_not_locked_is_taken_over(tmp_path: Path) -> None:
    """E.g. copied from another machine, or written by a process whose pid is long gone."""
    warehouse = tmp_path / "wh.duckdb"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], text=True,
                          capture_output=True).stdout.strip()  # fmt: skip
    lock_path(warehouse).write_text(
        json.dumps({"pid": int(gone), "host": os.uname().nodename, "since": "t", "what": "old"})
    )
    with run_lock(warehouse, what="new", wait=0) as me:
        assert me.what == "new"


def test_a_process_holding_the_lock_may_take_it_again(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    with run_lock(warehouse, what="outer"), run_lock(warehouse, what="inner", wait=0):
        assert read_holder(lock_path(warehouse)).what == "outer"


def test_the_wait_setting_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_RUN_LOCK_WAIT_SECONDS", "soon")
    with pytest.raises(LeadflowError, match="LEADFLOW_RUN_LOCK_WAIT_SECONDS"):
        wait_seconds()
    monkeypatch.setenv("LEADFLOW_RUN_LOCK_WAIT_SECONDS", "2.5")
    assert wait_seconds(600) == 2.5
    monkeypatch.delenv("LEADFLOW_RUN_LOCK_WAIT_SECONDS")
    assert wait_seconds(600) == 600


def test_summary_while_a_run_writes_the_warehouse_says_so(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    holder = hold(warehouse, mode="duckdb")
    try:
        done = subprocess.run(
            [str(BIN / "leadflow"), "summary", "--warehouse", str(warehouse)],
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 75  # try again later, as for a held run lock
    assert f"is being written by a run (pid {holder.pid}, since" in done.stderr
    assert "Traceback" not in done.stderr


# --- the DAG: another run in progress is retried, a fault only a person can fix is not ----------


@pytest.fixture(scope="module")
def dag_module():
    spec = importlib.util.spec_from_file_location(
        "lead_pipeline_dag", REPO / "dags" / "lead_pipeline.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def task_context(dag_module, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv("LEADFLOW_WAREHOUSE", str(warehouse))
    monkeypatch.setattr(dag_module, "get_current_context", lambda: {"run_id": "manual__1"})
    return warehouse


def test_dag_task_fails_retryably_while_another_run_holds_the_lock(
    dag_module, task_context: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    monkeypatch.setenv("LEADFLOW_RUN_LOCK_WAIT_SECONDS", "0")
    holder = hold(task_context)
    try:
        with pytest.raises(AirflowException) as raised:
            dag_module._locked("ingest", lambda: {"ran": True})
    finally:
        holder.kill()
        holder.wait()
    assert not isinstance(raised.value, AirflowFailException)  # Airflow retries it
    assert f"another run is in progress (pid {holder.pid}" in str(raised.value)
    assert dag_module._locked("ingest", lambda: {"ran": True}) == {"ran": True}


def test_dag_task_fails_for_good_on_a_fault_only_a_person_can_fix(
    dag_module, task_context: Path
) -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    def read_only_folder() -> dict:
        raise LeadflowError("cannot publish to /srv/publish: read-only", retryable=False)

    def full_disk() -> dict:
        raise LeadflowError("cannot publish to /srv/publish: the disk is full", retryable=True)

    with pytest.raises(AirflowFailException, match="/srv/publish: read-only"):
        dag_module._locked("publish", read_only_folder)
    with pytest.raises(AirflowException, match="disk is full") as raised:
        dag_module._locked("publish", full_disk)
    assert not isinstance(raised.value, AirflowFailException)
    assert lock_path(task_context).read_text() == ""  # released after the failure


def test_each_kind_of_error_maps_to_airflow_in_one_place(dag_module) -> None:
    """Terminal errors fail the task at once, transient ones are retried, bugs pass unchanged."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from leadflow.core import errors

    terminal = [errors.BuildFailed("x"), errors.ConfigurationError("x"), errors.InboxMissing("x")]
    transient = [errors.MailNotDelivered("x"), errors.TransientError("x")]
    for exc in terminal:
        assert isinstance(dag_module.airflow_error(exc), AirflowFailException), exc
    for exc in transient:
        mapped = dag_module.airflow_error(exc)
        assert isinstance(mapped, AirflowException), exc
        assert not isinstance(mapped, AirflowFailException), exc
    bug = KeyError("a bug")
    assert dag_module.airflow_error(bug) is bug


def test_in_airflow_a_busy_lock_is_retried_and_a_fault_a_person_must_fix_is_not(
    tmp_path: Path,
) -> None:
    """The real Airflow (`airflow tasks test`): the ingest task, while another process holds the
    lock, ends up_for_retry; with a warehouse path that cannot exist, failed (no retries)."""
    from tests.e2e_support import airflow_env

    home, data = tmp_path / "airflow", tmp_path / "data"
    home.mkdir()
    env = airflow_env(home, data, LEADFLOW_RUN_LOCK_WAIT_SECONDS="1")
    airflow = str(BIN / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)

    def ingest_task(**extra: str) -> str:
        done = subprocess.run(
            [airflow, "tasks", "test", "lead_pipeline", "ingest", "2026-11-20"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.stdout + done.stderr

    holder = hold(data / "warehouse" / "leadflow.duckdb")
    try:
        busy = ingest_task()
    finally:
        holder.kill()
        holder.wait()
    assert f"another run is in progress (pid {holder.pid}" in busy
    assert "new_state=up_for_retry" in busy, busy[-3000:]
    (tmp_path / "a-file").write_text("not a folder")
    wrong = ingest_task(LEADFLOW_WAREHOUSE=str(tmp_path / "a-file" / "wh.duckdb"))
    assert "cannot open the run lock" in wrong
    assert "new_state=failed" in wrong, wrong[-3000:]
