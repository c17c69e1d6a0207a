#!/usr/bin/env bash
# `make airflow`: the Airflow UI without Docker. Runs `airflow standalone` (scheduler, DAG
# processor, triggerer, API server and UI in one process tree, SQLite, LocalExecutor) with this
# project's DAGs and AIRFLOW_HOME under the data folder (the one `make demo` uses, so its run
# shows in the UI), prints the URL and the login once the UI answers, and runs until Ctrl-C.
#   AIRFLOW_PORT (default 8080), AIRFLOW_HOST (default 127.0.0.1: this machine only),
#   LEADFLOW_DATA_DIR (default ./data), VENV_BIN (default .venv/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${VENV_BIN:-$PWD/.venv/bin}"
data_dir="${LEADFLOW_DATA_DIR:-$PWD/data}"
host="${AIRFLOW_HOST:-127.0.0.1}"
port="${AIRFLOW_PORT:-8080}"
url="http://$host:$port"

export LEADFLOW_DATA_DIR="$data_dir"
export AIRFLOW_HOME="$data_dir/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# One task at a time runs anyway (max_active_runs=1, one DuckDB writer): no 32 idle workers.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"
export AIRFLOW__API__HOST="$host" AIRFLOW__API__PORT="$port"
unset AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS  # standalone's own admin user and password
mkdir -p "$AIRFLOW_HOME"
log="$AIRFLOW_HOME/standalone.log"
passwords="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"

if curl -s -o /dev/null --max-time 2 "$url"; then
  echo "something already answers on $url: stop it or set AIRFLOW_PORT" >&2
  exit 1
fi
# Standalone starts its components as `airflow ...` from PATH.
export PATH="$bin:$PATH"

# Prints the URL and login once the UI answers; gives up with a pointer to the log.
announce() {
  for _ in $(seq 1 300); do
    kill -0 "$$" 2>/dev/null || return 0  # make airflow was stopped meanwhile
    if curl -sf -o /dev/null --max-time 2 "$url/api/v2/version" && [[ -s "$passwords" ]]; then
      password="$("$bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' \
        "$passwords")"
      cat <<BANNER

  Airflow UI   $url
  login        admin / $password   (stored in $passwords)
  DAGs         lead_pipeline, inbox_watch: paused at first; trigger lead_pipeline in the UI
               with conf {"as_of": "YYYY-MM-DD", "send": true}, or unpause it
  data         $data_dir (inbox: $data_dir/inbox; \`make demo\` fills it with demo exports)
  log          $log
  Ctrl-C stops Airflow.

BANNER
      return 0
    fi
    sleep 1
  done
  echo "the Airflow UI did not answer on $url within 300 s: see $log" >&2
}

echo "starting airflow standalone (log: $log) ..."
announce &
# Standalone stops cleanly on one SIGINT to itself, but hangs when its components get the
# terminal's Ctrl-C too (measured: idle LocalExecutor workers keep the scheduler waiting). So it
# runs in a session of its own and this script forwards Ctrl-C / SIGTERM to it, once; a shell
# hands a background job SIGINT ignored, hence the default handler restored in Python.
setsid "$bin/python" -c 'import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.argv = ["airflow", "standalone"]
from airflow.__main__ import main
sys.exit(main())' > "$log" 2>&1 &
pid=$!
stop() {
  trap '' INT TERM
  echo "stopping Airflow ..."
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -TERM -- "-$pid" 2>/dev/null || true  # whatever of its session is left
  sleep 1
  kill -KILL -- "-$pid" 2>/dev/null || true
  echo "stopped"
}
trap 'stop; exit 0' INT TERM
wait "$pid"
