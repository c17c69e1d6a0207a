"""The console a person reads during `leadflow run` (issue 14): the live display on a terminal
and the plain lines elsewhere both end in one line per step."""

from __future__ import annotations

import io
import time

import pytest

from leadflow.console import ConsoleReporter, file_line, step_line
from leadflow.core import progress


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
        progress.step_finished(
            "transform", {"nodes": 3, "failed": 0, "warned": 1, "marts": {"a": 1}, "seconds": 2.5}
        )
    reporter.close()
    text = out.getvalue()
    assert "transform  dbt build of 3 nodes: 0 failed, 1 warnings; 1 marts  2.5 s" in text
    if not isinstance(out, Terminal):
        assert "… transform running for 0 s, " in text and " of 3 done" in text


def test_file_and_step_lines_say_what_happened() -> None:
    loaded = {
        "file_name": "expo/badge_scans_1.csv", "status": "loaded", "channel": "badge_scan",
        "rows_in_file": 21, "records_added": 20, "rows_already_loaded": 0,
        "rows_quarantined": 1, "seconds": 0.31, "notes": ["export_id header `id` not found"],
    }  # fmt: skip
    assert file_line(loaded) == (
        "  loaded   expo/badge_scans_1.csv (badge_scan): 21 rows, 20 added, 1 quarantined  0.3 s"
        "\n           note: export_id header `id` not found"
    )
    rejected = {"file_name": "x.csv", "status": "rejected", "error": "no channel matches"}
    assert file_line(rejected) == "  REJECTED x.csv: no channel matches"
    assert step_line("notify", {"reason": "backfill run: no mail (C9)", "seconds": 0}) == (
        "notify     backfill run: no mail (C9)  0.0 s"
    )
