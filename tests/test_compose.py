"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the real Compose v2
binary validates and renders the file with a `.env` written by `make env`, and the rendered model
is checked for what a deployment needs: secrets from .env only, the image's uid convention, the
folders a person looks at on the host, and every path the pipeline reads in the image or a mount.
What this cannot show (the image builds, the services start): docs/operations.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import pytest

from tests.e2e_support import REPO

COMPOSE = Path(sys.executable).with_name("docker-compose")
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
SECRETS = (
    "AIRFLOW_ADMIN_PASSWORD",
    "POSTGRES_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_FERNET_KEY",
    "SMTP_PASSWORD",
)
APP = PurePosixPath("/opt/leadflow")  # the Dockerfile's WORKDIR: REPO_ROOT in the image
HOST_VISIBLE = ("LEADFLOW_INBOX", "LEADFLOW_PUBLISH_DIR", "LEADFLOW_REPORTS_DIR", "LEADFLOW_OUTBOX")


def write_env(path: Path) -> dict[str, str]:
    """`make env`'s script into `path`; returns the values it wrote."""
    subprocess.run([str(REPO / "scripts" / "new_env.sh"), str(path)], check=True,
                   capture_output=True)  # fmt: skip
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def compose(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "--env-file", str(env_file), *args],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )


def render(env_file: Path) -> dict:
    assert compose(env_file, "config", "-q").returncode == 0
    done = compose(env_file, "config", "--format", "json")
    assert done.returncode == 0 and not done.stderr, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def env_values(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("env") / ".env"
    return path, write_env(path)


@pytest.fixture(scope="module")
def rendered(env_values: tuple[Path, dict[str, str]]) -> dict:
    return render(env_values[0])


def dockerfile_copies() -> dict[PurePosixPath, Path]:
    """Image path -> repo path of every COPY of the Dockerfile (sources relative to the repo,
    destinations relative to WORKDIR)."""
    text = (REPO / "Dockerfile").read_text()
    workdir = PurePosixPath(re.search(r"^WORKDIR (\S+)", text, re.M)[1])
    copies: dict[PurePosixPath, Path] = {}
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        parts = [p for p in line.split() if not p.startswith("--")]
        *sources, dest = parts
        target = workdir / dest
        for source in sources:
            image_path = target / source if dest.endswith("/") else target
            copies[PurePosixPath(os.path.normpath(image_path))] = REPO / source
    return copies


def mounts(service: dict) -> dict[PurePosixPath, dict]:
    return {PurePosixPath(v["target"]): v for v in service.get("volumes", [])}


def covered(path: PurePosixPath, roots: set[PurePosixPath]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def paths_the_pipeline_reads() -> set[Path]:
    """Repo paths the code reads at run time: the settings' defaults, the routing rules, the mail
    templates, and every `REPO_ROOT / "..."` of the packages (so a new one is checked too)."""
    from leadflow.core.settings import DEFAULT_ROUTING_RULES as DEFAULT_RULES_PATH
    from leadflow.core.settings import REPO_ROOT, load_settings
    from notify.render import TEMPLATES_DIR

    settings = load_settings()
    found = {settings.channels_dir, settings.dbt_project_dir, DEFAULT_RULES_PATH, TEMPLATES_DIR}
    packages = re.findall(r'"(\w+)\*"', (REPO / "pyproject.toml").read_text())
    found |= {REPO / name for name in packages}
    for package in packages:
        for source in (REPO / package).rglob("*.py"):
            for name in re.findall(r'REPO_ROOT\s*/\s*"([^"]+)"', source.read_text()):
                found.add(REPO_ROOT / name)
    return found - {REPO_ROOT / "data"}  # the default data folder: a volume in Compose


# --- secrets ------------------------------------------------------------------------------------


def test_compose_refuses_to_start_while_a_secret_is_missing(tmp_path: Path) -> None:
    example = compose(REPO / ".env.example", "config", "-q")
    # Compose 2.40 reports the missing value (and `up` stops on it) even where `config` exits 0
    assert "is missing a value" in example.stderr
    full = (REPO / ".env.example").read_text()
    generated = tmp_path / "full.env"
    values = write_env(generated)
    for secret in SECRETS:
        env_file = tmp_path / f"without-{secret}.env"
        env_file.write_text("".join(f"{k}={'' if k == secret else v}\n" for k, v in values.items()))
        done = compose(env_file, "config", "-q")
        assert f"required variable {secret} is missing a value" in done.stderr, secret
        assert f"{secret}=\n" in full  # and .env.example ships it empty: no default secret


def test_no_secret_is_written_in_the_compose_file(tmp_path: Path, rendered: dict) -> None:
    """Rendered with two different .env files, every secret-bearing value changes, and each
    holds its .env value: none is a literal of docker-compose.yml."""
    other = render_with_new_env(tmp_path)
    first = env_of_all(rendered)
    second = env_of_all(other)
    secret_keys = [
        k
        for k in first
        if re.search(r"PASSWORD|SECRET|FERNET|_CONN|\.MP_SMTP_AUTH$", k) and not k.endswith("_FILE")
    ]
    assert len(secret_keys) >= 8
    for key in secret_keys:
        assert first[key] != second[key], f"{key} does not come from .env"
    text = (REPO / "docker-compose.yml").read_text()
    for secret in SECRETS:
        assert f"${{{secret}:?" in text  # required: no default value either


def render_with_new_env(tmp_path: Path) -> dict:
    path = tmp_path / "second.env"
    write_env(path)
    return render(path)


def env_of_all(model: dict) -> dict[str, str]:
    return {
        f"{name}.{key}": str(value)
        for name, service in model["services"].items()
        for key, value in (service.get("environment") or {}).items()
    }


def test_make_env_writes_fresh_valid_secrets_and_keeps_an_existing_file(
    env_values: tuple[Path, dict[str, str]],
) -> None:
    from cryptography.fernet import Fernet

    path, values = env_values
    secrets = [values[s] for s in SECRETS]
    assert all(len(s) >= 24 for s in secrets) and len(set(secrets)) == len(secrets)
    Fernet(values["AIRFLOW_FERNET_KEY"].encode())  # raises on an invalid key
    assert values["POSTGRES_PASSWORD"].isalnum()  # it goes into a URL unquoted
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run([str(REPO / "scripts/new_env.sh"), str(path)], capture_output=True)
    assert again.returncode != 0 and write_env_values(path) == values  # not overwritten


def write_env_values(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line and not line.startswith("#")
    )


def test_every_airflow_service_shares_one_jwt_secret_fernet_key_and_api_key(
    rendered: dict, env_values: tuple[Path, dict[str, str]]
) -> None:
    values = env_values[1]
    for name in AIRFLOW_SERVICES:
        env = rendered["services"][name]["environment"]
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == values["AIRFLOW_JWT_SECRET"]
        assert env["AIRFLOW__CORE__FERNET_KEY"] == values["AIRFLOW_FERNET_KEY"]
        assert env["AIRFLOW__API__SECRET_KEY"] == values["AIRFLOW_API_SECRET_KEY"]


def test_metadata_database_and_smtp_use_the_env_passwords(
    rendered: dict, env_values: tuple[Path, dict[str, str]]
) -> None:
    values = env_values[1]
    services = rendered["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == values["POSTGRES_PASSWORD"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        metadata = urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert metadata.hostname == "postgres" and metadata.password == values["POSTGRES_PASSWORD"]
        smtp = urlparse(env["AIRFLOW_CONN_SMTP_DEFAULT"])
        assert smtp.scheme == "smtp" and smtp.hostname == "mailpit"
        assert unquote(smtp.password) == values["SMTP_PASSWORD"]
    mailpit = services["mailpit"]
    assert mailpit["environment"]["MP_SMTP_AUTH"] == f"leadflow:{values['SMTP_PASSWORD']}"
    published = {int(p["target"]) for p in mailpit["ports"]}
    assert smtp.port in published and 8025 in published  # SMTP and the web UI
    assert all(p.get("host_ip") == "127.0.0.1" for p in mailpit["ports"])  # no open mail UI


def test_the_smtp_connection_parses_as_notify_reads_it(rendered: dict) -> None:
    from notify.smtp_connection import _settings_from_env

    uri = rendered["services"]["airflow-scheduler"]["environment"]["AIRFLOW_CONN_SMTP_DEFAULT"]
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = uri
    try:
        settings = _settings_from_env("smtp_default")
    finally:
        del os.environ["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert (settings.host, settings.port, settings.login) == ("mailpit", 1025, "leadflow")
    assert not settings.ssl and not settings.starttls
    assert settings.from_address.endswith("leadflow@leadflow.example")


def test_the_ui_login_is_the_env_password(
    rendered: dict, env_values: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The api-server's start command writes the simple auth manager's passwords file from
    .env: run that command's Python here and read the file it writes."""
    api = rendered["services"]["airflow-apiserver"]
    env = api["environment"]
    script = api["command"][2]
    snippet = re.search(r"python -c '(.+)'", script)[1]
    assert script.rstrip().endswith("exec airflow api-server")
    passwords = tmp_path / "passwords.json"
    subprocess.run(
        [sys.executable, "-c", snippet],
        env={**env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords)},
        check=True,
    )
    assert json.loads(passwords.read_text()) == {"admin": env_values[1]["AIRFLOW_ADMIN_PASSWORD"]}
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"


# --- users, folders and paths -----------------------------------------------------------------


def test_airflow_runs_as_airflow_uid_in_group_0_and_init_gives_it_the_folders(
    rendered: dict, env_values: tuple[Path, dict[str, str]]
) -> None:
    uid = env_values[1]["AIRFLOW_UID"]
    services = rendered["services"]
    for name in AIRFLOW_SERVICES:
        assert services[name]["user"] == f"{uid}:0"
        assert services[name]["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        )
    init = services["airflow-init"]
    assert init["user"] == "0:0" and init["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"
    script = init["command"][-1]
    assert f'chown -R "{uid}:0" /opt/leadflow/data /opt/airflow/logs' in script
    writable = {PurePosixPath(t) for t in ("/opt/leadflow/data", "/opt/airflow/logs")}
    for target, volume in mounts(services["airflow-scheduler"]).items():
        if not volume.get("read_only"):
            assert covered(target, writable), f"{target} is written but not given to {uid}"


def test_reports_outbox_publish_and_inbox_are_folders_on_the_host(rendered: dict) -> None:
    service = rendered["services"]["airflow-scheduler"]
    env, volumes = service["environment"], mounts(service)
    for key in HOST_VISIBLE:
        volume = volumes.get(PurePosixPath(env[key]))
        assert volume and volume["type"] == "bind", f"{key} ({env[key]}) is not on the host"
        source = Path(volume["source"])
        assert source.is_dir() and REPO / "deploy" in source.parents
        assert (source / ".gitkeep").exists()  # present in a fresh clone, owned by its user
    warehouse = PurePosixPath(env["LEADFLOW_WAREHOUSE"])
    assert covered(warehouse, {t for t, v in volumes.items() if v["type"] == "volume"})
    assert env["LEADFLOW_DATA_DIR"] in {str(t) for t in volumes}  # dbt state survives restarts


def test_every_bind_mounted_path_exists_in_the_repo(rendered: dict) -> None:
    binds = [
        v["source"]
        for s in rendered["services"].values()
        for v in s.get("volumes", [])
        if v["type"] == "bind"
    ]
    assert binds
    assert not [b for b in binds if not Path(b).exists()]


def test_every_path_the_pipeline_reads_is_in_the_image_or_mounted(rendered: dict) -> None:
    copies = dockerfile_copies()
    assert all(source.exists() for source in copies.values()), copies
    service = rendered["services"]["airflow-scheduler"]
    volumes = mounts(service)
    data = PurePosixPath(service["environment"]["LEADFLOW_DATA_DIR"])
    for target, volume in volumes.items():  # a bind mount of code mirrors the repo's folder
        if volume["type"] == "bind" and covered(target, {APP}) and not covered(target, {data}):
            assert Path(volume["source"]) == REPO / target.relative_to(APP), target
    roots = set(copies) | set(volumes)
    paths = paths_the_pipeline_reads()
    assert {REPO / "config" / "routing.yaml", REPO / "ingest" / "channels"} <= paths
    missing = []
    for path in sorted(paths):
        assert path.exists(), f"{path} is read by the pipeline but not in the repo"
        in_image = APP / path.relative_to(REPO)
        if not covered(in_image, roots):
            missing.append(str(in_image))
    assert not missing, f"read by the pipeline, absent from the image: {missing}"
    dags = PurePosixPath(service["environment"]["AIRFLOW__CORE__DAGS_FOLDER"])
    assert covered(dags, set(copies)) and dags in volumes


def test_airflow_image_tag_matches_the_pinned_version() -> None:
    pinned = re.search(r'"apache-airflow==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]
    base = re.search(r"^FROM apache/airflow:([\d.]+)-", (REPO / "Dockerfile").read_text(), re.M)
    assert base and base[1] == pinned


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".venv", "data", "deploy", ".git"} <= ignored
