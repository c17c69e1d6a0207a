"""Every environment variable leadflow reads, with its default: the only module that reads them.

Run configuration (paths, business timezone, mail limits) is one frozen `Settings`; the few knobs
read where they act (DuckDB's memory caps, the run lock's wait, the routing rules file, the
console's tick, a pinned today, an Airflow connection given by environment) are functions here,
read at call time so that a test or an operator can set them per process. Every value has a
default for the embedded set-up (DuckDB file, local outbox); explicit arguments win over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from leadflow.core.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parents[2]
# The business timezone (C4) unless LEADFLOW_TIMEZONE names another IANA zone; a channel's
# own export timezone defaults to it too.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# DuckDB takes 80 % of RAM by default; at 1M leads the steps then held 7-10 GB each. With a limit
# it spills big joins and sorts to `<warehouse>.tmp/` (the dbt profile reads the same variable
# with the same default). Ingest and validation stream one file or part at a time and take a
# smaller cap, leaving room to their Arrow tables and GX frames (1M leads: 3.3 -> 2.4 GB peak).
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_STREAMING_MEMORY_LIMIT = "1GB"
# Validation splits a large multi-channel load over this many processes (2 cores here; 1:
# one process). Each worker's DuckDB gets a share of the streaming cap (expectations/parallel.py).
VALIDATION_WORKERS_ENV = "LEADFLOW_VALIDATION_WORKERS"
DEFAULT_VALIDATION_WORKERS = 2
RUN_LOCK_WAIT_ENV = "LEADFLOW_RUN_LOCK_WAIT_SECONDS"
ROUTING_RULES_ENV = "LEADFLOW_ROUTING_RULES"
DEFAULT_ROUTING_RULES = REPO_ROOT / "config" / "routing.yaml"
DEFAULT_PROGRESS_SECONDS = 15.0
SNAPSHOT_NAME = "leadflow_marts.duckdb"  # the BI snapshot in the publish folder (mail names it)
INBOX_ASSET_NAME = "leadflow_inbox"  # the Airflow asset that says files wait in the inbox
# Owner emails stay under ~100 KB of HTML (Gmail clips longer ones) even when every listed field
# is as long as the cap allows (docs/mail.md: measured sizes): at most 20 items per section, 30
# in all, every free-text value cut to 60 characters (the warehouse keeps the whole value).
DEFAULT_MAIL_MAX_ITEMS_PER_SECTION = 20
DEFAULT_MAIL_MAX_ITEMS = 30
DEFAULT_MAIL_MAX_FIELD_CHARS = 60
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_positive_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigurationError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _TRUE + _FALSE:
        raise ConfigurationError(
            f"{name} must be one of {', '.join(_TRUE + _FALSE)}, got {value!r}"
        )
    return value in _TRUE


@dataclass(frozen=True)
class Settings:
    """Where a run reads and writes, and in which business timezone it counts days."""

    data_dir: Path
    inbox: Path
    warehouse: Path
    outbox: Path
    reports_dir: Path
    publish_dir: Path
    channels_dir: Path
    dbt_project_dir: Path
    business_timezone: str = DEFAULT_TIMEZONE
    # Items listed per section of an owner email; the rest are counted and left to BI.
    mail_max_items_per_section: int = DEFAULT_MAIL_MAX_ITEMS_PER_SECTION
    # Items listed per email in all, shared out section by section (docs/mail.md).
    mail_max_items: int = DEFAULT_MAIL_MAX_ITEMS
    # Every free-text value in an email is cut to this many characters.
    mail_max_field_chars: int = DEFAULT_MAIL_MAX_FIELD_CHARS
    # A later forward run the same day sends each owner a short "new leads" email (C9).
    mail_new_leads: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def archive_dir(self) -> Path:
        return self.inbox / "archive"

    @property
    def failed_dir(self) -> Path:
        return self.inbox / "failed"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    def with_paths(self, **paths: Path | str | None) -> Settings:
        """A copy with some paths replaced (None keeps the current value)."""
        chosen = {k: Path(v).expanduser().resolve() for k, v in paths.items() if v is not None}
        return replace(self, **chosen)


def load_settings(**overrides: Path | str | None) -> Settings:
    """Defaults, then LEADFLOW_* environment variables, then explicit overrides."""
    data_dir = _env_path("LEADFLOW_DATA_DIR", REPO_ROOT / "data")
    settings = Settings(
        data_dir=data_dir,
        inbox=_env_path("LEADFLOW_INBOX", data_dir / "inbox"),
        warehouse=_env_path("LEADFLOW_WAREHOUSE", data_dir / "warehouse" / "leadflow.duckdb"),
        outbox=_env_path("LEADFLOW_OUTBOX", data_dir / "outbox"),
        reports_dir=_env_path("LEADFLOW_REPORTS_DIR", data_dir / "reports"),
        publish_dir=_env_path("LEADFLOW_PUBLISH_DIR", data_dir / "publish"),
        channels_dir=_env_path("LEADFLOW_CHANNELS_DIR", REPO_ROOT / "ingest" / "channels"),
        dbt_project_dir=_env_path("LEADFLOW_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"),
        business_timezone=os.environ.get("LEADFLOW_TIMEZONE", DEFAULT_TIMEZONE),
        mail_max_items_per_section=_env_positive_int(
            "LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION", DEFAULT_MAIL_MAX_ITEMS_PER_SECTION
        ),
        mail_max_items=_env_positive_int("LEADFLOW_MAIL_MAX_ITEMS", DEFAULT_MAIL_MAX_ITEMS),
        mail_max_field_chars=_env_positive_int(
            "LEADFLOW_MAIL_MAX_FIELD_CHARS", DEFAULT_MAIL_MAX_FIELD_CHARS
        ),
        mail_new_leads=_env_bool("LEADFLOW_MAIL_NEW_LEADS", True),
    )
    return settings.with_paths(**overrides)


def memory_limit_setting(*, streaming: bool = False) -> tuple[str, str]:
    """The variable that caps DuckDB's memory for this kind of step, and its value."""
    name = "LEADFLOW_DUCKDB_STREAMING_MEMORY_LIMIT" if streaming else "LEADFLOW_DUCKDB_MEMORY_LIMIT"
    default = DEFAULT_STREAMING_MEMORY_LIMIT if streaming else DEFAULT_MEMORY_LIMIT
    return name, os.environ.get(name, "").strip() or default


def validation_workers() -> int:
    """How many processes validation may use (`LEADFLOW_VALIDATION_WORKERS`, default 2)."""
    return _env_positive_int(VALIDATION_WORKERS_ENV, DEFAULT_VALIDATION_WORKERS)


def run_lock_wait_seconds(default: float = 0) -> float:
    """How long a run waits for the run lock: `LEADFLOW_RUN_LOCK_WAIT_SECONDS`, else `default`."""
    value = os.environ.get(RUN_LOCK_WAIT_ENV, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise ConfigurationError(
            f"{RUN_LOCK_WAIT_ENV} must be a number of seconds >= 0, got {value!r}"
        )
    return seconds


def routing_rules_path() -> Path:
    """`LEADFLOW_ROUTING_RULES`, else `config/routing.yaml` of the repository."""
    return _env_path(ROUTING_RULES_ENV, DEFAULT_ROUTING_RULES)


def progress_tick_seconds() -> float:
    """How often the console's live display redraws (`LEADFLOW_PROGRESS_SECONDS`)."""
    return float(os.environ.get("LEADFLOW_PROGRESS_SECONDS") or DEFAULT_PROGRESS_SECONDS)


def pinned_today() -> str | None:
    """`LEADFLOW_TODAY`: pins the business date, so tests and benchmarks can exercise forward
    runs on fixed-anchor data (read by the clock, `leadflow.core.clock`)."""
    return os.environ.get("LEADFLOW_TODAY") or None


def airflow_connection_env(conn_id: str) -> str | None:
    """An Airflow connection given by environment (`AIRFLOW_CONN_<ID>`), as Airflow reads it."""
    return os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}") or None


def default_airflow_home(settings: Settings) -> None:
    """Airflow (imported to look up the SMTP connection) creates $AIRFLOW_HOME/logs, by default
    ~/airflow/logs: a home under the data dir keeps every write there."""
    os.environ.setdefault("AIRFLOW_HOME", str(settings.data_dir / "airflow"))


def child_environment(**values: str) -> dict[str, str]:
    """The environment of a child process (dbt): this one's, under `values` set by the run."""
    return {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **os.environ, **values}
