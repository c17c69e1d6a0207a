"""The suites' checks evaluated with pandas alone, for `leadflow check` (issue 14).

GX takes about 9 s to import and a few more to build its context: too slow for a dry run that
should answer in seconds. This module evaluates the SAME `Check` definitions
(`expectations.suites`) on the SAME batch frames (`expectations.validate.read_batch`) with the
semantics of GX's pandas engine for the seven expectations the suites use: missing values are
not checked (except by the null expectations), a row condition limits the rows checked, a pair
check ignores rows where either side is missing. A test compares its flags with GX's on every
planted problem of the validation tests; an expectation added to the suites but not here fails
loudly rather than passing silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from expectations.flags import flags_at_positions
from expectations.suites import Check, Suite

Mask = np.ndarray  # one bool per batch row: True where the row fails


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else frame.index.get_level_values(name).to_series()


def _not_null(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    return _column(frame, kw["column"]).isna().to_numpy()


def _null(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    return _column(frame, kw["column"]).notna().to_numpy()


def _regex(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    values = _column(frame, kw["column"])
    present = values.notna()
    text = values[present].astype(str)
    fails = np.zeros(len(values), dtype=bool)
    fails[present.to_numpy()] = ~text.str.contains(kw["regex"], regex=True).to_numpy(dtype=bool)
    return fails


def _in_set(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    values = _column(frame, kw["column"])
    present = values.notna().to_numpy()
    inside = values.astype(object).isin(list(kw["value_set"])).to_numpy(dtype=bool)
    return present & ~inside


def _between(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    values = _column(frame, kw["column"])
    present = values.notna().to_numpy()
    ok = np.ones(len(values), dtype=bool)
    low, high = kw.get("min_value"), kw.get("max_value")
    if low is not None:
        low = pd.Timestamp(low) if pd.api.types.is_datetime64_any_dtype(values) else low
        ok &= (values > low if kw.get("strict_min") else values >= low).fillna(False).to_numpy()
    if high is not None:
        high = pd.Timestamp(high) if pd.api.types.is_datetime64_any_dtype(values) else high
        ok &= (values < high if kw.get("strict_max") else values <= high).fillna(False).to_numpy()
    return present & ~ok


def _pair_greater(frame: pd.DataFrame, kw: dict[str, Any]) -> Mask:
    if kw.get("ignore_row_if") != "either_value_is_missing":
        raise ValueError(f"pair check with ignore_row_if={kw.get('ignore_row_if')!r}")
    a, b = _column(frame, kw["column_A"]), _column(frame, kw["column_B"])
    present = (a.notna() & b.notna()).to_numpy()
    ok = (a >= b) if kw.get("or_equal") else (a > b)
    return present & ~ok.fillna(False).to_numpy(dtype=bool)


EVALUATORS: dict[str, Callable[[pd.DataFrame, dict[str, Any]], Mask]] = {
    "ExpectColumnValuesToNotBeNull": _not_null,
    "ExpectColumnValuesToBeNull": _null,
    "ExpectColumnValuesToMatchRegex": _regex,
    "ExpectColumnValuesToBeInSet": _in_set,
    "ExpectColumnValuesToBeBetween": _between,
    "ExpectColumnPairValuesAToBeGreaterThanB": _pair_greater,
}


def _condition(frame: pd.DataFrame, condition: tuple[str, str, Any] | None) -> Mask:
    """Rows a check looks at: all, or those its row condition selects."""
    if condition is None:
        return np.ones(len(frame), dtype=bool)
    column, op, value = condition
    values = _column(frame, column)
    if op == "==":
        return (values == value).fillna(False).to_numpy(dtype=bool)
    if op == "is_null":
        return values.isna().to_numpy()
    if op == "is_not_null":
        return values.notna().to_numpy()
    raise ValueError(f"unknown row condition operator {op!r}")


def failing_positions(frame: pd.DataFrame, check: Check) -> np.ndarray:
    evaluate = EVALUATORS.get(check.expectation)
    if evaluate is None:
        raise ValueError(f"{check.expectation} has no pandas evaluation: add it to EVALUATORS")
    failing = evaluate(frame, dict(check.kwargs)) & _condition(frame, check.row_condition)
    return np.flatnonzero(failing)


def suite_flags(frame: pd.DataFrame, suite: Suite) -> pd.DataFrame:
    """The flags validation would write for this batch (same rows, checks, observed values)."""
    failing = [(check, failing_positions(frame, check)) for check in suite.checks]
    return flags_at_positions(frame, suite, failing)
