"""inbox_watch: every 10 minutes, emit the `leadflow_inbox` asset when files wait in the inbox.

`lead_pipeline` is scheduled on that asset as well as on its daily time. Ingest is idempotent
per record and `lead_pipeline` runs one at a time, so a file seen twice is never loaded twice.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from leadflow.core.settings import INBOX_ASSET_NAME

INBOX = Asset(INBOX_ASSET_NAME)  # emitted by inbox_watch when files wait


@dag(
    dag_id="inbox_watch",
    schedule=timedelta(minutes=10),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["leadflow"],
    doc_md=__doc__,
)
def inbox_watch():
    @task(outlets=[INBOX])
    def files_waiting() -> list[str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from leadflow.core.settings import load_settings
        from leadflow.pipeline import waiting_files

        waiting = waiting_files(load_settings())
        if not waiting:
            raise AirflowSkipException("inbox empty")  # skipped: no asset event, no run
        return waiting

    files_waiting()


inbox_watch()
