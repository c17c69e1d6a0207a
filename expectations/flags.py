"""`dq.flags` (C6): one row per problem, mapped from GX results and written idempotently.

GX runs with the COMPLETE result format, named index columns and `exclude_unexpected_values`: each
failing expectation returns the index of every failing row (not a sample), as one list per index
column. The index locates the row in the batch, which gives the lineage and the observed value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from expectations.suites import INDEX_COLUMNS, LINEAGE_COLUMNS, Check, Suite

FLAG_COLUMNS: dict[str, str] = {
    "flag_id": "VARCHAR",
    "run_id": "VARCHAR",
    "load_id": "VARCHAR",
    "channel": "VARCHAR",
    "entity": "VARCHAR",
    "source_record_id": "VARCHAR",
    "record_hash": "VARCHAR",
    "file_name": "VARCHAR",
    "row_number": "BIGINT",
    "column_name": "VARCHAR",
    "check_name": "VARCHAR",
    "observed_value": "VARCHAR",
    "severity": "VARCHAR",  # error / warning
    "as_of": "DATE",
    "flagged_at": "TIMESTAMP",
}
# What the mapping produces per flag; run-level values (run_id, as_of, ...) are added on insert.
# `sheet` is not a dq.flags column but keeps XLSX rows apart in the flag id and the de-duplication.
STAGED_COLUMNS = (
    "load_id",
    "channel",
    "entity",
    "source_record_id",
    "record_hash",
    "file_name",
    "sheet",
    "row_number",
    "column_name",
    "check_name",
    "observed_value",
    "severity",
)
ROW_KEY = ("load_id", "sheet", "row_number", "column_name", "check_name")


class ValidationError(RuntimeError):
    """An expectation could not be evaluated: a bug in a suite, never a data problem."""


def ensure_flags_table(con: duckdb.DuckDBPyConnection) -> None:
    body = ", ".join(f"{name} {sql_type}" for name, sql_type in FLAG_COLUMNS.items())
    con.execute("CREATE SCHEMA IF NOT EXISTS dq")
    con.execute(f"CREATE TABLE IF NOT EXISTS dq.flags ({body})")


def empty_flags() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in STAGED_COLUMNS})


# --------------------------------------------------------------------------- GX result -> flags


def result_flags(result: Any, suite: Suite, batch: pd.DataFrame) -> pd.DataFrame:
    """Every failing row of every expectation of one validation result, one flag each."""
    failing = []
    for expectation_result in result.results:
        check = suite.checks[expectation_result.expectation_config.meta["check_id"]]
        if _raised(expectation_result.exception_info):
            raise ValidationError(
                f"suite {suite.name}: {check.expectation} {dict(check.kwargs)} failed to run: "
                f"{_exception_message(expectation_result.exception_info)}"
            )
        failing.append((check, _failing_positions(expectation_result.result, batch, check)))
    return flags_at_positions(batch, suite, failing)


def flags_at_positions(
    batch: pd.DataFrame, suite: Suite, failing: Iterable[tuple[Check, np.ndarray]]
) -> pd.DataFrame:
    """The flags of each check's failing row positions in `batch`, however they were found
    (GX's results, or `expectations.evaluate` for `leadflow check`)."""
    parts = [empty_flags()]
    parts += [_flags_at(batch, pos, check, suite) for check, pos in failing if len(pos)]
    flags = pd.concat(parts, ignore_index=True)
    # Two expectations of one check (an email failing the regex and the validator) = one flag.
    counts = Counter(c.check_name for c in suite.checks)
    shared = flags["check_name"].isin([name for name, n in counts.items() if n > 1])
    if shared.any():
        keep = ~(shared & flags.duplicated(subset=list(ROW_KEY)))
        flags = flags[keep].reset_index(drop=True)
    return flags


def _raised(info: Any) -> bool:
    if not isinstance(info, dict):
        return False
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


def _exception_message(info: dict) -> str:
    if info.get("exception_message"):
        return str(info["exception_message"])
    messages = [str(v.get("exception_message")) for v in info.values() if isinstance(v, dict)]
    return "; ".join(messages)


def _failing_positions(result: dict, batch: pd.DataFrame, check: Check) -> np.ndarray:
    count = int(result.get("unexpected_count") or 0)
    if count == 0:
        return np.empty(0, dtype=np.intp)
    index_lists = result.get("unexpected_index_list")
    if not index_lists:
        raise ValidationError(f"{check.expectation}: {count} failing rows but no index list")
    lists = index_lists[0]  # exclude_unexpected_values: one dict of index column -> values
    keys = pd.MultiIndex.from_arrays([lists[c] for c in INDEX_COLUMNS], names=INDEX_COLUMNS)
    positions = batch.index.get_indexer(keys)
    if len(positions) != count or (positions < 0).any():
        raise ValidationError(f"{check.expectation}: failing rows do not map back to the batch")
    return positions


def _flags_at(
    batch: pd.DataFrame, positions: np.ndarray, check: Check, suite: Suite
) -> pd.DataFrame:
    index = batch.index[positions]
    lineage = batch[list(LINEAGE_COLUMNS)].iloc[positions]
    return pd.DataFrame(
        {
            "load_id": index.get_level_values("load_id").to_numpy(dtype=object),
            "channel": suite.channel,
            "entity": suite.entity,
            "source_record_id": index.get_level_values("source_record_id").to_numpy(dtype=object),
            "record_hash": lineage["record_hash"].to_numpy(dtype=object),
            "file_name": lineage["file_name"].to_numpy(dtype=object),
            "sheet": index.get_level_values("sheet").to_numpy(dtype=object),
            "row_number": index.get_level_values("row_number").to_numpy(dtype="int64"),
            "column_name": check.column_name,
            "check_name": check.check_name,
            "observed_value": observed_values(batch[list(check.observed)].iloc[positions]),
            "severity": check.severity,
        }
    )


def observed_values(rows: pd.DataFrame) -> np.ndarray:
    """The value(s) a check saw: one column as is, several as `col=value; col=value`."""
    texts = [as_text(rows[c]) for c in rows.columns]
    if len(texts) == 1:
        return texts[0]
    out = np.empty(len(rows), dtype=object)
    for i, values in enumerate(zip(*texts, strict=True)):
        parts = [f"{c}={v}" for c, v in zip(rows.columns, values, strict=True) if v is not None]
        out[i] = "; ".join(parts) or None
    return out


def as_text(column: pd.Series) -> np.ndarray:
    """Vectorised text of a column (object array, None for missing)."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        text = column.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    elif pd.api.types.is_bool_dtype(column.dtype):
        text = np.where(column.fillna(False).to_numpy(dtype=bool), "true", "false").astype(object)
    elif pd.api.types.is_float_dtype(column.dtype):
        text = np.array([_number(v) for v in column.tolist()], dtype=object)
    else:
        text = column.astype("string").fillna("").to_numpy(dtype=object)
    text[missing] = None
    return text


def _number(value: float) -> str | None:
    if value != value:  # NaN
        return None
    return str(int(value)) if value.is_integer() else repr(value)


# --------------------------------------------------------------------------- writing


def write_flags(
    con: duckdb.DuckDBPyConnection,
    flags: pd.DataFrame,
    *,
    load_ids: Iterable[str],
    run_id: str,
    as_of: date,
    flagged_at: datetime,
) -> None:
    """Replace the flags of these loads and this as-of's freshness flags, in one transaction.

    Re-validating a load (a retried run) therefore replaces its flags rather than doubling them.
    """
    params = {"load_ids": sorted(set(load_ids)), "as_of": as_of}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM dq.flags WHERE load_id IN (SELECT unnest($load_ids)) "
            "AND check_name <> 'channel_stale'",
            {"load_ids": params["load_ids"]},
        )
        con.execute(
            "DELETE FROM dq.flags WHERE check_name = 'channel_stale' AND as_of = $as_of",
            {"as_of": as_of},
        )
        if len(flags):
            _insert(con, flags, run_id=run_id, as_of=as_of, flagged_at=flagged_at)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _insert(
    con: duckdb.DuckDBPyConnection,
    flags: pd.DataFrame,
    *,
    run_id: str,
    as_of: date,
    flagged_at: datetime,
) -> None:
    staged = flags[list(STAGED_COLUMNS)].astype(
        {c: "object" for c in STAGED_COLUMNS if c != "row_number"}
    )
    staged["row_number"] = staged["row_number"].astype("Int64")
    con.register("staged_flags", staged)
    try:
        # The id is stable for a row, column and check, so a retried run yields the same ids.
        key = (
            "concat_ws('|', coalesce(load_id, ''), coalesce(sheet, ''), "
            "coalesce(CAST(row_number AS VARCHAR), ''), coalesce(column_name, ''), check_name, "
            "coalesce(channel, ''), CASE WHEN load_id IS NULL THEN CAST($as_of AS VARCHAR) END)"
        )
        columns = ", ".join(FLAG_COLUMNS)
        con.execute(
            f"""
            INSERT INTO dq.flags ({columns})
            SELECT md5({key}), $run_id, load_id, channel, entity, source_record_id, record_hash,
                   file_name, CAST(row_number AS BIGINT), column_name, check_name,
                   observed_value, severity, $as_of, $flagged_at
            FROM staged_flags
            """,
            {"run_id": run_id, "as_of": as_of, "flagged_at": flagged_at},
        )
    finally:
        con.unregister("staged_flags")
