"""Benchmark `leadflow check` on every shipped sample: seconds per file against 5 s (not a test).

.venv/bin/python bench/bench_check.py [--leads 60] [--as-of 2026-11-20]

Each file is checked by the real command in a fresh process (`leadflow check FILE
--no-warehouse`), so the figure includes Python's and the libraries' start-up: what a person
waits for at the terminal. Samples: the demo exports (`leadflow demo-data`) and the real exports
in tests/data/realdata.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 5.0
REALDATA = REPO / "tests" / "data" / "realdata"
REAL_FILES = [
    ("olist_marketing_funnel/olist_marketing_qualified_leads_dataset.csv", "America/Sao_Paulo"),
    ("olist_marketing_funnel/olist_closed_deals_dataset.csv", "America/Sao_Paulo"),
    ("maven_crm_sales_opportunities/sales_pipeline.csv", "America/New_York"),
]


def check_seconds(path: Path, timezone: str) -> tuple[float, int]:
    leadflow = Path(sys.executable).with_name("leadflow")
    env = {"LEADFLOW_TIMEZONE": timezone, "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(leadflow), "check", str(path), "--no-warehouse"], env=env, capture_output=True
    )
    return time.perf_counter() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=60)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 20))
    args = parser.parse_args()
    from tools.demo.data import generate

    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        inbox = Path(tmp) / "inbox"
        generate(inbox, seed=7, leads=args.leads, as_of=args.as_of, truth_path=Path(tmp) / "t.json")
        files = [(p, "Asia/Shanghai") for p in sorted(inbox.iterdir())]
        files += [(REALDATA / name, zone) for name, zone in REAL_FILES]
        worst = 0.0
        for path, zone in files:
            seconds, code = check_seconds(path, zone)
            worst = max(worst, seconds)
            verdict = "met" if seconds < TARGET_SECONDS else "MISSED"
            size = path.stat().st_size / 1024
            target = f"{verdict} (< {TARGET_SECONDS:.0f} s)"
            print(f"{path.name:<52} {size:8.0f} KB {seconds:6.2f} s  {target}  exit {code}")
        overall = "met" if worst < TARGET_SECONDS else "MISSED"
        print(f"leadflow check: slowest {worst:.2f} s per file, target {overall}")


if __name__ == "__main__":
    main()
