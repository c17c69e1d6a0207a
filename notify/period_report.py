"""The weekly and monthly analysis email (R11): to each manager their team's report, to ops the
organisation's, in the recipient's language (notify/locales), with the report's charts inline
(PNG parts referenced by Content-ID), exactly once per recipient, period kind and period start
(mail.report_ledger, C9).

notify never imports reporting/: the pipeline renders the report there and hands the pieces to
`send_period_reports` as `PeriodReportMail` values (plain text and PNG bytes)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from leadflow.core import warehouse as warehouse_db
from notify import ledger
from notify.deliver import DeliveryError, SmtpSender
from notify.locale import Locale, load_locale
from notify.redact import redact
from notify.render import _environment
from notify.smtp_connection import SmtpSettings

log = logging.getLogger(__name__)

EMBEDDED_FROM_ADDRESS = "leadflow <leadflow@localhost>"


@dataclass(frozen=True)
class ReportChart:
    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class PeriodReportMail:
    """One rendered report for one recipient (an owner directory name)."""

    recipient: str
    period_kind: str  # week | month
    period_start: date
    period_end: date  # exclusive
    scope: str  # organisation | team
    scope_name: str
    headline: tuple[tuple[str, str, str], ...]  # (figure key, this period, period before)
    actions: tuple[tuple[str, str, str, str], ...]  # (rule_id, action_zh, action_en, figures)
    cases: tuple[tuple[str, str, str, str, str], ...]  # (case type, lead, owner, company, facts)
    charts: tuple[ReportChart, ...]
    report_path: str


@dataclass
class ReportDelivery:
    """The period report emails of one run, counted as they go out (hence not frozen)."""

    reports_sent: int = 0  # by SMTP
    reports_written: int = 0  # as .eml files in the outbox
    skipped_already_sent: int = 0  # the ledger had them for that recipient and period
    failed: int = 0
    recipients: list[str] = field(default_factory=list)  # each one mailed (sent or written)


@dataclass(frozen=True)
class _Recipient:
    name: str
    email: str | None
    language: str


def send_period_reports(
    warehouse: Path,
    outbox: Path,
    mails: list[PeriodReportMail],
    *,
    smtp: SmtpSettings | None,
    resend: bool = False,
    max_attempts: int = 3,
) -> ReportDelivery:
    """Deliver each report not delivered yet (SMTP when configured, else .eml in the outbox)."""
    result = ReportDelivery()
    with warehouse_db.connect(warehouse) as con:
        ledger.ensure_report_ledger(con)
        recipients = {
            name.lower(): _Recipient(name, email, language or "zh")
            for name, email, language in con.execute(
                "SELECT owner_name, email, language FROM marts.dim_owners"
            ).fetchall()
        }
        sender = SmtpSender(smtp, max_attempts=max_attempts) if smtp else None
        try:
            for mail in mails:
                key = (mail.recipient, mail.period_kind, mail.period_start)
                if not resend and ledger.report_delivered(con, *key):
                    result.skipped_already_sent += 1
                    continue
                recipient = recipients.get(mail.recipient.lower())
                status, msg_id, error = _deliver(mail, recipient, outbox, sender)
                ledger.record_report(
                    con, *key, scope=mail.scope, scope_name=mail.scope_name,
                    message_id=msg_id, status=status, error=error,
                )  # fmt: skip
                if status == ledger.SENT:
                    result.reports_sent += 1
                elif status == ledger.WRITTEN:
                    result.reports_written += 1
                else:
                    result.failed += 1
                result.recipients.append(mail.recipient)
        finally:
            if sender:
                sender.close()
    log.info(
        "period reports: %d sent, %d written, %d already sent, %d failed",
        result.reports_sent,
        result.reports_written,
        result.skipped_already_sent,
        result.failed,
    )
    return result


def _deliver(
    mail: PeriodReportMail,
    recipient: _Recipient | None,
    outbox: Path,
    sender: SmtpSender | None,
) -> tuple[str, str | None, str | None]:
    from_address = sender.settings.from_address if sender else EMBEDDED_FROM_ADDRESS
    msg_id = report_message_id(mail, from_address)
    try:
        if recipient is None or not recipient.email:
            raise DeliveryError(f"{mail.recipient!r} has no email address in the owner directory")
        msg = build_report_message(mail, recipient, from_address, msg_id)
        if sender is None:
            write_report_eml(outbox, mail, msg)
            return ledger.WRITTEN, msg_id, None
        sender.send(msg)
        return ledger.SENT, msg_id, None
    except DeliveryError as exc:
        error = redact(str(exc))
        log.error("period report to %s not delivered: %s", mail.recipient, error)
        return ledger.FAILED, msg_id, error


def report_message_id(mail: PeriodReportMail, from_address: str) -> str:
    """Deterministic per recipient and period: a retry after a crash repeats it."""
    who = hashlib.sha256(mail.recipient.encode("utf-8")).hexdigest()[:16]
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "leadflow.local"
    return f"<leadflow.report.{mail.period_kind}.{mail.period_start.isoformat()}.{who}@{domain}>"


def render_report_email(mail: PeriodReportMail, recipient: _Recipient) -> tuple[str, str, str]:
    """(subject, plain text, HTML) in the recipient's language; charts referenced as cid:."""
    loc = load_locale(recipient.language if recipient.language in ("zh", "en") else "zh")
    start, last = mail.period_start, mail.period_end - timedelta(days=1)
    month = f"{start.year}-{start.month:02d}"
    scope = loc.text(f"period_report.scope.{mail.scope}", name=mail.scope_name)
    subject = loc.text(
        f"period_report.subject.{mail.period_kind}", start=start.isoformat(), month=month,
        scope=scope,
    )  # fmt: skip
    context = {
        "lang": loc.text("html_lang"),
        "title": subject,
        "greeting": loc.text("period_report.greeting", name=recipient.name),
        "intro": loc.text(
            f"period_report.intro.{mail.period_kind}",
            start=start.isoformat(),
            last=last.isoformat(),
            month=month,
        ),  # fmt: skip
        "labels": _labels(loc),
        "headline": [
            {
                "key": key,
                "label": loc.text(f"period_report.headline.{key}"),
                "this": this,
                "previous": previous,
            }
            for key, this, previous in mail.headline
        ],  # fmt: skip
        "actions": [
            {"rule_id": rule_id, "text": zh if loc.code == "zh" else en, "figures": figures}
            for rule_id, zh, en, figures in mail.actions
        ],
        "charts": [
            {"cid": chart_cid(mail, c.name), "name": c.name, "title": c.title} for c in mail.charts
        ],  # fmt: skip
        "cases": _case_groups(mail, loc),
        "report_file": loc.text("period_report.report_file", path=mail.report_path),
    }
    env = _environment()
    return (
        subject,
        env.get_template("period_report.txt.j2").render(context),
        env.get_template("period_report.html.j2").render(context),
    )


def _labels(loc: Locale) -> dict[str, str]:
    keys = ("figure", "this", "previous", "actions", "no_actions", "charts", "cases")
    return {key: loc.text(f"period_report.{key}") for key in keys}


def _case_groups(mail: PeriodReportMail, loc: Locale) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for case_type, lead_key, owner, company, facts in mail.cases:
        groups.setdefault(case_type, []).append(
            {"lead_key": lead_key, "owner": owner, "company": company, "facts": facts}
        )
    return [
        {"title": loc.text(f"period_report.case_types.{case_type}"), "entries": items}
        for case_type, items in groups.items()
    ]


def chart_cid(mail: PeriodReportMail, name: str) -> str:
    return f"{name}.{mail.period_kind}.{mail.period_start.isoformat()}@leadflow"


def build_report_message(
    mail: PeriodReportMail, recipient: _Recipient, from_address: str, msg_id: str
) -> EmailMessage:
    """multipart/alternative (text, multipart/related (HTML, PNG charts by Content-ID))."""
    local, _, domain = (recipient.email or "").partition("@")
    if not local or not domain:
        raise DeliveryError(f"{recipient.name!r} has no valid email address: {recipient.email!r}")
    subject, text, html = render_report_email(mail, recipient)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = subject
    msg["From"] = from_address
    msg["To"] = Address(display_name=recipient.name, username=local, domain=domain)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = msg_id or make_msgid()
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Leadflow-Report"] = f"{mail.period_kind} {mail.period_start.isoformat()}"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    html_part = msg.get_payload()[1]
    for chart in mail.charts:
        html_part.add_related(
            chart.png, maintype="image", subtype="png", cid=f"<{chart_cid(mail, chart.name)}>",
            filename=f"{chart.name}.png", disposition="inline",
        )  # fmt: skip
    return msg


def write_report_eml(outbox: Path, mail: PeriodReportMail, msg: EmailMessage) -> Path:
    folder = outbox / "reports" / mail.period_kind / mail.period_start.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^\w.-]+", "_", mail.recipient).strip("._")[:40] or "recipient"
    digest = hashlib.sha256(mail.recipient.encode("utf-8")).hexdigest()[:8]
    path = folder / f"{slug}_{digest}.eml"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    tmp.replace(path)
    return path
