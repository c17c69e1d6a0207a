# The Airflow image with leadflow installed: the same pins as pyproject.toml / constraints.txt.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN mkdir -p /opt/leadflow && chown airflow: /opt/leadflow
USER airflow
WORKDIR /opt/leadflow
COPY --chown=airflow: pyproject.toml constraints.txt README.md ./
COPY --chown=airflow: leadflow ./leadflow
COPY --chown=airflow: ingest ./ingest
COPY --chown=airflow: expectations ./expectations
COPY --chown=airflow: notify ./notify
COPY --chown=airflow: dbt_project ./dbt_project
RUN pip install --no-cache-dir -c constraints.txt -e . psycopg2-binary
