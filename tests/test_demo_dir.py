"""`make demo` never deletes user data (issue 14): it started with `rm -rf data .airflow`, so a
second run after a person dropped files into data/inbox deleted them, the warehouse and the
send ledger. The demo now owns one marked folder and refuses any other."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from leadflow.cli import main
from tests.e2e_support import REPO
from tools.demo.data import DEMO_MARKER


def test_a_folder_with_a_persons_files_is_refused_and_left_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    (data / "inbox" / "badge_scans_mine.csv").write_text("mine", encoding="utf-8")
    (data / "warehouse").mkdir()
    (data / "warehouse" / "leadflow.duckdb").write_bytes(b"my warehouse")
    assert main(["demo-dir", str(data)]) == 2
    assert "holds files the demo did not write" in capsys.readouterr().err
    assert (data / "inbox" / "badge_scans_mine.csv").read_text(encoding="utf-8") == "mine"
    assert (data / "warehouse" / "leadflow.duckdb").read_bytes() == b"my warehouse"


def test_the_demos_own_folder_is_reset_unless_files_wait_in_its_inbox(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    demo = tmp_path / "demo"
    assert main(["demo-dir", str(demo)]) == 0  # absent: created and marked
    assert (demo / DEMO_MARKER).is_file()
    (demo / "inbox" / "archive").mkdir(parents=True)
    (demo / "inbox" / "archive" / "owners.csv").write_text("demo", encoding="utf-8")
    (demo / "inbox" / "dropped_by_hand.csv").write_text("mine", encoding="utf-8")
    assert main(["demo-dir", str(demo)]) == 2
    assert "dropped_by_hand.csv" in capsys.readouterr().err
    assert (demo / "inbox" / "dropped_by_hand.csv").exists()
    (demo / "inbox" / "dropped_by_hand.csv").unlink()
    assert main(["demo-dir", str(demo)]) == 0  # only the demo's own files: emptied
    assert sorted(p.name for p in demo.iterdir()) == [DEMO_MARKER]


def test_make_demo_resets_only_its_own_folder() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndemo: install\n", 1)[1].split("\n\n", 1)[0]
    assert "rm -rf" not in recipe
    assert recipe.splitlines()[0].strip() == "$(BIN)/leadflow demo-dir $(DEMO_DIR)"
    assert re.search(r"^DEMO_DIR \?= \$\(CURDIR\)/data/demo$", makefile, re.M)
    dry = subprocess.run(
        # --no-print-directory: under `make test` the nested make announces its folder, whose
        # name (a clone called leadflow) would otherwise pass for a command
        ["make", "--no-print-directory", "-n", "demo", "DEMO_DIR=/tmp/leadflow-demo-dry-run",
         "AS_OF=2026-11-20"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    commands = [line for line in dry.splitlines() if "leadflow" in line]
    assert "demo-dir /tmp/leadflow-demo-dry-run" in commands[0]
    assert not re.search(r"rm -rf \S*data\b", dry)
