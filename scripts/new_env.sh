#!/usr/bin/env bash
# Write a .env for docker-compose.yml from .env.example: your uid and a fresh random value for
# every secret. Refuses to overwrite an existing file (secrets in use would be lost).
#   scripts/new_env.sh [output path, default .env]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.env}"
if [[ -e "$out" ]]; then
  echo "$out exists: not overwritten (delete it first to start with new secrets)" >&2
  exit 1
fi
uid="$(id -u)"
# root has no business owning the files of the stack: the image's default user then
[[ "$uid" == 0 ]] && uid=50000
hex() { openssl rand -hex "$1"; }
# A Fernet key is 32 random bytes in URL-safe base64.
fernet() { openssl rand -base64 32 | tr '+/' '-_'; }
umask 077
sed -e "s/^AIRFLOW_UID=.*/AIRFLOW_UID=$uid/" \
    -e "s/^AIRFLOW_ADMIN_PASSWORD=$/AIRFLOW_ADMIN_PASSWORD=$(hex 12)/" \
    -e "s/^POSTGRES_PASSWORD=$/POSTGRES_PASSWORD=$(hex 24)/" \
    -e "s/^AIRFLOW_JWT_SECRET=$/AIRFLOW_JWT_SECRET=$(hex 32)/" \
    -e "s/^AIRFLOW_API_SECRET_KEY=$/AIRFLOW_API_SECRET_KEY=$(hex 32)/" \
    -e "s/^AIRFLOW_FERNET_KEY=$/AIRFLOW_FERNET_KEY=$(fernet)/" \
    -e "s/^SMTP_PASSWORD=$/SMTP_PASSWORD=$(hex 24)/" \
    .env.example > "$out"
echo "wrote $out; Airflow UI login: admin / $(sed -n 's/^AIRFLOW_ADMIN_PASSWORD=//p' "$out")"
