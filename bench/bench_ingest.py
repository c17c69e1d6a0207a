"""Benchmark ingest on badge-scan CSVs: rows/second and peak memory (not a test).

.venv/bin/python bench/bench_ingest.py --rows 1000000 [--encoding gbk]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.loader import ingest_inbox  # noqa: E402

HEADER = "扫码时间,姓名,职位,公司,行业,手机,邮箱,城市,展位接待,备注\n"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
TITLES = ["采购总监", "IT经理", "总经理", "财务经理", "运营主管"]
CITIES = ["上海", "北京", "深圳", "苏州", "杭州", "成都", "武汉"]
INDUSTRIES = ["制造业", "零售", "医疗", "教育", "物流", "金融", "软件"]


def write_csv(path: Path, rows: int, encoding: str, seed: int = 1) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding=encoding, newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            out.write(
                f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d} "
                f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d},{name},{rng.choice(TITLES)},"
                f"公司{i % 50000}有限公司,{rng.choice(INDUSTRIES)},{phone},"
                f"u{i}@corp{i % 5000}.cn,{rng.choice(CITIES)},,\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", default="utf-8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inbox = root / "inbox"
        inbox.mkdir()
        started = time.monotonic()
        write_csv(inbox / "badge_scans_bench.csv", args.rows, args.encoding)
        size = (inbox / "badge_scans_bench.csv").stat().st_size
        print(
            f"generated {args.rows:,} rows ({size / 1e6:.0f} MB, {args.encoding}) "
            f"in {time.monotonic() - started:.1f} s"
        )
        started = time.monotonic()
        result = ingest_inbox(
            root / "wh.duckdb",
            inbox,
            Path("ingest/channels"),
            run_id="bench",
            business_timezone="Asia/Shanghai",
            reports_dir=root / "reports",
        )
        seconds = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"ingested {result.records_added:,} records in {seconds:.1f} s: "
            f"{args.rows / seconds:,.0f} rows/s, peak RSS {peak_mb:,.0f} MB"
        )


if __name__ == "__main__":
    main()
