"""The console a person reads during `leadflow run` (issue 14): the live display on a terminal
and the plain lines elsewhere both end in one line per step."""

from __future__ import annotations

import io
import time

import pytest

from ingest.landing import FileResult
from leadflow.console import ConsoleReporter, file_line, step_line
from leadflow.core import progress
from leadflow.results import BuildResult, NotifyResult, Routing
from leadflow.routing_rules import LoadedRules


def build_result(*, nodes: int, warned: int, marts: dict[str, int]) -> BuildResult:
    rules = LoadedRules("routing.yaml", "0" * 64, rules=1, pools=1, pool_members=1)
    return BuildResult(
        nodes=nodes, failed=0, warned=warned, inputs=None, kind="forward", full_refresh=False,
        build="full", build_reason="new loads",
        routing=Routing(enabled=False, assignments={}, rules=rules), marts=marts,
        load_reports=0, load_report_index=None, seconds=2.5,
    )  # fmt: skip


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("out", [Terminal(), io.StringIO()], ids=["terminal", "pipe"])
def test_a_long_step_shows_progress_and_ends_in_its_line(
    out: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADFLOW_PROGRESS_SECONDS", "0.05")
    reporter = ConsoleReporter(out)
    with progress.reporting_to(reporter):
        progress.step_started("transform")
        for done in range(1, 4):
            progress.advance("transform", done, 3, f"model {done}")
            time.sleep(0.06)
        progress.step_finished("transform", build_result(nodes=3, warned=1, marts={"a": 1}))
    reporter.close()
    text = out.getvalue()
    assert "transform  dbt build of 3 nodes: 0 failed, 1 warnings; 1 marts  2.5 s" in text
    if not isinstance(out, Terminal):
        assert "… transform running for 0 s, " in text and " of 3 done" in text


def test_file_and_step_lines_say_what_happened() -> None:
    loaded = FileResult(
        file_name="expo/badge_scans_1.csv", status="loaded", channel="badge_scan",
        entity="intake", load_id="l1", rows_in_file=21, records_added=20,
        rows_already_loaded=0, rows_quarantined=1, seconds=0.31,
        notes=["export_id header `id` not found"],
    )  # fmt: skip
    assert file_line(loaded) == (
        "  loaded   expo/badge_scans_1.csv (badge_scan): 21 rows, 20 added, 1 quarantined  0.3 s"
        "\n           note: export_id header `id` not found"
    )
    rejected = FileResult("x.csv", None, None, "l2", "rejected", error="no channel matches")
    assert file_line(rejected) == "  REJECTED x.csv: no channel matches"
    skipped = NotifyResult(sent=False, reason="backfill run: no mail (C9)", seconds=0)
    assert step_line("notify", skipped) == ("notify     backfill run: no mail (C9)  0.0 s")
