"""One place for run configuration: paths, business timezone and as-of date (C4).

Every value has a default for the embedded set-up (DuckDB file, local outbox) and can be
overridden by an environment variable or an explicit argument. Only `resolve_as_of` reads the
wall clock, and only when no as-of date was given (C4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEZONE = "Asia/Shanghai"
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
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _TRUE + _FALSE:
        raise ValueError(f"{name} must be one of {', '.join(_TRUE + _FALSE)}, got {value!r}")
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


def today_in(tz: ZoneInfo) -> date:
    """The business date now: the only wall-clock read of the project (C4). `LEADFLOW_TODAY`
    pins it, so tests and benchmarks can exercise forward runs on fixed-anchor data."""
    pinned = os.environ.get("LEADFLOW_TODAY")
    return date.fromisoformat(pinned) if pinned else datetime.now(tz).date()


def resolve_as_of(value: str | date | None, tz: ZoneInfo) -> date:
    if value is None or value == "":
        return today_in(tz)
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cutoff_utc(as_of: date, tz: ZoneInfo) -> datetime:
    """00:00 business time at the start of `as_of`, as a naive UTC timestamp (C4)."""
    local_midnight = datetime.combine(as_of, time.min, tzinfo=tz)
    return local_midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def is_forward_run(as_of: date, tz: ZoneInfo) -> bool:
    """A forward run is one for today (C9); anything earlier is a backfill."""
    return as_of >= today_in(tz)
