#!/usr/bin/env bash
# dbt-project-evaluator over leadflow's dbt project (issue 18, docs/architecture.md "The dbt
# layers"). The evaluator and dbt_utils are dbt hub packages, which `dbt deps` cannot reach
# offline: pass their source checkouts (git clones of dbt-labs/dbt-project-evaluator and
# dbt-labs/dbt-utils). The project is copied to a scratch folder with both as local packages,
# so nothing here changes; the evaluator builds into a throw-away DuckDB file and every rule
# that finds something is printed with its rows. Exit 0 either way: the docs give the reason
# for each rule that does not pass.
#
# Usage: scripts/dbt_project_evaluator.sh EVALUATOR_DIR DBT_UTILS_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV_BIN:-$ROOT/.venv/bin}"
EVALUATOR="$(cd "${1:?usage: $0 EVALUATOR_DIR DBT_UTILS_DIR}" && pwd)"
UTILS="$(cd "${2:?usage: $0 EVALUATOR_DIR DBT_UTILS_DIR}" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/project" "$WORK/evaluator"
tar -C "$ROOT/dbt_project" --exclude=target --exclude=logs -cf - . | tar -C "$WORK/project" -xf -
tar -C "$EVALUATOR" --exclude=.git -cf - . | tar -C "$WORK/evaluator" -xf -
printf 'packages:\n  - local: %s\n' "$UTILS" > "$WORK/evaluator/packages.yml"
printf 'packages:\n  - local: %s\n' "$WORK/evaluator" > "$WORK/project/packages.yml"
# The project's conventions: four mart prefixes; its own grain test counts as a primary-key test.
"$BIN/python" - "$WORK/project/dbt_project.yml" <<'EOF'
import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text(encoding="utf-8")
path.write_text(text.replace("vars:\n", """vars:
  dbt_project_evaluator:
    marts_prefixes: ['dim_', 'fct_', 'rpt_', 'ops_']
    primary_key_test_macros: [["dbt.test_unique", "dbt.test_not_null"], ["leadflow.test_unique_combination"]]
""", 1), encoding="utf-8")
EOF

export LEADFLOW_WAREHOUSE="$WORK/evaluator.duckdb" DBT_TARGET_PATH="$WORK/target"
export DBT_LOG_PATH="$WORK/logs" DBT_SEND_ANONYMOUS_USAGE_STATS=false
dbt() { "$BIN/dbt" "$@" --project-dir "$WORK/project" --profiles-dir "$WORK/project"; }
dbt deps > "$WORK/deps.log"
dbt build --target duckdb --select package:dbt_project_evaluator \
    --vars '{"as_of": "2026-01-01"}' > "$WORK/build.log" || { tail -30 "$WORK/build.log"; exit 1; }
grep -E "Done\. PASS=" "$WORK/build.log" | sed 's/.*Done\./evaluator:/'

"$BIN/python" - "$WORK/evaluator.duckdb" <<'EOF'
import sys

import duckdb

con = duckdb.connect(sys.argv[1], read_only=True)
rules = [r for (r,) in con.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'fct_%' "
    "AND table_name NOT LIKE '%coverage' ORDER BY 1").fetchall()]
for rule in rules:
    rows = con.execute(f'SELECT * FROM "{rule}"').fetchall()
    print(f"{rule}: {len(rows) or 'passes'}")
    for row in rows:
        print("   ", " | ".join("" if v is None else str(v) for v in row))
for rule in ("fct_documentation_coverage", "fct_test_coverage"):
    cols = [c for (c,) in con.execute(
        f"SELECT column_name FROM information_schema.columns WHERE table_name = '{rule}'")
        .fetchall()]
    row = con.execute(f'SELECT * FROM "{rule}"').fetchone()
    print(rule + ":", ", ".join(f"{c} {v}" for c, v in zip(cols, row) if c.endswith("_pct")))
EOF
