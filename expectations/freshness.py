"""Channel freshness: a channel whose latest file is older than its YAML `freshness_days`.

Plain SQL over `raw.load_manifest`, not GX: the question is about the channel, not about rows.
Age is measured from the as-of cut-off (C4), so a backfill judges what was known that morning
only as far as load times allow: a file loaded after the cut-off counts as fresh.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from expectations.flags import STAGED_COLUMNS
from expectations.suites import WARNING
from leadflow.core.channels import Channel
from leadflow.core.clock import cutoff_utc
from leadflow.core.warehouse import table_exists

LATEST_FILES_SQL = """
SELECT channel, max(loaded_at) AS loaded_at, arg_max(file_name, loaded_at) AS file_name
FROM raw.load_manifest
WHERE status IN ('loaded', 'skipped')
GROUP BY channel
"""


def latest_files(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[datetime, str]]:
    """Channel -> (load time, file name) of its latest loaded or re-dropped file."""
    if not table_exists(con, "raw", "load_manifest"):
        return {}
    return {ch: (at, name) for ch, at, name in con.execute(LATEST_FILES_SQL).fetchall()}


def stale_channel_flags(
    con: duckdb.DuckDBPyConnection,
    channels: dict[str, Channel],
    *,
    as_of: date,
    tz: ZoneInfo,
) -> pd.DataFrame:
    """One `channel_stale` warning per channel with `freshness_days` and no recent file."""
    cutoff = cutoff_utc(as_of, tz)
    latest = latest_files(con)
    rows = []
    for name, channel in sorted(channels.items()):
        if channel.freshness_days is None:
            continue
        loaded_at, file_name = latest.get(name, (None, None))
        if loaded_at is not None and cutoff - loaded_at <= timedelta(days=channel.freshness_days):
            continue
        rows.append(
            {
                "channel": name,
                "entity": channel.entity.name,
                "file_name": file_name,
                "check_name": "channel_stale",
                "observed_value": _describe(loaded_at, cutoff, channel.freshness_days),
                "severity": WARNING,
            }
        )
    frame = pd.DataFrame(rows, columns=list(STAGED_COLUMNS), dtype="object")
    return frame


def _describe(loaded_at: datetime | None, cutoff: datetime, limit_days: int) -> str:
    if loaded_at is None:
        return f"no file loaded (freshness_days {limit_days})"
    age_days = (cutoff - loaded_at) / timedelta(days=1)
    return (
        f"latest file loaded {loaded_at:%Y-%m-%d %H:%M} UTC, {age_days:.1f} days before the "
        f"cut-off (freshness_days {limit_days})"
    )
