"""The shared pipeline steps' own logic (the steps themselves run in the end-to-end tests)."""

from __future__ import annotations

from leadflow.dbt_build import summarise_dbt_results


def result(unique_id: str, status: str, seconds: float) -> dict:
    return {"unique_id": unique_id, "status": status, "seconds": seconds}


def test_dbt_summary_counts_nodes_and_names_the_slowest_models() -> None:
    results = [
        result("model.leadflow.dim_leads", "success", 0.5),
        result("model.leadflow.ops_owner_queue", "success", 2.25),
        result("model.leadflow.stg_owners", "error", 0.01),
        result("test.leadflow.not_null_x", "warn", 0.1),
        result("test.leadflow.unique_y", "pass", 0.1),
    ]
    line = summarise_dbt_results(results, slowest=2)
    assert line.startswith("1 model error, 2 model success, 1 test pass, 1 test warn;")
    assert line.endswith("slowest models: ops_owner_queue 2.25s, dim_leads 0.50s")
