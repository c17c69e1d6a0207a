"""Entry point: each owner's follow-up email for one business date, exactly once (R5, R7, R9, R13).

Reads the marts, skips owners the ledger already delivered to, renders and delivers the rest
(SMTP when configured, else .eml files) and records every outcome in `mail.send_ledger`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from leadflow import warehouse as warehouse_db
from leadflow.config import load_settings
from notify import ledger
from notify.deliver import (
    DeliveryError,
    SmtpSender,
    build_message,
    message_id,
    write_eml,
)
from notify.queue import OwnerQueue, read_owner_queues
from notify.redact import redact
from notify.render import render_owner_email
from notify.smtp_connection import SmtpSettings

log = logging.getLogger(__name__)

EMBEDDED_FROM_ADDRESS = "leadflow <leadflow@localhost>"


def send_owner_emails(
    warehouse: Path,
    outbox: Path,
    as_of: date,
    *,
    smtp: SmtpSettings | None,
    resend: bool = False,
    max_attempts: int = 3,
    max_items_per_section: int | None = None,
) -> dict:
    """Send (or write) one email per owner with items on `as_of`; see notify.ledger for reruns.

    Each section lists at most `max_items_per_section` items (default: the setting
    `LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION`) and counts all of them.
    """
    settings = load_settings()
    cap = max_items_per_section
    if cap is None:
        cap = settings.mail_max_items_per_section
    warehouse, outbox = Path(warehouse), Path(outbox)
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: build the marts first")
    result = {
        "emails_sent": 0,
        "emails_written": 0,
        "skipped_already_sent": 0,
        "failed": 0,
        "owners": [],
        "outbox": str(outbox),
    }
    with warehouse_db.connect(warehouse) as con:
        ledger.ensure_ledger(con)
        queues = read_owner_queues(con, as_of, max_items_per_section=cap)
        delivered = {
            name
            for name, entry in ledger.entries_for(con, as_of).items()
            if entry.status in ledger.DELIVERED
        }
        with _transport(smtp, max_attempts) as sender:
            run = _Run(con, as_of, outbox, sender, settings.tz, resend, result)
            for queue in queues:
                result["owners"].append(queue.owner_name)
                if queue.owner_name in delivered and not resend:
                    result["skipped_already_sent"] += 1
                    log.info("owner %s: already delivered for %s, skipped", queue.owner_name, as_of)
                else:
                    run.deliver(queue)
    log.info(
        "owner emails for %s: %d sent, %d written, %d skipped, %d failed",
        as_of,
        result["emails_sent"],
        result["emails_written"],
        result["skipped_already_sent"],
        result["failed"],
    )
    return result


@contextmanager
def _transport(smtp: SmtpSettings | None, max_attempts: int) -> Iterator[SmtpSender | None]:
    if smtp is None:
        yield None
        return
    with SmtpSender(smtp, max_attempts=max_attempts) as sender:
        yield sender


@dataclass
class _Run:
    """One run's delivery of owner emails, with the outcome of each recorded in the ledger."""

    con: duckdb.DuckDBPyConnection
    as_of: date
    outbox: Path
    sender: SmtpSender | None  # None: write .eml files
    tz: ZoneInfo
    resend: bool
    result: dict
    fatal: DeliveryError | None = None  # set once the server is gone for the rest of the run

    def deliver(self, queue: OwnerQueue) -> None:
        from_address = self.sender.settings.from_address if self.sender else EMBEDDED_FROM_ADDRESS
        msg_id = message_id(queue.owner_name, self.as_of, from_address, resend=self.resend)
        if self.fatal is not None:  # record, do not hammer a server that is gone
            self._fail(queue, msg_id, self.fatal)
            return
        try:
            msg = self._build(queue, from_address, msg_id)
            if self.sender is None:
                where = str(write_eml(self.outbox, queue.owner_name, self.as_of, msg))
                status, counter = ledger.WRITTEN, "emails_written"
            else:
                self.sender.send(msg)
                where = self.sender.settings.endpoint
                status, counter = ledger.SENT, "emails_sent"
        except DeliveryError as exc:
            self._fail(queue, msg_id, exc)
            if exc.fatal:
                self.fatal = exc
            return
        ledger.record(self.con, queue.owner_name, self.as_of, message_id=msg_id, status=status)
        self.result[counter] += 1
        log.info("owner %s: %d items %s (%s)", queue.owner_name, queue.total, status, where)

    def _build(self, queue: OwnerQueue, from_address: str, msg_id: str) -> EmailMessage:
        if not queue.email:
            raise DeliveryError(f"owner {queue.owner_name!r} has no email address")
        return build_message(
            render_owner_email(queue, self.as_of, self.tz),
            owner_name=queue.owner_name,
            owner_email=queue.email,
            from_address=from_address,
            msg_id=msg_id,
            as_of=self.as_of,
        )

    def _fail(self, queue: OwnerQueue, msg_id: str, exc: DeliveryError) -> None:
        error = redact(str(exc))
        ledger.record(
            self.con,
            queue.owner_name,
            self.as_of,
            message_id=msg_id,
            status=ledger.FAILED,
            error=error,
        )
        self.result["failed"] += 1
        log.error("owner %s: not delivered for %s: %s", queue.owner_name, self.as_of, error)
