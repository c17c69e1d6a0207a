#!/usr/bin/env bash
# `make test-postgres` (issue 7, docs/scale-out.md): the dbt models on PostgreSQL build the same
# marts as on DuckDB. Installs PostgreSQL from Debian when it is missing, the `postgres` extra into
# the venv, starts a local cluster, creates a test role and database (idempotent), then runs
# tests/test_postgres.py. Extra arguments go to pytest; `--install-only` installs the extra and
# stops (.ci/run, before it starts this beside `make test`, so no pip writes the venv mid-test).
#
# Environment:
#   LEADFLOW_PG_DSN       use this database (a libpq connection string) and skip the local server
#                         set-up; the test drops and rebuilds the project's schemas in it, so its
#                         name must contain "test"
#   LEADFLOW_PG_CLUSTER   local cluster as VERSION/NAME (default: the first one pg_lsclusters shows)
#   LEADFLOW_PG_TEST_USER / LEADFLOW_PG_TEST_DB   role and database (default leadflow_test)
#   LEADFLOW_PG_KEEP=1    leave the cluster running if this script started it
#   VENV_BIN              the venv's bin directory (default .venv/bin)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VENV_BIN:-$ROOT/.venv/bin}"
PG_USER="${LEADFLOW_PG_TEST_USER:-leadflow_test}"
PG_DB="${LEADFLOW_PG_TEST_DB:-leadflow_test}"
cd "$ROOT"

log() { printf '== %s\n' "$*"; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root: server and superuser commands run as `postgres`, from /
# (postgres may not be allowed into the repository directory).
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres "$@")
    fi
}

install_python_extras() {
    # The pins live in pyproject.toml's `postgres` extra (and constraints.txt); installing them by
    # name avoids rebuilding the editable project on every run.
    local -a requirements
    mapfile -t requirements < <("$BIN/python" -c 'import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["postgres"]))')
    log "python extras: ${requirements[*]}"
    "$BIN/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt \
        "${requirements[@]}"
}

install_server() {
    if command -v pg_ctlcluster > /dev/null; then
        return
    fi
    log "installing PostgreSQL from Debian (apt-get)"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
}

STARTED_CLUSTER=()  # (version name) when this script started the cluster

stop_started_cluster() {
    if [[ ${#STARTED_CLUSTER[@]} -gt 0 && "${LEADFLOW_PG_KEEP:-}" != "1" ]]; then
        log "stopping cluster ${STARTED_CLUSTER[*]} (this script started it; LEADFLOW_PG_KEEP=1 keeps it)"
        as_root pg_ctlcluster "${STARTED_CLUSTER[@]}" stop || true
    fi
}

start_cluster() {
    local version name port status
    if [[ -n "${LEADFLOW_PG_CLUSTER:-}" ]]; then
        version="${LEADFLOW_PG_CLUSTER%%/*}"
        name="${LEADFLOW_PG_CLUSTER##*/}"
    else
        read -r version name _ < <(pg_lsclusters -h | head -n 1) || true
    fi
    if [[ -z "${version:-}" ]] || ! pg_lsclusters -h "$version" "$name" > /dev/null 2>&1; then
        version="${version:-$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' |
            sort -V | tail -n 1)}"
        name="${name:-main}"
        log "creating cluster $version/$name"
        as_root pg_createcluster "$version" "$name"
    fi
    read -r _ _ port status _ < <(pg_lsclusters -h "$version" "$name")
    if [[ "$status" != online* ]]; then
        log "starting cluster $version/$name"
        as_root pg_ctlcluster "$version" "$name" start
        STARTED_CLUSTER=("$version" "$name")
        trap stop_started_cluster EXIT
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$port" && break
        sleep 0.5
    done
    pg_isready -h 127.0.0.1 -p "$port"
    PG_PORT="$port"
}

create_role_and_database() {
    # A fresh random password each run: nothing secret is stored anywhere. It reaches psql on
    # stdin (not the command line) and the test through LEADFLOW_PG_DSN.
    PG_PASSWORD="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(24))')"
    log "role $PG_USER and database $PG_DB (C collation: text sorts as in DuckDB)"
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres <<SQL
\set user '$PG_USER'
\set db '$PG_DB'
\set password '$PG_PASSWORD'
SELECT format('CREATE ROLE %I LOGIN', :'user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'password';
-- raw timestamps are naive UTC: the role's sessions run in UTC (the dbt profile cannot set it)
ALTER ROLE :"user" SET timezone TO 'UTC';
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0 ENCODING %L LC_COLLATE %L '
              'LC_CTYPE %L', :'db', :'user', 'UTF8', 'C', 'C.UTF-8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
    export LEADFLOW_PG_DSN="host=127.0.0.1 port=$PG_PORT dbname=$PG_DB user=$PG_USER password=$PG_PASSWORD"
}

main() {
    local started=$SECONDS
    install_python_extras
    if [[ "${1:-}" == "--install-only" ]]; then
        return
    fi
    if [[ -n "${LEADFLOW_PG_DSN:-}" ]]; then
        log "using LEADFLOW_PG_DSN (no local server set-up)"
    else
        install_server
        start_cluster
        create_role_and_database
    fi
    export PGTZ=UTC  # libpq clients (psycopg, dbt) start their sessions in UTC
    log "pytest tests/test_postgres.py tests/test_postgres_incremental.py"
    "$BIN/python" -m pytest -q -m postgres tests/test_postgres.py tests/test_postgres_incremental.py "$@"
    log "test-postgres passed in $((SECONDS - started)) s"
}

main "$@"
