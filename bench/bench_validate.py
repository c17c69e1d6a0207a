"""Benchmark `validate_loads` on synthetic rows (not a test).

    .venv/bin/python bench/bench_validate.py                 # 100k and 1M web-form rows, 5% bad
    .venv/bin/python bench/bench_validate.py --rows 1000000 --bad 0
    .venv/bin/python bench/bench_validate.py --mix           # the rows over four channels
    .venv/bin/python bench/bench_validate.py --mix --workers 1   # the same, in one process

`--mix` spreads the rows over four batches: follow-ups 53 % as in the 1M-lead demo load (3.4M
of 6.4M rows), web forms 19 %, badge scans 16 %, referrals 12 %: what the two
validation workers split (issue 17); without it, one web-form batch (always one process).
Each size runs in a fresh process, so peak RSS is that size's own (`ru_maxrss` of the process
and, separately, of its largest child: the workers; and the tree's, this process and its workers
together, sampled every 0.1 s: what a memory budget is about). Prints the validate_loads wall
time (GX import and context, read, validate, write flags, Data Docs: what a run pays;
`--warm-gx` imports GX first and prints its time apart), rows/s and peak RSS; `-v` adds the
per-step log lines.
"""

from __future__ import annotations

import argparse
import logging
import os
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
FOLLOW_UP_PROBLEMS = (
    "feedback = '好'",
    "owner_name = 'Nobody'",
    "contacted_at = TIMESTAMP '2030-01-01 00:00'",
    "follow_up_channel = NULL",
    "logged_at = contacted_at - INTERVAL 1 DAY",
)
# --mix: (channel, entity, share of the rows), after the 1M-lead demo load's batches
MIX = (
    ("follow_up", "follow_up", 0.53),
    ("web_form", "intake", 0.19),
    ("badge_scan", "intake", 0.16),
    ("referral_sheet", "intake", 0.12),
)


def build_warehouse(path: Path, rows: int, bad: float, mix: bool = False) -> None:
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
    plan = MIX if mix else (("web_form", "intake", 1.0),)
    first = 1
    for channel, entity, share in plan:
        count = rows - first + 1 if channel == plan[-1][0] else int(rows * share)
        insert = _insert_intake if entity == "intake" else _insert_follow_ups
        insert(con, channel, first, first + count - 1)
        first += count
    n_bad = int(rows * bad)
    step = max(rows // max(n_bad, 1), 1)
    for table, problems in (
        ("intake_records", PROBLEMS),
        ("follow_up_records", FOLLOW_UP_PROBLEMS),
    ):
        for k, change in enumerate(problems):
            con.execute(
                f"UPDATE raw.{table} SET {change} "
                f"WHERE row_number % {step} = 0 AND (row_number // {step}) % {len(problems)} = {k} "
                f"AND row_number // {step} <= {n_bad}"
            )
    con.execute(
        "INSERT INTO raw.load_manifest VALUES "
        "('L-bench', 'web_form', 'intake', 'web_forms_bench.json', 'loaded', "
        "TIMESTAMP '2024-06-14 02:00')"
    )
    con.close()


def _insert_intake(con: object, channel: str, first: int, last: int) -> None:
    con.execute(
        f"""
        INSERT INTO raw.intake_records (source_record_id, record_hash, channel, file_name,
            file_sha256, row_number, load_id, loaded_at, person_name, company, phone,
            phone_valid, phone_masked, phone_kind, email, email_valid, event_at,
            event_at_is_date_only, grade, owner_name, source_label, original_values)
        SELECT '{channel}:' || i, md5(i::VARCHAR), '{channel}', '{channel}_bench.json',
            'sha-bench', i, 'L-bench', TIMESTAMP '2024-06-14 02:00', '张三', '某某科技',
            '+86138' || lpad((i % 100000000)::VARCHAR, 8, '0'), true, false, 'mobile',
            'lead' || i || '@corp.cn', true,
            TIMESTAMP '2024-01-01' + INTERVAL (i % 10000000) SECOND, false,
            'A', 'ops', '官网注册', '{{"grade": "A"}}'
        FROM range({first}, {last} + 1) AS t(i)
        """
    )


def _insert_follow_ups(con: object, channel: str, first: int, last: int) -> None:
    con.execute(
        f"""
        INSERT INTO raw.follow_up_records (source_record_id, record_hash, channel, file_name,
            file_sha256, row_number, load_id, loaded_at, email, email_valid, contacted_at,
            contacted_at_is_date_only, logged_at, logged_at_is_date_only, follow_up_channel,
            responded, feedback, next_action, next_action_due, owner_name, original_values)
        SELECT '{channel}:' || i, md5(i::VARCHAR), '{channel}', '{channel}_bench.csv',
            'sha-bench-f', i, 'L-bench', TIMESTAMP '2024-06-14 02:00',
            'lead' || (i % 1000000) || '@corp.cn', true,
            TIMESTAMP '2024-01-01' + INTERVAL (i % 10000000) SECOND, false,
            TIMESTAMP '2024-01-01' + INTERVAL (i % 10000000 + 600) SECOND, false, 'phone',
            i % 3 = 0, '客户要求提供3家同行业合作案例', '发送方案', DATE '2024-07-30', 'ops',
            '{{"跟进方式": "电话"}}'
        FROM range({first}, {last} + 1) AS t(i)
        """
    )


def run_one(
    rows: int, bad: float, verbose: bool, mix: bool, min_rows: int | None, warm_gx: bool
) -> None:
    if verbose:  # our per-step lines only; GX logs a lot at INFO
        logging.basicConfig(level=logging.WARNING, format="  %(name)s: %(message)s")
        logging.getLogger("expectations").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        started, cpu_started = time.perf_counter(), time.process_time()
        build_warehouse(warehouse, rows, bad, mix)
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu_started

        # GX is imported inside, as a run pays it: in this process, or in each worker instead
        # (--warm-gx imports it here first and times it apart, the bench's earlier figures)
        imported = 0.0
        if warm_gx:
            started = time.perf_counter()
            import great_expectations  # noqa: F401

            imported = time.perf_counter() - started

        from run_bench import TreeRssSampler  # bench/ is this script's sys.path[0]

        from expectations.validate import validate_loads

        with TreeRssSampler() as tree:
            started = time.perf_counter()
            summary = validate_loads(
                warehouse,
                ["L-bench"],
                channels_dir=ROOT / "ingest" / "channels",
                as_of=AS_OF,
                business_timezone="Asia/Shanghai",
                reports_dir=Path(tmp) / "reports",
                run_id="bench",
                **({} if min_rows is None else {"parallel_min_rows": min_rows}),
            )
            elapsed = time.perf_counter() - started
    own, children = (
        resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    peak_mb, child_mb = own.ru_maxrss / 1024, children.ru_maxrss / 1024  # KiB on Linux
    # CPU of the process tree but the synthetic data: on a loaded machine the wall time of
    # two workers depends on the other processes; the CPU they cost does not
    cpu = sum(u.ru_utime + u.ru_stime for u in (own, children)) - built_cpu
    # what a quiet machine would wait for: this process's CPU and the busiest worker's
    own_cpu = own.ru_utime + own.ru_stime - built_cpu
    workers_cpu = "/".join(f"{c:.1f}" for c in summary.worker_cpu_seconds)
    row_flags = summary.flags - summary.flags_by_check.get("channel_stale", 0)
    shape = f"{summary.batches} batches, {summary.workers} process(es)"
    print(
        f"{rows:>9,} rows, {bad:.0%} bad, {shape}: validate_loads {elapsed:6.1f} s "
        f"({rows / elapsed:,.0f} rows/s), CPU {cpu:.1f} s (this process {own_cpu:.1f} s"
        f"{f', workers {workers_cpu} s' if workers_cpu else ''}), {row_flags:,} row flags, "
        f"peak RSS {peak_mb:,.0f} MB "
        f"(largest worker {child_mb:,.0f} MB; tree {tree.peak / 2**20:,.0f} MB, "
        f"workers together {tree.peak_children / 2**20:,.0f} MB) "
        f"[{f'GX import apart {imported:.1f} s' if warm_gx else 'GX import included'}, "
        f"synthetic data {built:.1f} s; "
        f"uptime {os.getloadavg()[0]:.1f}]",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="default: 100000 and 1000000")
    parser.add_argument("--bad", type=float, default=0.05, help="share of bad rows (0.05)")
    parser.add_argument("--mix", action="store_true", help="four channels (see above)")
    parser.add_argument(
        "--workers", type=int, help="LEADFLOW_VALIDATION_WORKERS for the run (1: one process)"
    )
    parser.add_argument(
        "--parallel-min-rows", type=int, help="validate_loads' threshold (to find the break-even)"
    )
    parser.add_argument("--warm-gx", action="store_true", help="import GX before timing")
    parser.add_argument("-v", "--verbose", action="store_true", help="per-step timings")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.rows or [100_000, 1_000_000]
    if args.child:
        run_one(sizes[0], args.bad, args.verbose, args.mix, args.parallel_min_rows, args.warm_gx)
        return
    env = dict(os.environ)
    if args.workers:
        env["LEADFLOW_VALIDATION_WORKERS"] = str(args.workers)
    for rows in sizes:  # a fresh process per size: independent import cost and peak RSS
        command = [sys.executable, __file__, "--child", "--rows", str(rows), "--bad", str(args.bad)]
        flags = [*(["-v"] if args.verbose else []), *(["--mix"] if args.mix else [])]
        flags += ["--warm-gx"] if args.warm_gx else []
        if args.parallel_min_rows is not None:
            flags += ["--parallel-min-rows", str(args.parallel_min_rows)]
        subprocess.run([*command, *flags], check=True, env=env)


if __name__ == "__main__":
    main()
