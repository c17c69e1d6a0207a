"""Every dbt model and every column of every built relation has a description (issue 18, issue 16
item 1): what a sales manager or analyst reads in `make docs` and the BI tool.

The columns come from the relations the demo run built (the session fixture `demo_run`, no extra
build): `staging.*`, `intermediate.*` and the `marts.*` views over the released slot. The
descriptions come from the manifest that run's `dbt build` wrote (doc blocks rendered), so a
column added to a model's SQL without a line in its YAML fails here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DemoRun


def relation_schema(node: dict) -> str:
    """Where BI and mail read a model: marts through the `marts` views, the rest as built."""
    if node["original_file_path"].startswith("models/marts/"):
        return "marts"
    return node["schema"]


def undocumented(manifest: dict, columns: dict[tuple[str, str], list[str]]) -> list[str]:
    """`model`, `model.column` (no description) or `model: not built`, in model order."""
    missing = []
    models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "leadflow"
    ]
    for node in sorted(models, key=lambda n: n["name"]):
        name = node["name"]
        if not (node.get("description") or "").strip():
            missing.append(name)
        built = columns.get((relation_schema(node), name))
        if built is None:
            missing.append(f"{name}: not built")
            continue
        described = {
            column.lower()
            for column, spec in node["columns"].items()
            if (spec.get("description") or "").strip()
        }
        missing += [f"{name}.{column}" for column in built if column.lower() not in described]
    return missing


@pytest.fixture(scope="module")
def built(demo_run: DemoRun) -> tuple[dict, dict[tuple[str, str], list[str]]]:
    manifest_path: Path = demo_run.data_dir / "dbt" / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    schemas = sorted(
        {relation_schema(n) for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    )
    with duckdb.connect(str(demo_run.warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema IN (SELECT unnest(?)) ORDER BY table_schema, table_name, "
            "ordinal_position",
            [schemas],
        ).fetchall()
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        columns.setdefault((schema, table), []).append(column)
    return manifest, columns


def test_every_model_and_every_built_column_has_a_description(built) -> None:
    manifest, columns = built
    missing = undocumented(manifest, columns)
    assert missing == [], (
        "describe these in the model's YAML (dbt_project/models/**/<model>.yml; shared wording "
        "in models/docs.md): " + ", ".join(missing)
    )


def test_a_removed_description_is_reported(built) -> None:
    """The check can fail: one column and one model stripped of their descriptions are named."""
    manifest, columns = built
    stripped = copy.deepcopy(manifest)
    node = next(
        n
        for n in stripped["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == "dim_leads"
    )
    node["columns"]["acquired_at"]["description"] = ""
    node["description"] = " "
    missing = undocumented(stripped, columns)
    assert "dim_leads.acquired_at" in missing
    assert "dim_leads" in missing
    assert ("marts", "dim_leads") in columns  # the mart was really read from the warehouse
