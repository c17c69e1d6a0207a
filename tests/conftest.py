"""Session fixtures: one real Airflow run of the DAG on demo data, shared by the e2e tests."""

from __future__ import annotations

import json
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
    from tools.demo.data import generate

    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    inbox = data_dir / "inbox"
    generate(inbox, seed=SEED, leads=60, as_of=AS_OF, truth_path=root / "truth.json")
    inbox_copy = root / "inbox_copy"
    shutil.copytree(inbox, inbox_copy)  # the same files, for the in-process run (C9)
    conf = {"as_of": AS_OF.isoformat(), "send": True}
    output = run_dag_test(root / "airflow_home", data_dir, conf, AS_OF.isoformat())
    return DemoRun(
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "leadflow.duckdb",
        outbox=data_dir / "outbox",
        inbox_copy=inbox_copy,
        truth=json.loads((root / "truth.json").read_text(encoding="utf-8")),
        output=output,
    )


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
