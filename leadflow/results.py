"""What each step of a run returns, as the pipeline composes it, and the run's summary.

A step package's own result (`IngestResult`, `ValidationResult`, `OwnerEmails`, ...) lives in
that package; here are the results of the pipeline's steps that add to it (the pages and load
reports around validation, the build, the report and mail steps, which may also be skipped,
C9) and the `RunSummary` of a whole run. Typed in the process; JSON only at the Airflow edge and
in `ops.run_summary` (`leadflow.core.results.to_json`).

The step types are imported for type checking only: this module is imported by the run's
no-op check, which must stay free of pandas, GX and DuckDB start-up costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expectations.validate import ValidationResult
    from ingest.loader import IngestResult
    from leadflow.publish import PublishResult
    from leadflow.routing_rules import LoadedRules
    from notify.period_report import ReportDelivery
    from notify.service import OwnerEmails


@dataclass(frozen=True)
class ValidateResult:
    """Validation, then the run's data-quality page and its files' load reports."""

    validation: ValidationResult
    quality_page: str | None  # None: no new rows validated, no page
    quality_index: str | None
    load_reports: int  # files reported (the run's files)
    load_report_index: str | None
    seconds: float = 0.0  # the step's wall time (leadflow.pipeline.timed)


@dataclass(frozen=True)
class Routing:
    """Routing in this build: whether it ran (forward runs, C9), what it assigned, the rules."""

    enabled: bool
    assignments: dict[str, int]  # owner -> leads routed on this business date
    rules: LoadedRules


@dataclass(frozen=True)
class BuildResult:
    """One dbt build, its release as `marts.*` and the load reports rewritten after it."""

    nodes: int
    failed: int
    warned: int
    inputs: str | None  # the fingerprint of what the build read (leadflow.run_inputs)
    kind: str  # forward, backfill or file (pipeline.run_kind)
    full_refresh: bool
    build: str  # "full", or "time_only": the time-driven models alone (leadflow/time_only.py)
    build_reason: str  # why this kind of build: the time-only guard's answer
    routing: Routing
    marts: dict[str, int]  # row counts per released mart
    load_reports: int
    load_report_index: str | None
    seconds: float = 0.0  # the dbt build's, then the step's wall time (pipeline.timed)


@dataclass(frozen=True)
class ReportResult:
    """The period reports (R11) rendered, and their mail when it went out."""

    rendered: int
    reports: list[str]  # the HTML pages
    mailed: bool = False
    reason: str | None = None  # why nothing was rendered, or not mailed
    delivery: ReportDelivery | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class NotifyResult:
    """The owner emails; `sent` is False when the run did not mail (C9), with the reason."""

    sent: bool
    reason: str | None = None
    emails: OwnerEmails | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunSummary:
    """A whole run, step by step: what `leadflow run` prints from and `ops.run_summary` keeps
    as JSON. A run that found nothing to do has only its reason (and is not recorded)."""

    run_id: str
    as_of: date
    kind: str
    send: bool
    nothing_to_do: str | None = None
    ingest: IngestResult | None = None
    validate: ValidateResult | None = None
    transform: BuildResult | None = None
    report: ReportResult | None = None
    publish: PublishResult | None = None
    notify: NotifyResult | None = None
