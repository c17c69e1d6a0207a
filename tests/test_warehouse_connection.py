"""Every step opens the warehouse through `leadflow.core.warehouse.connect`, which bounds DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.core import warehouse


def test_default_memory_limit_is_two_gigabytes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("LEADFLOW_DUCKDB_MEMORY_LIMIT", raising=False)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "1.8 GiB"


@pytest.mark.parametrize(("value", "shown"), [("512MB", "488.2 MiB"), ("3GB", "2.7 GiB")])
def test_memory_limit_follows_the_environment(
    tmp_path: Path, monkeypatch, value: str, shown: str
) -> None:
    monkeypatch.setenv("LEADFLOW_DUCKDB_MEMORY_LIMIT", value)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == shown


def test_a_second_connection_in_the_same_process_is_allowed(tmp_path: Path) -> None:
    # The limit is SET on the instance, so a file already open here can be opened again.
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as first, warehouse.connect(path) as second:
        first.execute("CREATE TABLE t AS SELECT 1 AS x")
        assert second.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_an_invalid_limit_names_the_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LEADFLOW_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="LEADFLOW_DUCKDB_MEMORY_LIMIT='lots'"):
        warehouse.connect(tmp_path / "w.duckdb")


def test_streaming_steps_take_their_own_smaller_limit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", raising=False)
    with warehouse.connect(tmp_path / "a.duckdb", streaming=True) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
    monkeypatch.setenv("LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT", "512MB")
    with warehouse.connect(tmp_path / "b.duckdb", streaming=True) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"
