"""docker-compose.yml, checked without a Docker engine: the real Compose v2 binary validates and
renders it, and the rendered model is checked for what a deployment needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e_support import REPO

COMPOSE = Path(sys.executable).with_name("docker-compose")
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


@pytest.fixture(scope="module")
def rendered() -> dict:
    env = {"AIRFLOW_JWT_SECRET": "test-secret", "PATH": "/usr/bin:/bin"}
    subprocess.run([str(COMPOSE), "config", "-q"], cwd=REPO, env=env, check=True)
    out = subprocess.run(
        [str(COMPOSE), "config", "--format", "json"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_compose_refuses_to_start_without_the_jwt_secret() -> None:
    done = subprocess.run(
        [str(COMPOSE), "config", "-q"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    # Compose 2.40 reports the missing variable (and `up` stops on it) even where `config` exits 0
    assert "required variable AIRFLOW_JWT_SECRET is missing" in done.stderr


def test_all_airflow_services_run_on_localexecutor_with_postgres(rendered: dict) -> None:
    services = rendered["services"]
    assert set(AIRFLOW_SERVICES) <= set(services)
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
    assert services["postgres"]["image"].startswith("postgres:")


def test_one_jwt_secret_is_shared_by_every_airflow_service(rendered: dict) -> None:
    secrets = {
        rendered["services"][n]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"]
        for n in AIRFLOW_SERVICES
    }
    assert secrets == {"test-secret"}


def test_airflow_image_tag_matches_the_pinned_version() -> None:
    pinned = re.search(r'"apache-airflow==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]
    base = re.search(r"^FROM apache/airflow:([\d.]+)-", (REPO / "Dockerfile").read_text(), re.M)
    assert base and base[1] == pinned


def test_every_bind_mounted_path_exists_in_the_repo(rendered: dict) -> None:
    binds = [
        v["source"]
        for s in rendered["services"].values()
        for v in s.get("volumes", [])
        if v["type"] == "bind"
    ]
    assert binds
    missing = [b for b in binds if not Path(b).exists()]
    assert not missing


def test_inbox_warehouse_and_publish_are_volumes_the_pipeline_reads(rendered: dict) -> None:
    service = rendered["services"]["airflow-scheduler"]
    targets = {v["target"] for v in service["volumes"]}
    env = service["environment"]
    for key in ("LEADFLOW_INBOX", "LEADFLOW_PUBLISH_DIR"):
        assert env[key] in targets
    assert str(Path(env["LEADFLOW_WAREHOUSE"]).parent) in targets


def test_smtp_connection_points_at_mailpit(rendered: dict) -> None:
    services = rendered["services"]
    conn = urlparse(services["airflow-scheduler"]["environment"]["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert conn.scheme == "smtp" and conn.hostname == "mailpit"
    published = {int(p["target"]) for p in services["mailpit"]["ports"]}
    assert conn.port in published and 8025 in published  # SMTP and the web UI
