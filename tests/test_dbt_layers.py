"""The dbt project's layers do not leak (issue 18), checked on dbt's own manifest.

The rules are dbt-project-evaluator's that apply here (docs/architecture.md lists each, and why
the others do not): sources are read only in staging, staging builds on sources only,
intermediate models never read a mart, every model is named for its layer, every model has a
key test, every declared source is read, and no model names a relation by hand.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.dbt_fixtures import create_warehouse, insert_rows, run_dbt

LAYER_PREFIXES = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_", "rpt_", "ops_"),
}
KEY_TESTS = {"unique", "unique_combination"}
# A schema-qualified name written by hand (raw.x, marts.x ...) instead of ref() or source().
HAND_WRITTEN_RELATION = re.compile(
    r"\b(?:from|join)\s+(?:raw|dq|config|staging|intermediate|marts|marts_a|marts_b|rules)\.\w+",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("dbt_layers")
    warehouse = work / "wh.duckdb"
    create_warehouse(warehouse)
    parsed = run_dbt(warehouse, work, "2026-03-10", command="parse")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    return json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))


def _models(manifest: dict) -> dict[str, dict]:
    return {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}


def _layer(model: dict) -> str:
    return Path(model["original_file_path"]).parts[1]


def _parents(model: dict, kind: str) -> list[str]:
    return [d for d in model["depends_on"]["nodes"] if d.startswith(kind + ".")]


def test_sources_are_read_only_in_staging(manifest):
    leaks = {
        m["name"]: _parents(m, "source")
        for m in _models(manifest).values()
        if _layer(m) != "staging" and _parents(m, "source")
    }
    assert leaks == {}


def test_staging_builds_on_sources_only(manifest):
    leaks = {
        m["name"]: _parents(m, "model")
        for m in _models(manifest).values()
        if _layer(m) == "staging" and _parents(m, "model")
    }
    assert leaks == {}


def test_no_intermediate_model_reads_a_mart(manifest):
    models = _models(manifest)
    leaks = {
        m["name"]: [models[p]["name"] for p in _parents(m, "model") if _layer(models[p]) == "marts"]
        for m in models.values()
        if _layer(m) == "intermediate"
    }
    assert {name: marts for name, marts in leaks.items() if marts} == {}


def test_every_model_is_named_for_its_layer(manifest):
    misnamed = [
        f"{_layer(m)}/{m['name']}"
        for m in _models(manifest).values()
        if not m["name"].startswith(LAYER_PREFIXES[_layer(m)])
    ]
    assert misnamed == []


def test_every_model_has_a_key_test(manifest):
    keyed = {
        t["attached_node"]
        for t in manifest["nodes"].values()
        if t["resource_type"] == "test"
        and (t.get("test_metadata") or {}).get("name") in KEY_TESTS
        and t.get("attached_node")
    }
    assert sorted(m["name"] for k, m in _models(manifest).items() if k not in keyed) == []


def test_every_declared_source_is_read(manifest):
    read = {
        d
        for node in manifest["nodes"].values()
        for d in node.get("depends_on", {}).get("nodes", [])
        if d.startswith("source.")
    }
    assert sorted(set(manifest["sources"]) - read) == []


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|\{#.*?#\}", "", sql, flags=re.DOTALL)


def test_no_model_names_a_relation_by_hand(manifest):
    code = {m["name"]: _without_comments(m["raw_code"]) for m in _models(manifest).values()}
    hand_written = {
        name: HAND_WRITTEN_RELATION.findall(sql)
        for name, sql in code.items()
        if HAND_WRITTEN_RELATION.search(sql)
    }
    assert hand_written == {}


def test_every_model_and_unit_test_name_fits_a_postgresql_identifier(manifest):
    """A model's relation and a unit test's temporary relation are named after it, and
    PostgreSQL refuses names over 63 bytes (`make test-postgres` found a unit test that was)."""
    named = [
        n["name"]
        for n in (*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values())
        if n["resource_type"] in ("model", "seed", "unit_test")
    ]
    assert [name for name in named if len(name.encode()) > 63] == []


def test_source_freshness_warns_when_ingest_has_seen_no_file_for_days(tmp_path):
    """`make freshness`: the load manifest's newest load time against the clock (the one check
    that reads it: it asks how old the data is now, not what a run for as_of shows)."""
    warehouse = tmp_path / "wh.duckdb"
    create_warehouse(warehouse)

    def manifest_row(days_ago: int) -> dict:
        loaded = datetime.utcnow() - timedelta(days=days_ago)  # naive UTC, as ingest writes
        return {"load_id": f"load-{days_ago}", "file_name": "f.csv", "loaded_at": loaded}

    insert_rows(warehouse, "raw.load_manifest", [manifest_row(3)])
    stale = run_dbt(warehouse, tmp_path, "2026-03-10", command="source freshness")
    assert stale.returncode == 0, stale.stdout[-2000:]  # a warning, not an error
    assert "WARN freshness of raw.load_manifest" in stale.stdout
    insert_rows(warehouse, "raw.load_manifest", [manifest_row(0)])
    fresh = run_dbt(warehouse, tmp_path, "2026-03-10", command="source freshness")
    assert "PASS freshness of raw.load_manifest" in fresh.stdout, fresh.stdout[-2000:]
