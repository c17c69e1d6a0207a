"""Helpers for the end-to-end tests: run the real DAG in a throw-away Airflow home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def airflow_env(airflow_home: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LEADFLOW"))}
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home / 'airflow.db'}",
        LEADFLOW_DATA_DIR=str(data_dir),
        **extra,
    )
    return env


def run_dag_test(
    airflow_home: Path, data_dir: Path, conf: dict | None, logical_date: str, **extra_env: str
) -> str:
    """`airflow dags test lead_pipeline` in a subprocess; returns its output, raises on failure."""
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(airflow_home, data_dir, **extra_env)
    airflow = str(BIN / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [airflow, "dags", "test", "lead_pipeline", logical_date]
        + (["--conf", json.dumps(conf)] if conf is not None else []),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "state=failed" in output.replace(" ", ""):
        raise AssertionError(f"airflow dags test failed ({done.returncode}):\n{output[-6000:]}")
    return output
