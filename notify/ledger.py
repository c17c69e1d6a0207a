"""The send ledger `mail.send_ledger`: one row per owner and business date (C9).

`sent` (SMTP accepted it) and `written` (.eml in the outbox) mean delivered: a later run for the
same date skips that owner unless asked to resend. `failed` means not delivered: the next run
tries again. Each row is written right after its delivery, so a crash loses at most the one
message in flight (which then goes out again, with the same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

SENT = "sent"
WRITTEN = "written"
FAILED = "failed"
DELIVERED = frozenset({SENT, WRITTEN})


@dataclass(frozen=True)
class LedgerEntry:
    owner_name: str
    business_date: date
    message_id: str | None
    status: str
    sent_at: datetime | None
    error: str | None


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS mail")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS mail.send_ledger (
            owner_name VARCHAR NOT NULL,
            business_date DATE NOT NULL,
            message_id VARCHAR,
            status VARCHAR NOT NULL CHECK (status IN ('sent', 'written', 'failed')),
            sent_at TIMESTAMP,  -- naive UTC; NULL while not delivered
            error VARCHAR,
            PRIMARY KEY (owner_name, business_date)
        )
        """
    )


def entries_for(con: duckdb.DuckDBPyConnection, business_date: date) -> dict[str, LedgerEntry]:
    rows = con.execute(
        "SELECT owner_name, business_date, message_id, status, sent_at, error "
        "FROM mail.send_ledger WHERE business_date = ?",
        [business_date],
    ).fetchall()
    return {row[0]: LedgerEntry(*row) for row in rows}


def record(
    con: duckdb.DuckDBPyConnection,
    owner_name: str,
    business_date: date,
    *,
    message_id: str | None,
    status: str,
    error: str | None = None,
) -> None:
    """Upsert the owner's row for the date; committed at once (the connection autocommits)."""
    sent_at = datetime.now(UTC).replace(tzinfo=None) if status in DELIVERED else None
    con.execute(
        """
        INSERT INTO mail.send_ledger
            (owner_name, business_date, message_id, status, sent_at, error)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (owner_name, business_date) DO UPDATE SET
            message_id = excluded.message_id,
            status = excluded.status,
            sent_at = excluded.sent_at,
            error = excluded.error
        """,
        [owner_name, business_date, message_id, status, sent_at, error],
    )
