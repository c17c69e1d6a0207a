"""The address of `ops`, the fallback owner (C5), checked before any mail goes out.

`ops` receives every item without a usable owner, the unknown owner names and the stale
channels. Without an address its email fails at the end of the run; this check says where the
address goes instead: the owner directory's file and columns, or the setting
`LEADFLOW_OPS_EMAIL` (read by the dim_owners model).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from leadflow.core import warehouse as warehouse_db
from leadflow.core.errors import ConfigurationError

OPS = "ops"


class OpsAddressMissing(ConfigurationError):
    """The owner directory has no usable address for ops."""


def require_ops_address(warehouse: Path, channels_dir: Path) -> None:
    with warehouse_db.connect(warehouse, read_only=True) as con:
        if _ops_email(con):
            return
        files = _directory_files(con)
    name_columns, email_columns = _owner_headers(channels_dir)
    where = f"the owner directory ({', '.join(files)})" if files else "the owner directory"
    raise OpsAddressMissing(
        f"no email address for `{OPS}`: {where} has no row named `{OPS}` with an email. ops "
        "receives the leads nobody owns, unknown owner names and stale channels. Add a row "
        f"with `{OPS}` in the column {name_columns} and its address in the column "
        f"{email_columns}, drop the file in the inbox and run again; or set "
        "LEADFLOW_OPS_EMAIL=<address> for the run."
    )


def _ops_email(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        row = con.execute(
            "SELECT email FROM marts.dim_owners WHERE owner_name = ? AND trim(email) <> ''", [OPS]
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def _directory_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = con.execute(
            "SELECT file_name FROM raw.owner_records GROUP BY file_name "
            "ORDER BY max(loaded_at) DESC LIMIT 3"
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [r[0] for r in rows]


def _owner_headers(channels_dir: Path) -> tuple[str, str]:
    """The headers the owner channels map to owner_name and email, as a person writes them."""
    from leadflow.core.channels import load_channels

    names: list[str] = []
    emails: list[str] = []
    for channel in load_channels(channels_dir):
        if channel.entity.name == "owner":
            names += channel.fields.get("owner_name", ())
            emails += channel.fields.get("email", ())
    return _either(names), _either(emails)


def _either(headers: list[str]) -> str:
    return " or ".join(f"`{h}`" for h in dict.fromkeys(headers)) or "(none mapped)"
