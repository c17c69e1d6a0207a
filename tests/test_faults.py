"""Fault injection: real `leadflow run` processes killed with SIGKILL at every step, then run again.

One demo inbox; an uninterrupted run on a copy of it is the reference. The other copy goes
through a chain of runs, each killed at a point of a later step (tests/fault_harness.py), and
one last run that completes: mid-file in ingest, after a file's commit before it is archived,
mid-validation, mid-build (after the incremental routing log), mid-publish, between two emails.
Each run resumes from what the killed one left in the warehouse, inbox, publish folder and send
ledger. At the end the raw tables, flags, every dbt table, the BI snapshot and the ledger equal
the reference's (EXCEPT ALL both ways, audit columns aside), and every owner got exactly one
email (a real SMTP server, aiosmtpd).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from leadflow.publish import SNAPSHOT_NAME
from tests.conftest import AS_OF, SEED
from tests.e2e_support import BIN, REPO
from tests.fault_harness import KILLED
from tests.notify_fixtures import RecordingHandler, free_port, start_smtp
from tests.warehouse_compare import BUILD_STATE, differences, parquet_differences
from tools.demo.data import generate

CHAIN = (
    "ingest.mid_file",
    "ingest.before_archive",
    "validate.mid_batch",
    "build.after_routing",
    "publish.before_swap",
    "notify.between_emails",
)
# Every table the pipeline keeps, but ops (run audit), the load manifest (a re-dropped file is
# one more load by design: compared per file below) and the list of validated loads (load ids).
SCHEMAS = ("raw", "dq", "config", "staging", "intermediate", "marts", "mail")
SKIP = frozenset({"raw.load_manifest", "dq.validated_loads"}) | BUILD_STATE


@dataclass
class Site:
    """One data folder (inbox, warehouse, publish, outbox) and the SMTP server it mails to."""

    data_dir: Path
    mail: RecordingHandler = field(default_factory=RecordingHandler)
    port: int = field(default_factory=free_port)

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "leadflow.duckdb"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LEADFLOW"))}
        env.update(
            LEADFLOW_DATA_DIR=str(self.data_dir),
            LEADFLOW_TODAY=AS_OF.isoformat(),  # a forward run: it routes, publishes and mails
            AIRFLOW_CONN_SMTP_DEFAULT=f"smtp://127.0.0.1:{self.port}?disable_tls=true"
            "&disable_ssl=true&from_email=leadflow%40example.com",
        )
        return env

    def command(self, point: str | None) -> list[str]:
        args = ["run", "--verbose", "--as-of", AS_OF.isoformat()]  # log lines too
        if point is None:
            return [str(BIN / "leadflow"), *args]
        return [sys.executable, "-m", "tests.fault_harness", point, "--", *args]

    def start(self, point: str | None = None) -> subprocess.Popen[str]:
        log = (self.data_dir.parent / f"{self.data_dir.name}-{point or 'complete'}.log").open("w")
        return subprocess.Popen(
            self.command(point), cwd=REPO, env=self.env(), stdout=log, stderr=log, text=True
        )


@dataclass
class Killed:
    point: str
    returncode: int
    output: str
    dbt_alive_after: list[str] = field(default_factory=list)
    snapshot_existed: bool = False
    staging_left: list[str] = field(default_factory=list)


@dataclass
class Chain:
    reference: Site
    resumed: Site
    killed: dict[str, Killed]
    final_output: str
    final_returncode: int
    seconds: float


def _dbt_processes(target: Path) -> list[str]:
    """Command lines of live processes building into `target` (dbt children of a run)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (proc / "stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if str(target) in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def _run(site: Site, point: str | None) -> tuple[int, str]:
    process = site.start(point)
    returncode = process.wait(timeout=600)
    log = site.data_dir.parent / f"{site.data_dir.name}-{point or 'complete'}.log"
    return returncode, log.read_text(encoding="utf-8", errors="replace")


def _kill_at(site: Site, point: str) -> Killed:
    returncode, output = _run(site, point)
    killed = Killed(point, returncode, output)
    if point == "build.after_routing":
        deadline = time.monotonic() + 10  # the kernel kills the orphan at once; allow slack
        while (alive := _dbt_processes(site.data_dir / "dbt" / "target")) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        killed.dbt_alive_after = alive
    if point == "publish.before_swap":
        publish = site.data_dir / "publish"
        killed.snapshot_existed = (publish / SNAPSHOT_NAME).exists()
        killed.staging_left = sorted(
            p.name for p in [*publish.glob(".*"), *publish.glob("parquet/.*")]
        )
    return killed


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    root = tmp_path_factory.mktemp("faults")
    inbox = root / "demo-inbox"
    generate(inbox, seed=SEED, leads=40, as_of=AS_OF, truth_path=root / "truth.json")
    reference, resumed = Site(root / "reference"), Site(root / "resumed")
    servers = []
    for site in (reference, resumed):
        shutil.copytree(inbox, site.data_dir / "inbox")
        servers.append(start_smtp(site.mail, site.port))
    started = time.monotonic()
    try:
        uninterrupted = reference.start()  # alongside the chain: two cores, half the wait
        killed = {point: _kill_at(resumed, point) for point in CHAIN}
        final_returncode, final_output = _run(resumed, None)
        assert uninterrupted.wait(timeout=600) == 0, (root / "reference-complete.log").read_text()
    finally:
        for server in servers:
            server.stop()
    return Chain(
        reference, resumed, killed, final_output, final_returncode, time.monotonic() - started
    )


@pytest.mark.parametrize("point", CHAIN)
def test_each_run_of_the_chain_was_killed_at_its_point(chain: Chain, point: str) -> None:
    killed = chain.killed[point]
    assert killed.returncode == -9, f"{point}: exit {killed.returncode}\n{killed.output[-3000:]}"
    assert f"{KILLED} {point}" in killed.output


def test_the_run_after_the_kills_completes_and_takes_over_the_dead_runs_lock(
    chain: Chain,
) -> None:
    assert chain.final_returncode == 0, chain.final_output[-5000:]
    assert "taking over the run lock" in chain.final_output
    assert "no longer running" in chain.final_output
    print(f"chain and reference: {chain.seconds:.0f} s")


def test_a_killed_run_takes_its_dbt_child_with_it(chain: Chain) -> None:
    assert not chain.killed["build.after_routing"].dbt_alive_after


def test_a_publish_killed_before_the_swap_leaves_no_snapshot_and_its_staging_is_removed(
    chain: Chain,
) -> None:
    killed = chain.killed["publish.before_swap"]
    assert not killed.snapshot_existed and killed.staging_left  # nothing half-published
    publish = chain.resumed.data_dir / "publish"
    assert not [*publish.glob(".*"), *publish.glob("parquet/.*")]
    # the next run (the one killed in notify) published and removed the staging first
    assert "left by an interrupted publish" in chain.killed["notify.between_emails"].output


def test_raw_tables_flags_models_and_ledger_equal_an_uninterrupted_run(chain: Chain) -> None:
    found = differences(chain.reference.warehouse, chain.resumed.warehouse, SCHEMAS, skip=SKIP)
    assert not found


def test_the_killed_runs_loads_were_validated_by_a_later_run(chain: Chain) -> None:
    """The issue's case: files loaded by a run killed in ingest keep their flags."""
    with duckdb.connect(str(chain.resumed.warehouse), read_only=True) as con:
        unvalidated = con.execute(
            "SELECT file_name FROM raw.load_manifest m WHERE status = 'loaded' AND load_id "
            "NOT IN (SELECT load_id FROM dq.validated_loads)"
        ).fetchall()
        badge_flags = con.execute(
            "SELECT count(*) FROM dq.flags WHERE file_name LIKE 'badge_scans%'"
        ).fetchone()[0]
    assert not unvalidated
    assert badge_flags > 0  # the planted bad trade-show leads


def test_every_file_is_loaded_once_with_the_same_counts(chain: Chain) -> None:
    per_file = (
        "SELECT file_name, file_sha256, channel, sum(records_added), sum(rows_quarantined), "
        "bool_and(rows_in_file = records_added + rows_already_loaded + rows_quarantined) "
        "FROM raw.load_manifest GROUP BY ALL ORDER BY 1"
    )
    with duckdb.connect(str(chain.reference.warehouse), read_only=True) as con:
        expected = con.execute(per_file).fetchall()
    with duckdb.connect(str(chain.resumed.warehouse), read_only=True) as con:
        assert con.execute(per_file).fetchall() == expected
    for site in (chain.reference, chain.resumed):
        inbox = site.data_dir / "inbox"
        assert not [p for p in inbox.iterdir() if p.is_file()]
        assert sorted(p.name for p in (inbox / "archive").iterdir()) == [r[0] for r in expected]


def test_the_bi_snapshot_and_parquet_equal_an_uninterrupted_run(chain: Chain) -> None:
    a, b = (site.data_dir / "publish" for site in (chain.reference, chain.resumed))
    assert not differences(a / SNAPSHOT_NAME, b / SNAPSHOT_NAME, ("marts",))
    assert not parquet_differences(a / "parquet" / "current", b / "parquet" / "current")


def test_every_owner_got_exactly_one_email(chain: Chain) -> None:
    expected = chain.reference.mail.by_recipient()  # asserts one message per recipient
    got = chain.resumed.mail.by_recipient()
    assert expected and set(got) == set(expected)
    assert len(chain.resumed.mail.messages) == len(chain.reference.mail.messages)
    assert {m["Message-ID"] for m in got.values()} == {m["Message-ID"] for m in expected.values()}
