# The Airflow image with leadflow installed: the same pins as pyproject.toml / constraints.txt.
# It carries everything the pipeline reads (code, DAGs, channel YAMLs, routing rules, the dbt
# project, mail templates); docker-compose.yml mounts DAGs, channels and rules over their copies
# so that edits apply without a rebuild. tests/test_compose.py checks both against the code.
FROM apache/airflow:3.3.2-python3.11
USER root
# A CJK font: the period reports' charts (matplotlib) name Chinese sources and labels.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
# Group 0 owns and may write what a run writes: the image runs as any uid in group 0
# (docker-compose.yml: user "${AIRFLOW_UID}:0").
RUN mkdir -p /opt/leadflow/data && chown -R airflow:0 /opt/leadflow && chmod -R g+rwX /opt/leadflow
USER airflow
WORKDIR /opt/leadflow
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md ./
COPY --chown=airflow:0 leadflow ./leadflow
COPY --chown=airflow:0 ingest ./ingest
COPY --chown=airflow:0 expectations ./expectations
COPY --chown=airflow:0 notify ./notify
COPY --chown=airflow:0 tools ./tools
COPY --chown=airflow:0 reporting ./reporting
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 config ./config
COPY --chown=airflow:0 dags ./dags
RUN pip install --no-cache-dir -c constraints.txt -e . psycopg2-binary
ENV LEADFLOW_DATA_DIR=/opt/leadflow/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/leadflow/dags \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
