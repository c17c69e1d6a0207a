"""lead_pipeline: ingest -> validate -> transform -> publish -> notify, daily at 07:00.

Thin wiring only: every step lives in `leadflow.pipeline` and is shared with `leadflow run` (C9).
Heavy libraries are imported inside the tasks, so parsing this file stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable

from leadflow.core.settings import INBOX_ASSET_NAME, load_settings

# The deployment's business timezone (C4, LEADFLOW_TIMEZONE): the schedule, the models and the
# mail all count days in it.
BUSINESS_TIMEZONE = load_settings().business_timezone


def _run_parameters() -> dict:
    """as_of from the run's conf, else the logical date in business time, else today (C4)."""
    from leadflow.core.clock import resolve_as_of
    from leadflow.core.settings import load_settings

    context = get_current_context()
    settings = load_settings()
    conf = (context["dag_run"].conf or {}) if context.get("dag_run") else {}
    logical = context.get("logical_date")
    if conf.get("as_of"):
        as_of = resolve_as_of(conf["as_of"], settings.tz)
    elif logical is not None:
        as_of = pendulum.instance(logical).in_timezone(settings.business_timezone).date()
    else:
        as_of = resolve_as_of(None, settings.tz)
    run_type = str(getattr(context.get("dag_run"), "run_type", "") or "")
    return {
        "settings": settings,
        "as_of": as_of,
        "send": bool(conf.get("send", False)),
        "resend": bool(conf.get("resend", False)),
        "full_refresh": bool(conf.get("full_refresh", False)),
        "file_triggered": run_type.endswith("asset_triggered"),
        "run_id": context["run_id"],
    }


# A task waits this long for the run lock (a `leadflow run` in progress) unless
# LEADFLOW_RUN_LOCK_WAIT_SECONDS says otherwise; then it fails and Airflow retries it.
LOCK_WAIT_SECONDS = 600


def airflow_error(exc: Exception) -> Exception:
    """The one place leadflow's two kinds of error meet Airflow's retry (leadflow.core.errors).

    Transient (another run in progress, a full disk, mail not delivered): AirflowException, so
    Airflow retries the task (default_args: 2 retries). Terminal (bad configuration, a failed
    dbt build, a read-only publish folder): AirflowFailException, the task fails at once. Any
    other exception is a bug and is raised as it is (Airflow's default: retried)."""
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from leadflow.core.errors import LeadflowError

    if not isinstance(exc, LeadflowError):
        return exc
    return AirflowException(str(exc)) if exc.retryable else AirflowFailException(str(exc))


def _locked(task: str, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one shared step under the run lock that `leadflow run` takes too (C9); its typed
    result leaves as JSON, the only thing XCom carries (leadflow.core.results)."""
    from leadflow.core.results import to_json
    from leadflow.core.settings import load_settings
    from leadflow.run_lock import run_lock, wait_seconds

    context = get_current_context()
    what = f"airflow lead_pipeline {context['run_id']} task {task}"
    try:
        with run_lock(load_settings().warehouse, what=what, wait=wait_seconds(LOCK_WAIT_SECONDS)):
            return to_json(step(*args, **kwargs))
    except Exception as exc:
        mapped = airflow_error(exc)
        if mapped is exc:
            raise
        raise mapped from None


INBOX = Asset(INBOX_ASSET_NAME)  # emitted by inbox_watch when files wait


@dag(
    dag_id="lead_pipeline",
    # Daily at 07:00 business time, and whenever `inbox_watch` sees new files (C9: such
    # file-triggered runs build the marts but neither publish nor mail).
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * *", timezone=BUSINESS_TIMEZONE),
        assets=[INBOX],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=BUSINESS_TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(minutes=30),
    },
    tags=["leadflow"],
    doc_md=__doc__,
)
def lead_pipeline():
    @task.short_circuit
    def anything_to_do() -> bool:
        """False (every later task skipped) when the last finished run already did what this
        one would: the inbox sensor triggers runs all day, most find nothing (issue 17)."""
        from leadflow import pipeline

        p = _run_parameters()

        def check() -> dict:
            if p["full_refresh"]:
                return {"reason": None}
            reason = pipeline.nothing_to_do(
                p["settings"],
                p["as_of"],
                send=p["send"],
                resend=p["resend"],
                file_triggered=p["file_triggered"],
            )
            return {"reason": reason}

        reason = _locked("anything_to_do", check)["reason"]
        if reason:
            print(reason)
        return reason is None

    @task
    def ingest() -> dict:

        from leadflow import pipeline

        p = _run_parameters()
        return _locked("ingest", pipeline.ingest, p["settings"], p["run_id"])

    @task
    def validate(ingested: dict) -> dict:
        """Every load not validated yet, this run's and any a killed run left (not only
        `ingested`, which only orders the tasks)."""
        from leadflow import pipeline

        p = _run_parameters()
        return _locked("validate", pipeline.validate, p["settings"], p["as_of"], p["run_id"])

    @task  # a failed build (BuildFailed) fails at once; another run in progress is retried
    def transform(validated: dict) -> dict:
        from leadflow import pipeline

        p = _run_parameters()
        return _locked(
            "transform",
            pipeline.transform,
            p["settings"],
            p["as_of"],
            p["run_id"],
            file_triggered=p["file_triggered"],
            full_refresh=p["full_refresh"],
        )

    @task
    def report(transformed: dict) -> dict:
        """The weekly / monthly analysis (R11): rendered from the marts, mailed when due."""
        from leadflow import pipeline

        p = _run_parameters()
        return _locked(
            "report",
            pipeline.report,
            p["settings"],
            p["as_of"],
            send=p["send"],
            resend=p["resend"],
            file_triggered=p["file_triggered"],
        )

    @task
    def publish(reported: dict) -> dict:
        from leadflow import pipeline

        p = _run_parameters()
        return _locked(
            "publish",
            pipeline.publish,
            p["settings"],
            p["as_of"],
            p["run_id"],
            file_triggered=p["file_triggered"],
        )

    @task
    def notify(
        published: dict, ingested: dict, validated: dict, transformed: dict, reported: dict
    ) -> dict:
        from leadflow import pipeline

        p = _run_parameters()

        def notify_and_record() -> Any:
            from leadflow.core.results import to_json

            mailed = pipeline.notify(
                p["settings"],
                p["as_of"],
                send=p["send"],
                resend=p["resend"],
                file_triggered=p["file_triggered"],
            )
            # a leadflow.results.RunSummary, from the tasks' JSON (as `leadflow run` stores it)
            summary = {
                "run_id": p["run_id"],
                "as_of": p["as_of"].isoformat(),
                "kind": transformed.get("kind"),
                "send": p["send"],
                "nothing_to_do": None,
                "ingest": ingested,
                "validate": validated,
                "transform": transformed,
                "report": reported,
                "publish": published,
                "notify": to_json(mailed),
            }
            pipeline.record_run(p["settings"], p["run_id"], p["as_of"], summary)
            return mailed

        return _locked("notify", notify_and_record)

    ingested = anything_to_do() >> ingest()
    validated = validate(ingested)
    transformed = transform(validated)
    reported = report(transformed)
    published = publish(reported)
    notify(published, ingested, validated, transformed, reported)


lead_pipeline()
