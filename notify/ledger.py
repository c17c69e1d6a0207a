"""The mail ledgers (C9): what was delivered to whom, so reruns neither repeat nor lose mail.

`mail.send_ledger`: one row per owner and business date for the daily queue. `sent` (SMTP
accepted it) and `written` (.eml in the outbox) mean delivered: a later run for the same date
skips that owner unless asked to resend. `failed` means not delivered: the next run tries again.

`mail.lead_ledger`: one row per owner and lead, the owner's "book" as their emails knew it. A
delivered email (daily or same-day "new leads") records every lead the owner held at that moment
(marts.dim_leads, else the queue), once, and marks the leads whose items it listed. From it:
- a same-day "new leads" email tells an owner about each lead not yet in their book: exactly
  once per owner and lead, never the morning queue again;
- the "new" badge goes on leads no earlier email to that owner listed.

Each row is written right after its delivery (both ledgers in one transaction), so a crash loses
at most the one message in flight (which then goes out again, with the same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

SENT = "sent"
WRITTEN = "written"
FAILED = "failed"
DELIVERED = frozenset({SENT, WRITTEN})
DAILY = "daily"  # the kinds of email that record a lead in the lead ledger
NEW_LEADS = "new_leads"


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
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS mail.lead_ledger (
            owner_name VARCHAR NOT NULL,
            lead_key VARCHAR NOT NULL,
            first_email_on DATE NOT NULL,  -- business date of the first email that knew it
            first_email_kind VARCHAR NOT NULL CHECK (first_email_kind IN ('daily', 'new_leads')),
            first_message_id VARCHAR,
            first_listed_on DATE,  -- the first email that listed one of its items; NULL: none yet
            recorded_at TIMESTAMP NOT NULL,  -- naive UTC
            PRIMARY KEY (owner_name, lead_key)
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


def knows_owner_before(
    con: duckdb.DuckDBPyConnection, owner_name: str, business_date: date
) -> bool:
    """Whether an email before `business_date` recorded this owner's book."""
    row = con.execute(
        "SELECT count(*) FROM mail.lead_ledger WHERE owner_name = ? AND first_email_on < ?",
        [owner_name, business_date],
    ).fetchone()
    return bool(row and row[0])


def listed_before(
    con: duckdb.DuckDBPyConnection, owner_name: str, business_date: date, lead_keys: list[str]
) -> set[str]:
    """Those of `lead_keys` an email to this owner listed before `business_date`."""
    if not lead_keys:
        return set()
    rows = con.execute(
        "SELECT lead_key FROM mail.lead_ledger WHERE owner_name = ? AND first_listed_on < ? "
        "AND lead_key IN (SELECT unnest(?::VARCHAR[]))",
        [owner_name, business_date, lead_keys],
    ).fetchall()
    return {key for (key,) in rows}


def record_book(
    con: duckdb.DuckDBPyConnection,
    owner_name: str,
    business_date: date,
    *,
    book_sql: str,
    book_params: list,
    kind: str,
    message_id: str,
    listed: list[str],
) -> None:
    """Add the owner's leads (`book_sql` selects their keys) not yet recorded, then mark the
    listed ones. Run inside the delivery's transaction (see record_delivery)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute(
        f"""
        INSERT INTO mail.lead_ledger
        SELECT DISTINCT ?, book.lead_key, ?, ?, ?, NULL::DATE, ?
        FROM ({book_sql}) AS book (lead_key)
        WHERE book.lead_key IS NOT NULL
        ON CONFLICT (owner_name, lead_key) DO NOTHING
        """,
        [owner_name, business_date, kind, message_id, now, *book_params],
    )
    if listed:
        con.execute(
            "UPDATE mail.lead_ledger SET first_listed_on = ? WHERE owner_name = ? "
            "AND first_listed_on IS NULL AND lead_key IN (SELECT unnest(?::VARCHAR[]))",
            [business_date, owner_name, listed],
        )


# ---------------------------------------------------------------- period reports (C9)
# mail.report_ledger: one row per recipient, period kind and period start. A delivered report
# (sent or written) is never sent again, whatever reruns follow; a failed one is retried.


def ensure_report_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS mail")
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS mail.report_ledger (
            recipient VARCHAR NOT NULL,
            period_kind VARCHAR NOT NULL CHECK (period_kind IN ('week', 'month')),
            period_start DATE NOT NULL,
            scope VARCHAR NOT NULL,
            scope_name VARCHAR NOT NULL,
            message_id VARCHAR,
            status VARCHAR NOT NULL CHECK (status IN ('sent', 'written', 'failed')),
            sent_at TIMESTAMP,  -- naive UTC; NULL while not delivered
            error VARCHAR,
            PRIMARY KEY (recipient, period_kind, period_start)
        )
        """
    )


def report_delivered(
    con: duckdb.DuckDBPyConnection, recipient: str, period_kind: str, period_start: date
) -> bool:
    row = con.execute(
        "SELECT status FROM mail.report_ledger WHERE recipient = ? AND period_kind = ? "
        "AND period_start = ?",
        [recipient, period_kind, period_start],
    ).fetchone()
    return bool(row and row[0] in DELIVERED)


def record_report(
    con: duckdb.DuckDBPyConnection,
    recipient: str,
    period_kind: str,
    period_start: date,
    *,
    scope: str,
    scope_name: str,
    message_id: str | None,
    status: str,
    error: str | None = None,
) -> None:
    sent_at = datetime.now(UTC).replace(tzinfo=None) if status in DELIVERED else None
    con.execute(
        """
        INSERT INTO mail.report_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (recipient, period_kind, period_start) DO UPDATE SET
            scope = excluded.scope, scope_name = excluded.scope_name,
            message_id = excluded.message_id, status = excluded.status,
            sent_at = excluded.sent_at, error = excluded.error
        """,
        [recipient, period_kind, period_start, scope, scope_name, message_id, status, sent_at,
         error],
    )  # fmt: skip
