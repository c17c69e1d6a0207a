# leadflow: `make demo` sets everything up and runs the pipeline on demo data; `make test` tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
DEMO_DIR := $(CURDIR)/data
AS_OF ?= $(shell TZ=Asia/Shanghai date +%F)
AIRFLOW_ENV := AIRFLOW_HOME=$(CURDIR)/.airflow \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$(CURDIR)/.airflow/airflow.db \
	LEADFLOW_DATA_DIR=$(DEMO_DIR)

.PHONY: install demo test lint format clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf $(DEMO_DIR) $(CURDIR)/.airflow
	$(BIN)/leadflow demo-data --out $(DEMO_DIR)/inbox --as-of $(AS_OF) > /dev/null
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate > $(CURDIR)/.airflow-migrate.log 2>&1 \
		|| (cat $(CURDIR)/.airflow-migrate.log; exit 1)
	$(AIRFLOW_ENV) $(BIN)/airflow dags test lead_pipeline $(AS_OF) \
		--conf '{"as_of": "$(AS_OF)", "send": true}' > $(DEMO_DIR)/airflow-dags-test.log 2>&1 \
		|| (tail -n 80 $(DEMO_DIR)/airflow-dags-test.log; exit 1)
	@LEADFLOW_DATA_DIR=$(DEMO_DIR) $(BIN)/leadflow summary
	@echo "  airflow log         $(DEMO_DIR)/airflow-dags-test.log"

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(DEMO_DIR) .airflow .airflow-migrate.log dbt_project/target dbt_project/logs
