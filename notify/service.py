"""Entry point: each owner's follow-up email for one business date, exactly once (R5, R7, R9, R13).

Reads the marts, skips owners the ledger already delivered to, renders and delivers the rest
(SMTP when configured, else .eml files) and records every outcome in the mail ledgers
(notify.ledger). In a forward run, an owner whose daily email already went out gets a short
"new leads" email instead when leads reached them since (C9), each lead once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from leadflow.core import warehouse as warehouse_db
from leadflow.core.clock import is_forward_run
from leadflow.core.settings import Settings, load_settings
from notify import ledger
from notify.deliver import (
    DeliveryError,
    SmtpSender,
    build_message,
    message_id,
    new_leads_message_id,
    write_eml,
)
from notify.queue import (
    OwnerQueue,
    ReadLimits,
    owner_book_sql,
    read_new_lead_items,
    read_owner_queues,
)
from notify.redact import redact
from notify.render import RenderedEmail, render_new_leads_email, render_owner_email
from notify.smtp_connection import SmtpSettings

log = logging.getLogger(__name__)

EMBEDDED_FROM_ADDRESS = "leadflow <leadflow@localhost>"


@dataclass
class OwnerEmails:
    """The owner emails of one business date, counted as they go out (hence not frozen)."""

    outbox: str
    emails_sent: int = 0  # by SMTP
    emails_written: int = 0  # as .eml files in the outbox (no SMTP connection)
    skipped_already_sent: int = 0  # the ledger had them delivered for the date
    failed: int = 0
    new_lead_emails: int = 0  # same-day "new leads" emails (C9)
    new_leads: int = 0  # the leads those emails named
    owners: list[str] = field(default_factory=list)  # every owner with items, mailed or not


def send_owner_emails(
    warehouse: Path,
    outbox: Path,
    as_of: date,
    *,
    smtp: SmtpSettings | None,
    resend: bool = False,
    max_attempts: int = 3,
    max_items_per_section: int | None = None,
    new_leads: bool | None = None,
    settings: Settings | None = None,
) -> OwnerEmails:
    """Send (or write) one email per owner with items on `as_of`; see notify.ledger for reruns.

    Each section lists at most `max_items_per_section` items (default: the setting
    `LEADFLOW_MAIL_MAX_ITEMS_PER_SECTION`) and counts all of them. `new_leads`: send same-day
    "new leads" emails to owners already mailed for `as_of` (default: `LEADFLOW_MAIL_NEW_LEADS`
    in a forward run, never in a backfill). `settings`: the run's (the pipeline passes them);
    without, the deployment's as `load_settings` reads them.
    """
    settings = settings or load_settings()
    if max_items_per_section is None:
        max_items_per_section = settings.mail_max_items_per_section
    limits = ReadLimits(
        max_items_per_section,
        settings.mail_max_items,
        settings.mail_max_field_chars,
    )
    if new_leads is None:
        new_leads = settings.mail_new_leads and is_forward_run(as_of, settings.tz)
    warehouse, outbox = Path(warehouse), Path(outbox)
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: build the marts first")
    result = OwnerEmails(outbox=str(outbox))
    with warehouse_db.connect(warehouse) as con:
        ledger.ensure_ledger(con)
        queues = read_owner_queues(
            con,
            as_of,
            max_items_per_section=limits.per_section,
            max_items=limits.per_email,
            max_field_chars=limits.field_chars,
        )
        delivered = {
            name
            for name, entry in ledger.entries_for(con, as_of).items()
            if entry.status in ledger.DELIVERED
        }
        with _transport(smtp, max_attempts) as sender:
            run = _Run(con, as_of, outbox, sender, settings.tz, resend, limits, result)
            for queue in queues:
                result.owners.append(queue.owner_name)
                if queue.owner_name not in delivered or resend:
                    run.deliver_daily(queue)
                    continue
                result.skipped_already_sent += 1
                log.info("owner %s: already delivered for %s, skipped", queue.owner_name, as_of)
                if new_leads:
                    run.deliver_new_leads(queue)
    log.info(
        "owner emails for %s: %d sent, %d written, %d skipped, %d failed; "
        "%d new-lead emails (%d leads)",
        as_of,
        result.emails_sent,
        result.emails_written,
        result.skipped_already_sent,
        result.failed,
        result.new_lead_emails,
        result.new_leads,
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
    """One run's delivery of owner emails, with the outcome of each recorded in the ledgers."""

    con: duckdb.DuckDBPyConnection
    as_of: date
    outbox: Path
    sender: SmtpSender | None  # None: write .eml files
    tz: ZoneInfo
    resend: bool
    limits: ReadLimits
    result: OwnerEmails
    fatal: DeliveryError | None = None  # set once the server is gone for the rest of the run
    _from: str = field(init=False)

    def __post_init__(self) -> None:
        self._from = self.sender.settings.from_address if self.sender else EMBEDDED_FROM_ADDRESS

    def deliver_daily(self, queue: OwnerQueue) -> None:
        msg_id = message_id(queue.owner_name, self.as_of, self._from, resend=self.resend)
        listed = [item.lead_key for item in queue.items]
        try:
            rendered = render_owner_email(
                queue,
                self.as_of,
                self.tz,
                new_leads=self._first_shown(queue.owner_name, listed),
                field_chars=self.limits.field_chars,
            )
            status, where = self._send(queue, rendered, msg_id, eml_suffix="")
        except DeliveryError as exc:
            self._fail(queue, msg_id, exc, daily=True)
            return
        with self._transaction():
            ledger.record(self.con, queue.owner_name, self.as_of, message_id=msg_id, status=status)
            self._record_book(queue.owner_name, ledger.DAILY, msg_id, listed)
        if status == ledger.SENT:
            self.result.emails_sent += 1
        else:
            self.result.emails_written += 1
        log.info("owner %s: %d items %s (%s)", queue.owner_name, queue.total, status, where)

    def deliver_new_leads(self, queue: OwnerQueue) -> None:
        """The leads that reached the owner since their last email, each once (C9)."""
        items, lead_count = read_new_lead_items(self.con, self.as_of, queue.owner_name, self.limits)
        if not lead_count:
            return
        listed = list(dict.fromkeys(item.lead_key for item in items))
        msg_id = new_leads_message_id(queue.owner_name, self.as_of, self._from, listed)
        new_queue = OwnerQueue(queue.owner_name, queue.email, queue.language, tuple(items))
        try:
            rendered = render_new_leads_email(
                new_queue,
                self.as_of,
                self.tz,
                lead_count=lead_count,
                field_chars=self.limits.field_chars,
            )
            suffix = "_new_" + hashlib.sha256("\n".join(listed).encode()).hexdigest()[:8]
            status, where = self._send(new_queue, rendered, msg_id, eml_suffix=suffix)
        except DeliveryError as exc:
            self._fail(queue, msg_id, exc, daily=False)  # not recorded: the next run retries
            return
        with self._transaction():
            self._record_book(queue.owner_name, ledger.NEW_LEADS, msg_id, listed)
        self.result.new_lead_emails += 1
        self.result.new_leads += lead_count
        log.info("owner %s: %d new leads %s (%s)", queue.owner_name, lead_count, status, where)

    def _first_shown(self, owner_name: str, listed: list[str]) -> set[str] | None:
        """The listed leads no earlier email showed this owner; None before the ledger knows
        the owner (their first email): the mart's is_new decides then."""
        if not ledger.knows_owner_before(self.con, owner_name, self.as_of):
            return None
        return set(listed) - ledger.listed_before(self.con, owner_name, self.as_of, listed)

    def _send(
        self, queue: OwnerQueue, rendered: RenderedEmail, msg_id: str, *, eml_suffix: str
    ) -> tuple[str, str]:
        if self.fatal is not None:  # record, do not hammer a server that is gone
            raise self.fatal
        msg = self._build(queue, rendered, msg_id)
        if self.sender is None:
            path = write_eml(self.outbox, queue.owner_name, self.as_of, msg, suffix=eml_suffix)
            return ledger.WRITTEN, str(path)
        try:
            self.sender.send(msg)
        except DeliveryError as exc:
            if exc.fatal:
                self.fatal = exc
            raise
        return ledger.SENT, self.sender.settings.endpoint

    def _build(self, queue: OwnerQueue, rendered: RenderedEmail, msg_id: str) -> EmailMessage:
        if not queue.email:
            raise DeliveryError(f"owner {queue.owner_name!r} has no email address")
        return build_message(
            rendered,
            owner_name=queue.owner_name,
            owner_email=queue.email,
            from_address=self._from,
            msg_id=msg_id,
            as_of=self.as_of,
        )

    def _record_book(self, owner_name: str, kind: str, msg_id: str, listed: list[str]) -> None:
        book_sql, params = owner_book_sql(self.con, owner_name, self.as_of)
        ledger.record_book(
            self.con,
            owner_name,
            self.as_of,
            book_sql=book_sql,
            book_params=params,
            kind=kind,
            message_id=msg_id,
            listed=listed,
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def _fail(self, queue: OwnerQueue, msg_id: str, exc: DeliveryError, *, daily: bool) -> None:
        error = redact(str(exc))
        if daily:
            ledger.record(
                self.con,
                queue.owner_name,
                self.as_of,
                message_id=msg_id,
                status=ledger.FAILED,
                error=error,
            )
        self.result.failed += 1
        kind = "daily email" if daily else "new-leads email"
        log.error(
            "owner %s: %s not delivered for %s: %s", queue.owner_name, kind, self.as_of, error
        )
