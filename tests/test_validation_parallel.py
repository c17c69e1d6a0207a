"""Validation in two worker processes (issue 17) writes exactly what one process writes.

The planted warehouse of tests/test_validation.py (seven channels, every kind of problem, a
repeated row, a batch of 250 bad rows) is validated twice from scratch: once in this process,
once in two spawned workers (the row threshold forced down with `parallel_min_rows`). Real GX
and a real DuckDB file in both; the flags are compared as sets, and against the planted ones.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from expectations.validate import validate_loads
from tests.test_validation import (
    AS_OF,
    NEW_LOADS,
    ROWS,
    TZ,
    Run,
    build_warehouse,
    query,
    write_channels,
)

# every dq.flags column but the audit time, which differs between any two runs (C9)
FLAG_COLUMNS = (
    "flag_id, run_id, load_id, channel, entity, source_record_id, record_hash, file_name, "
    "row_number, column_name, check_name, observed_value, severity, as_of"
)


def _validated(root: Path, **options: Any) -> Run:
    root.mkdir()
    build_warehouse(root / "wh.duckdb")
    write_channels(root / "channels")
    run = Run(root / "wh.duckdb", root / "reports", root / "channels", {})
    run.summary = validate_loads(
        run.warehouse,
        NEW_LOADS,
        channels_dir=run.channels,
        as_of=AS_OF,
        business_timezone=TZ,
        reports_dir=run.reports,
        run_id="run-1",
        **options,
    )
    return run


def _flags(run: Run) -> Counter:
    return Counter(query(run, f"SELECT {FLAG_COLUMNS} FROM dq.flags"))


def _docs_results(run: Run) -> Counter:
    """Each Data Docs validation page (suite, run, batch), with its content: the page's times
    (run time, validation time) masked, as they differ between any two runs."""
    pages = Counter()
    folder = run.reports / "data_docs" / "validations"
    for page in folder.rglob("*.html"):
        suite, run_name, _run_time, batch = page.relative_to(folder).parts
        text = page.read_text(encoding="utf-8")
        text = re.sub(r"\d{8}T\d{6}\.\d{6}Z", "<time>", text)
        text = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?", "<time>", text)
        pages[(suite, run_name, batch, _content(text))] += 1
    return pages


def _content(html: str) -> str:
    """The page's text without markup or GX's generated element ids."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\b[0-9a-f]{32}\b|\b[0-9a-f-]{36}\b", "<id>", text)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> list[Run]:
    from expectations.parallel import _cores, available_memory, ram_allows

    if _cores() < 2 or not ram_allows(2, available_memory()):
        pytest.skip("one core, or too little free memory: validation never starts workers")
    root = tmp_path_factory.mktemp("parallel")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LEADFLOW_VALIDATION_WORKERS", "1")
        one = _validated(root / "one")
    two = _validated(root / "two", parallel_min_rows=1)
    return [one, two]


def test_the_load_was_validated_in_one_and_in_two_processes(both: list[Run]) -> None:
    one, two = both
    assert one.summary.workers == 1
    assert two.summary.workers == 2
    assert one.summary.batches == two.summary.batches == 7


def test_two_workers_write_exactly_the_flags_of_one_process(both: list[Run]) -> None:
    one, two = both
    flags = _flags(two)
    assert flags == _flags(one)
    assert max(flags.values()) == 1  # a set: no flag written twice
    # and they are the planted problems (the independent expectation)
    planted = Counter(
        (load_id, row_number, flag[0], flag[1])
        for load_id, row_number, _, problems in ROWS
        if load_id in NEW_LOADS
        for flag in problems
    )
    got = Counter(
        query(
            two,
            "SELECT load_id, row_number, column_name, check_name FROM dq.flags "
            "WHERE check_name <> 'channel_stale'",
        )
    )
    assert got == planted
    assert sum(1 for key in flags if key[10] == "channel_stale") == 2


def test_the_summaries_agree_and_every_load_is_marked_validated(both: list[Run]) -> None:
    one, two = both
    for key in ("loads_validated", "load_ids", "rows_validated", "flags", "flags_by_check"):
        assert getattr(one.summary, key) == getattr(two.summary, key), key
    assert two.summary.rows_validated == sum(1 for r in ROWS if r[0] in NEW_LOADS)
    validated = "SELECT load_id, run_id FROM dq.validated_loads ORDER BY load_id"
    assert (
        query(two, validated) == query(one, validated) == [(i, "run-1") for i in sorted(NEW_LOADS)]
    )


def test_the_data_docs_show_the_same_validation_results(both: list[Run]) -> None:
    one, two = both
    docs = _docs_results(two)
    assert sum(docs.values()) == 7  # one page per batch (every batch here is one part)
    assert docs == _docs_results(one)
    suites = {p.name for p in (two.reports / "data_docs" / "expectations").glob("*.html")}
    assert suites == {p.name for p in (one.reports / "data_docs" / "expectations").glob("*.html")}
    assert {"web_form.html", "follow_up.html", "owner_directory.html"} <= suites
    index = Path(two.summary.data_docs)
    assert index == two.reports / "data_docs" / "index.html" and index.exists()


def test_workers_in_small_parts_write_exactly_the_flags_of_one_process(
    both: list[Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers read parts of PART_ROWS // workers rows (memory): with parts of 25 rows, a repeated
    row's first copy in an earlier part than its copy, every flag is still the one process's."""
    import expectations.validate as validate_module
    from expectations.parallel import worker_part_rows

    one = both[0]
    monkeypatch.setattr(validate_module, "PART_ROWS", 50)  # read in the parent, sent to workers
    assert worker_part_rows(2) == 25
    small = _validated(tmp_path / "small", parallel_min_rows=1)
    assert small.summary.workers == 2
    assert _flags(small) == _flags(one)
    assert small.summary.flags_by_check == one.summary.flags_by_check
    assert "duplicate_row" in small.summary.flags_by_check
    assert sum(_docs_results(small).values()) > 7  # the batches were validated in several parts


def test_a_small_load_or_a_small_memory_cap_stays_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from expectations.parallel import (
        WORKER_PEAK_BYTES,
        _cores,
        available_memory,
        ram_allows,
        worker_memory_limit,
        workers_for,
    )
    from expectations.validate import Batch

    if _cores() < 2 or not ram_allows(2, available_memory()):
        pytest.skip("one core, or too little free memory: validation never starts workers")
    monkeypatch.delenv("LEADFLOW_VALIDATION_WORKERS", raising=False)
    monkeypatch.setenv("LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", "1GB")
    big = [Batch(c, "intake", 300_000) for c in ("a", "b", "c")]
    assert workers_for(big) == 2
    assert workers_for(big[:1]) == 1  # one batch: nothing to split
    assert workers_for(big, min_rows=900_001) == 1  # too few rows to pay for two start-ups
    assert workers_for(big, min_rows=900_000) == 2
    # each worker's DuckDB gets half of the cap, as DuckDB reads it (1GB = 10^9 bytes)
    share = int(worker_memory_limit(2).removesuffix("B"))
    assert abs(share - 10**9 / 2) < 10**9 * 0.001
    monkeypatch.setenv("LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", "400MB")  # 200 MB each
    assert worker_memory_limit(2) is None
    assert workers_for(big) == 1
    monkeypatch.setenv("LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("LEADFLOW_VALIDATION_WORKERS", "1")
    assert workers_for(big) == 1
    # two parts at their peak need the machine's memory for both
    assert not ram_allows(2, 2 * WORKER_PEAK_BYTES - 1)
    assert ram_allows(2, 2 * WORKER_PEAK_BYTES) and ram_allows(2, None)
