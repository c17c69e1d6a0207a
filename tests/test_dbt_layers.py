"""The dbt project's layers do not leak (issue 18), checked on dbt's own manifest.

The rules are dbt-project-evaluator's that apply here (docs/architecture.md lists each, and why
the others do not): sources are read only in staging, staging builds on sources only,
intermediate models never read a mart, every model is named for its layer and lies in its
layer's folder (staging: a folder per source, beside that source's YAML), every model has a
primary-key test as the evaluator counts one, every declared source is read and described, no
model names a relation by hand, no model sits on a long chain of views, exposures read tables,
and the only models without parents are the ones the docs name.
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
# dbt-project-evaluator's primary-key test: unique and not_null on one column, or one test over
# the grain's columns (its dbt_utils.unique_combination_of_columns; ours is unique_combination).
KEY_COLUMN_TESTS = {"unique", "not_null"}
KEY_GRAIN_TEST = "unique_combination"
# Models with no parent, each for the reason in docs/architecture.md: the reporting calendar is
# generated from var as_of alone.
ROOT_MODELS = {"int_report_periods"}
CHAINED_VIEWS_LIMIT = 5  # the evaluator's chained_views_threshold
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


def _key_tested(manifest: dict) -> set[str]:
    """Models with the evaluator's primary-key test: unique and not_null on one column, or a
    unique_combination over the grain."""
    column_tests: dict[tuple[str, str], set[str]] = {}
    keyed = set()
    for t in manifest["nodes"].values():
        name = (t.get("test_metadata") or {}).get("name")
        if t["resource_type"] != "test" or not t.get("attached_node"):
            continue
        if name == KEY_GRAIN_TEST:
            keyed.add(t["attached_node"])
        elif name in KEY_COLUMN_TESTS and t.get("column_name"):
            column_tests.setdefault((t["attached_node"], t["column_name"]), set()).add(name)
    keyed |= {node for (node, _), names in column_tests.items() if names == KEY_COLUMN_TESTS}
    return keyed


def test_every_model_has_a_primary_key_test(manifest):
    keyed = _key_tested(manifest)
    assert sorted(m["name"] for k, m in _models(manifest).items() if k not in keyed) == []


def test_a_unique_test_without_not_null_is_no_primary_key_test(manifest):
    """The check can fail: a model whose key column loses its not_null test is reported."""
    node = "model.leadflow.fct_grading_sla"
    stripped = {
        **manifest,
        "nodes": {
            k: t
            for k, t in manifest["nodes"].items()
            if not (
                t.get("attached_node") == node
                and (t.get("test_metadata") or {}).get("name") == "not_null"
            )
        },
    }
    assert node in _key_tested(manifest)
    assert node not in _key_tested(stripped)


def _source_folder(path: str) -> str:
    """models/staging/<source>/x.yml -> <source>; anything else -> ''."""
    parts = Path(path).parts
    return parts[2] if len(parts) == 4 and parts[:2] == ("models", "staging") else ""


def test_every_model_lies_in_its_layer_folder_and_staging_in_its_source_folder(manifest):
    misplaced = []
    for m in _models(manifest).values():
        parts = Path(m["original_file_path"]).parts
        if _layer(m) == "staging":
            sources = {manifest["sources"][s]["source_name"] for s in _parents(m, "source")}
            if sources != {_source_folder(m["original_file_path"])}:
                misplaced.append(m["original_file_path"])
        elif len(parts) != 3:  # models/<layer>/<model>.sql
            misplaced.append(m["original_file_path"])
    assert misplaced == []


def test_every_source_is_declared_in_its_staging_folder(manifest):
    misplaced = [
        f"{s['source_name']}.{s['name']}: {s['original_file_path']}"
        for s in manifest["sources"].values()
        if _source_folder(s["original_file_path"]) != s["source_name"]
    ]
    assert misplaced == []


def test_every_source_and_source_table_is_described(manifest):
    undescribed = [
        f"{s['source_name']}.{s['name']}"
        for s in manifest["sources"].values()
        if not s.get("description", "").strip() or not s.get("source_description", "").strip()
    ]
    assert undescribed == []


def test_only_the_documented_models_have_no_parent(manifest):
    roots = {m["name"] for m in _models(manifest).values() if not m["depends_on"]["nodes"]}
    assert roots == ROOT_MODELS


def _view_chain(models: dict[str, dict], key: str, memo: dict[str, int]) -> int:
    """Length of the longest chain of views and ephemeral models that `key` reads through."""
    if key not in memo:
        memo[key] = max(
            (
                1 + _view_chain(models, p, memo)
                for p in _parents(models[key], "model")
                if models[p]["config"]["materialized"] in ("view", "ephemeral")
            ),
            default=0,
        )
    return memo[key]


def test_no_model_reads_through_a_long_chain_of_views(manifest):
    models = _models(manifest)
    memo: dict[str, int] = {}
    chains = {models[k]["name"]: _view_chain(models, k, memo) for k in models}
    assert {name: n for name, n in chains.items() if n >= CHAINED_VIEWS_LIMIT} == {}


def test_exposures_read_tables(manifest):
    models = _models(manifest)
    soft = {
        f"{e['name']}: {d}"
        for e in manifest["exposures"].values()
        for d in e["depends_on"]["nodes"]
        if d.startswith("source.")
        or (d in models and models[d]["config"]["materialized"] in ("view", "ephemeral"))
    }
    assert soft == set()


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
