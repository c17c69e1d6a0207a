"""`leadflow summary` as a person reads it: the marts' row counts stand in one column."""

from __future__ import annotations

from leadflow.cli import format_summary
from leadflow.core.settings import load_settings


def test_the_marts_row_counts_stand_in_one_column_whatever_the_name_length() -> None:
    marts = {"dim_leads": 60, "ops_identity_domain_name_links": 25, "rpt_period_cases": 1200}
    text = format_summary({"run_id": "r", "as_of": "2026-12-02", "transform": {"marts": marts}},
                          load_settings())  # fmt: skip
    rows = [line for line in text.splitlines() if line.strip().startswith("marts.")]
    assert [line.split()[0] for line in rows] == [f"marts.{name}" for name in marts]
    assert [int(line.split()[1]) for line in rows] == list(marts.values())
    assert len({line.index(" rows") for line in rows}) == 1  # the counts end in one column
