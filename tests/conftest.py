"""Session fixtures: one real Airflow run of the DAG on demo data, shared by the e2e tests."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from notify import SmtpSettings
from tests.e2e_support import run_dag_test
from tests.notify_fixtures import RecordingHandler, free_port, start_smtp

AS_OF = date(2026, 11, 20)  # a fixed anchor (C4): tests never depend on today
SEED = 7


@dataclass
class DemoRun:
    data_dir: Path
    warehouse: Path
    outbox: Path
    inbox_copy: Path
    truth: dict
    output: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The real DAG once per `make test`: under pytest-xdist every worker is its own session, so
    the first to ask runs it in the folder all workers share, under a lock, and the others wait
    for it and read the same files (every test opens them read-only)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "e2e-demo-run"
    with (shared / "e2e-demo-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (root / "airflow-dags-test.log").exists():
            _run_the_demo_dag(root)
    data_dir = root / "data"
    return DemoRun(
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "leadflow.duckdb",
        outbox=data_dir / "outbox",
        inbox_copy=root / "inbox_copy",
        truth=json.loads((root / "truth.json").read_text(encoding="utf-8")),
        output=(root / "airflow-dags-test.log").read_text(encoding="utf-8"),
    )


def _run_the_demo_dag(root: Path) -> None:
    from tools.demo.data import generate

    if root.exists():  # a worker that died mid-run left it
        shutil.rmtree(root)
    data_dir = root / "data"
    inbox = data_dir / "inbox"
    generate(inbox, seed=SEED, leads=60, as_of=AS_OF, truth_path=root / "truth.json")
    shutil.copytree(inbox, root / "inbox_copy")  # the same files, for the in-process run (C9)
    conf = {"as_of": AS_OF.isoformat(), "send": True}
    output = run_dag_test(root / "airflow_home", data_dir, conf, AS_OF.isoformat())
    (root / "airflow-dags-test.log").write_text(output, encoding="utf-8")  # last: it marks done


@pytest.fixture
def server() -> Iterator[tuple[RecordingHandler, SmtpSettings]]:
    """A real SMTP server on loopback (aiosmtpd) and the settings that reach it."""
    handler, port = RecordingHandler(), free_port()
    controller = start_smtp(handler, port)
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port,
        login=None,
        password=None,
        starttls=False,
        ssl=False,
        from_address="leadflow <leadflow@example.com>",
        timeout=5,
    )
    yield handler, smtp
    controller.stop()
