"""The floors of docs/architecture.md, enforced on the code's own imports (read with `ast`).

- `leadflow/core/` (the ground floor) imports no other part of the project.
- A step package (`ingest/`, `expectations/`, `notify/`, `reporting/`) imports only itself and
  the ground floor: no other step, nothing of the top floor (`leadflow/*` outside core), no demo
  tools.
- Nothing imports `leadflow.pipeline`, `leadflow.cli` or `dags/` but the top floor and dags/.
- Only `dags/` and the one SMTP adapter (`notify/smtp_connection.py`) import Airflow.
- Production code never imports the demo generator (`tools/`), except the CLI's `demo-data`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("ingest", "expectations", "notify", "reporting")
PRODUCTION = ("leadflow", *STEPS, "dags")
TOP = ("leadflow.pipeline", "leadflow.cli")
AIRFLOW_ALLOWED = {"notify/smtp_connection.py"}
TOOLS_ALLOWED = {"leadflow/cli.py"}  # `leadflow demo-data` / `demo-dir`, imported lazily


def _modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module an import statement of `path` names, at any depth (lazy imports count)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _project(name: str) -> str | None:
    """The part of the project `name` belongs to: a step, `core`, `top`, `tools`, `dags`."""
    if _under(name, "leadflow.core"):
        return "core"
    if _under(name, "leadflow"):
        return "top"
    for part in (*STEPS, "tools", "dags"):
        if _under(name, part):
            return part
    return None


def _violations(folder: str, allowed: set[str | None]) -> list[str]:
    found = []
    for path in _modules(folder):
        for name in sorted(_imports(path)):
            part = _project(name)
            if part is not None and part not in allowed:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_the_ground_floor_imports_nothing_above_it() -> None:
    assert _violations("leadflow/core", {"core"}) == []


@pytest.mark.parametrize("step", STEPS)
def test_a_step_imports_only_itself_and_the_ground_floor(step: str) -> None:
    assert _violations(step, {"core", step}) == []


def test_only_the_top_floor_imports_the_pipeline_the_cli_or_dags() -> None:
    found = []
    for folder in (*PRODUCTION, "tools"):
        for path in _modules(folder):
            rel = path.relative_to(ROOT).as_posix()
            top_floor = rel in ("leadflow/pipeline.py", "leadflow/cli.py") or folder == "dags"
            for name in _imports(path):
                upward = any(_under(name, t) for t in TOP) or _under(name, "dags")
                if upward and not top_floor:
                    found.append(f"{rel} imports {name}")
    assert found == []


def test_only_dags_and_the_smtp_adapter_import_airflow() -> None:
    found = []
    for folder in (*PRODUCTION, "tools"):
        for path in _modules(folder):
            rel = path.relative_to(ROOT).as_posix()
            if folder == "dags" or rel in AIRFLOW_ALLOWED:
                continue
            found += [f"{rel} imports {n}" for n in _imports(path) if _under(n, "airflow")]
    assert found == []


def test_production_code_does_not_import_the_demo_tools() -> None:
    found = []
    for folder in PRODUCTION:
        for path in _modules(folder):
            rel = path.relative_to(ROOT).as_posix()
            if rel in TOOLS_ALLOWED:
                continue
            found += [f"{rel} imports {n}" for n in _imports(path) if _under(n, "tools")]
    assert found == []


def test_the_rules_see_the_imports_they_judge() -> None:
    """The reader must find lazy imports too: a rule that sees nothing passes vacuously."""
    cli = _imports(ROOT / "leadflow" / "cli.py")
    assert "tools.demo.data" in cli  # imported inside a function
    assert any(_under(n, "airflow") for n in _imports(ROOT / "notify" / "smtp_connection.py"))
    assert _violations("leadflow", {"core"})  # the top floor does import the steps
