"""Forward runs and backfills (C4, C9): which date a run shows, and what it publishes and mails."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from leadflow.pipeline import notify, run_all
from tests.conftest import AS_OF, SEED
from tests.e2e_support import run_dag_test
from tests.workdirs import workdir_settings
from tools.demo.data import generate


def demo_settings(root: Path):
    generate(root / "inbox", seed=SEED, leads=40, as_of=AS_OF, truth_path=root / "truth.json")
    return workdir_settings(root)


def test_backfill_from_a_2300_utc_logical_date_shows_the_next_business_day_and_stays_quiet(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    generate(data_dir / "inbox", seed=SEED, leads=40, as_of=AS_OF, truth_path=tmp_path / "t.json")
    logical = "2026-11-19T23:00:00+00:00"  # 07:00 on 2026-11-20 in Asia/Shanghai
    run_dag_test(tmp_path / "airflow", data_dir, None, logical, LEADFLOW_TODAY="2026-11-27")
    with duckdb.connect(str(data_dir / "warehouse" / "leadflow.duckdb"), read_only=True) as con:
        as_of_values = con.execute("SELECT DISTINCT as_of FROM marts.ops_owner_queue").fetchall()
        summary = json.loads(con.execute("SELECT summary FROM ops.run_summary").fetchone()[0])
    assert as_of_values == [(AS_OF,)]
    assert summary["publish"]["published"] is False
    assert summary["notify"]["sent"] is False
    assert not list((data_dir / "outbox").rglob("*.eml"))
    assert not (data_dir / "publish").exists()


def test_forward_run_publishes_and_mails_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LEADFLOW_TODAY", AS_OF.isoformat())  # today is the demo's anchor
    settings = demo_settings(tmp_path)
    first = run_all(settings, AS_OF)
    assert first.publish.published is True
    assert first.notify.emails.emails_written > 0
    with duckdb.connect(first.publish.snapshot, read_only=True) as snapshot:
        # every owner with items, plus ops: routing (a forward run) may leave ops no items, but
        # ops hears about the demo's unknown owner name and stale channels anyway
        recipients = snapshot.execute(
            "SELECT count(*) FROM (SELECT owner_email FROM marts.ops_owner_queue "
            "UNION SELECT email FROM marts.dim_owners WHERE owner_name = 'ops')"
        )
        assert recipients.fetchone()[0] == first.notify.emails.emails_written
        routed = first.transform.routing
        assert routed.enabled and sum(routed.assignments.values()) > 0
    again = run_all(settings, AS_OF)  # nothing new, the same date: nothing to do (issue 17)
    assert "nothing new since run" in again.nothing_to_do and again.notify is None
    mailed = notify(settings, AS_OF, send=False).emails  # and mail again sends nothing (C9)
    assert mailed.emails_written == 0
    assert mailed.skipped_already_sent == first.notify.emails.emails_written


def test_backfill_without_send_builds_marts_but_neither_publishes_nor_mails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADFLOW_TODAY", "2026-11-27")
    settings = demo_settings(tmp_path)
    summary = run_all(settings, date(2026, 11, 20))
    assert summary.transform.marts["ops_owner_queue"] > 0
    assert summary.publish.published is False and summary.notify.sent is False
    assert not settings.outbox.exists() or not list(settings.outbox.rglob("*.eml"))
