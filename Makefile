# leadflow: `make demo` sets everything up and runs the pipeline on demo data; `make test` tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The demo's own folder: `make demo` empties it only when an earlier demo wrote it (a marker file)
# and nothing waits in its inbox; your own data lives in data/ (LEADFLOW_DATA_DIR), never here.
DEMO_DIR ?= $(CURDIR)/data/demo
AS_OF ?= $(shell TZ=$${LEADFLOW_TIMEZONE:-Asia/Shanghai} date +%F)
# One Airflow home under the data folder: `make demo` runs the DAG in it, `make airflow` shows it.
AIRFLOW_HOME_DIR := $(DEMO_DIR)/airflow
AIRFLOW_ENV := AIRFLOW_HOME=$(AIRFLOW_HOME_DIR) \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$(AIRFLOW_HOME_DIR)/airflow.db \
	LEADFLOW_DATA_DIR=$(DEMO_DIR)

.PHONY: install demo test lint format clean docs airflow env freshness

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/leadflow demo-dir $(DEMO_DIR)
	$(BIN)/leadflow demo-data --out $(DEMO_DIR)/inbox --as-of $(AS_OF) > /dev/null
	mkdir -p $(AIRFLOW_HOME_DIR)
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(AIRFLOW_HOME_DIR)/migrate.log 2>&1 \
		|| (cat $(AIRFLOW_HOME_DIR)/migrate.log; exit 1)
	$(AIRFLOW_ENV) $(BIN)/airflow dags test lead_pipeline $(AS_OF) \
		--conf '{"as_of": "$(AS_OF)", "send": true}' > $(DEMO_DIR)/airflow-dags-test.log 2>&1 \
		|| (tail -n 80 $(DEMO_DIR)/airflow-dags-test.log; exit 1)
	@LEADFLOW_DATA_DIR=$(DEMO_DIR) $(BIN)/leadflow summary
	@echo "  airflow log         $(DEMO_DIR)/airflow-dags-test.log"

# The Airflow UI without Docker: `airflow standalone` with these DAGs, AIRFLOW_HOME in
# data/demo/airflow; prints the URL and the login, runs until Ctrl-C (AIRFLOW_PORT, default 8080).
airflow: install
	LEADFLOW_DATA_DIR=$(DEMO_DIR) VENV_BIN=$(BIN) scripts/airflow_ui.sh

# .env for docker-compose.yml: your uid and fresh random secrets; never overwrites one.
env:
	scripts/new_env.sh .env

docs: install  # dbt docs of the demo warehouse (run `make demo` first)
	cd $(DEMO_DIR) && DBT_SEND_ANONYMOUS_USAGE_STATS=False \
		LEADFLOW_WAREHOUSE=$(DEMO_DIR)/warehouse/leadflow.duckdb $(BIN)/dbt docs generate \
		--static --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project \
		--target-path $(DEMO_DIR)/dbt-docs --log-path $(DEMO_DIR)/dbt/logs \
		--vars '{"as_of": "$(AS_OF)"}' > /dev/null
	@echo "dbt docs: open $(DEMO_DIR)/dbt-docs/static_index.html in a browser"

# dbt source freshness of the demo warehouse (your own: LEADFLOW_WAREHOUSE=...): warns when ingest
# has seen no file for 2 days, errors after 7 (dbt_project/models/staging/raw/sources.yml).
freshness: install
	cd $(DEMO_DIR) && DBT_SEND_ANONYMOUS_USAGE_STATS=False \
		LEADFLOW_WAREHOUSE=$${LEADFLOW_WAREHOUSE:-$(DEMO_DIR)/warehouse/leadflow.duckdb} \
		$(BIN)/dbt source freshness --project-dir $(CURDIR)/dbt_project \
		--profiles-dir $(CURDIR)/dbt_project --target-path $(DEMO_DIR)/dbt/target \
		--log-path $(DEMO_DIR)/dbt/logs --vars '{"as_of": "$(AS_OF)"}'

# Two pytest-xdist workers (the machine's two cores; TEST_WORKERS=0 runs in one process), each
# taking whole files, so a module fixture is built once; the demo DAG run is shared (conftest.py).
TEST_WORKERS ?= 2
test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# dbt on PostgreSQL (issue 7, docs/scale-out.md): starts a local server (installed from Debian if
# missing), then checks that every mart equals the DuckDB build's. Not part of `make test`.
.PHONY: test-postgres
test-postgres: install
	VENV_BIN=$(BIN) bash scripts/test_postgres.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:  # the demo's folder only (never data/ itself, which may hold your own files)
	if [ -f $(DEMO_DIR)/.leadflow-demo ]; then rm -rf $(DEMO_DIR); fi
	rm -rf dbt_project/target dbt_project/logs
