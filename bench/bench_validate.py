"""Benchmark `validate_loads` on synthetic web-form intake rows (not a test).

    .venv/bin/python bench/bench_validate.py                 # 100k and 1M rows, 5% bad
    .venv/bin/python bench/bench_validate.py --rows 1000000 --bad 0

Each size runs in a fresh process, so peak RSS is that size's own. Prints GX import time
separately, then the validate_loads wall time (GX context, read, validate, write flags, Data
Docs), rows/s and peak RSS; `-v` adds the per-step log lines.
"""

from __future__ import annotations

import argparse
import logging
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = date(2024, 6, 15)
# Bad rows cycle through these problems (one per bad row), so every kind of check fails somewhere.
PROBLEMS = (
    "grade = 'D'",
    "email = 'not-an-email', email_valid = false",
    "phone = '12345', phone_valid = false",
    "phone = '138****5678', phone_valid = false, phone_masked = true",
    "event_at = TIMESTAMP '2030-01-01 00:00'",
    "person_name = NULL",
    "owner_name = 'Nobody'",
)


def build_warehouse(path: Path, rows: int, bad: float) -> None:
    import duckdb

    from leadflow.core.canonical import ENTITIES

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    for entity in ENTITIES.values():
        body = ", ".join(f'"{c}" {t}' for c, t in entity.columns().items())
        con.execute(f"CREATE TABLE raw.{entity.table} ({body})")
    con.execute(
        "CREATE TABLE raw.load_manifest (load_id VARCHAR, channel VARCHAR, entity VARCHAR, "
        "file_name VARCHAR, status VARCHAR, loaded_at TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO raw.owner_records (source_record_id, channel, load_id, row_number, "
        "loaded_at, owner_name) VALUES ('owner_directory:ops', 'owner_directory', 'L0', 1, "
        "TIMESTAMP '2024-06-01', 'ops')"
    )
    con.execute(
        f"""
        INSERT INTO raw.intake_records (source_record_id, record_hash, channel, file_name,
            file_sha256, row_number, load_id, loaded_at, person_name, phone, phone_valid,
            phone_masked, phone_kind, email, email_valid, event_at, event_at_is_date_only,
            grade, owner_name, source_label, original_values)
        SELECT 'web_form:' || i, md5(i::VARCHAR), 'web_form', 'web_forms_bench.json',
            'sha-bench', i, 'L-bench', TIMESTAMP '2024-06-14 02:00', '张三',
            '+86138' || lpad((i % 100000000)::VARCHAR, 8, '0'), true, false, 'mobile',
            'lead' || i || '@corp.cn', true,
            TIMESTAMP '2024-01-01' + INTERVAL (i % 10000000) SECOND, false,
            'A', 'ops', '官网注册', '{{"grade": "A"}}'
        FROM range(1, {rows} + 1) AS t(i)
        """
    )
    n_bad = int(rows * bad)
    step = max(rows // max(n_bad, 1), 1)
    for k, change in enumerate(PROBLEMS):
        con.execute(
            f"UPDATE raw.intake_records SET {change} "
            f"WHERE row_number % {step} = 0 AND (row_number // {step}) % {len(PROBLEMS)} = {k} "
            f"AND row_number // {step} <= {n_bad}"
        )
    con.execute(
        "INSERT INTO raw.load_manifest VALUES "
        "('L-bench', 'web_form', 'intake', 'web_forms_bench.json', 'loaded', "
        "TIMESTAMP '2024-06-14 02:00')"
    )
    con.close()


def run_one(rows: int, bad: float, verbose: bool) -> None:
    if verbose:  # our per-step lines only; GX logs a lot at INFO
        logging.basicConfig(level=logging.WARNING, format="  %(name)s: %(message)s")
        logging.getLogger("expectations").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        build_warehouse(warehouse, rows, bad)
        built = time.perf_counter() - started

        started = time.perf_counter()
        import great_expectations  # noqa: F401  (timed apart: a one-off cost per process)

        imported = time.perf_counter() - started

        from expectations.validate import validate_loads

        started = time.perf_counter()
        summary = validate_loads(
            warehouse,
            ["L-bench"],
            channels_dir=ROOT / "ingest" / "channels",
            as_of=AS_OF,
            business_timezone="Asia/Shanghai",
            reports_dir=Path(tmp) / "reports",
            run_id="bench",
        )
        elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    row_flags = summary.flags - summary.flags_by_check.get("channel_stale", 0)
    print(
        f"{rows:>9,} rows, {bad:.0%} bad: validate_loads {elapsed:6.1f} s "
        f"({rows / elapsed:,.0f} rows/s), {row_flags:,} row flags, peak RSS {peak_mb:,.0f} MB "
        f"[GX import {imported:.1f} s, synthetic data {built:.1f} s]",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="default: 100000 and 1000000")
    parser.add_argument("--bad", type=float, default=0.05, help="share of bad rows (0.05)")
    parser.add_argument("-v", "--verbose", action="store_true", help="per-step timings")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    if args.child:
        run_one(sizes[0], args.bad, args.verbose)
        return
    for rows in sizes:  # a fresh process per size: independent import cost and peak RSS
        command = [sys.executable, __file__, "--child", "--rows", str(rows), "--bad", str(args.bad)]
        subprocess.run([*command, *(["-v"] if args.verbose else [])], check=True)


if __name__ == "__main__":
    main()
