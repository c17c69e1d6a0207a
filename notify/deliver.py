"""Build MIME messages and deliver them: over SMTP with retries, or as .eml files in the outbox."""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
import uuid
from datetime import date
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from notify.redact import redact
from notify.render import RenderedEmail
from notify.smtp_connection import SmtpSettings

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 1.0  # first retry delay; doubles with every further attempt


class DeliveryError(Exception):
    """A message was not delivered. `fatal`: no later message of this run can succeed either."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def message_id(owner_name: str, as_of: date, from_address: str, *, resend: bool = False) -> str:
    """Deterministic per owner and date, so a copy sent twice after a crash is recognisable.

    A deliberate resend gets a fresh id: mail clients drop a second message with a known id.
    """
    owner_hash = hashlib.sha256(owner_name.encode("utf-8")).hexdigest()[:16]
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "leadflow.local"
    suffix = f".{uuid.uuid4().hex[:12]}" if resend else ""
    return f"<leadflow.{as_of.isoformat()}.{owner_hash}{suffix}@{domain}>"


def new_leads_message_id(
    owner_name: str, as_of: date, from_address: str, lead_keys: list[str]
) -> str:
    """Deterministic per owner, date and set of leads: a retry after a crash repeats the id."""
    owner_hash = hashlib.sha256(owner_name.encode("utf-8")).hexdigest()[:16]
    leads_hash = hashlib.sha256("\n".join(sorted(lead_keys)).encode("utf-8")).hexdigest()[:12]
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "leadflow.local"
    return f"<leadflow.new.{as_of.isoformat()}.{owner_hash}.{leads_hash}@{domain}>"


def build_message(
    rendered: RenderedEmail,
    *,
    owner_name: str,
    owner_email: str,
    from_address: str,
    msg_id: str,
    as_of: date,
) -> EmailMessage:
    """HTML with a plain-text alternative; headers RFC 2047-encoded, bodies UTF-8 in base64."""
    local, _, domain = owner_email.partition("@")
    if not local or not domain:
        raise DeliveryError(f"owner {owner_name!r} has no valid email address: {owner_email!r}")
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = rendered.subject
    msg["From"] = from_address
    msg["To"] = Address(display_name=owner_name, username=local, domain=domain)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # no vacation replies to the pipeline
    msg["X-Leadflow-Business-Date"] = as_of.isoformat()
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    return msg


def write_eml(
    outbox: Path, owner_name: str, as_of: date, msg: EmailMessage, *, suffix: str = ""
) -> Path:
    """Write `msg` to outbox/<date>/<date>_<owner><suffix>.eml (atomically: no half files).
    `suffix` tells a same-day "new leads" email from the daily one."""
    folder = outbox / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^\w.-]+", "_", owner_name).strip("._")[:40] or "owner"
    owner_hash = hashlib.sha256(owner_name.encode("utf-8")).hexdigest()[:8]
    path = folder / f"{as_of.isoformat()}_{slug}_{owner_hash}{suffix}.eml"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    tmp.replace(path)
    return path


class _Transient(Exception):
    """A failure worth another attempt (network, 4xx)."""


class SmtpSender:
    """One SMTP session reused for all messages of a run, reopened when it breaks."""

    def __init__(self, settings: SmtpSettings, *, max_attempts: int = 3) -> None:
        self.settings = settings
        self.max_attempts = max(1, max_attempts)
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, msg: EmailMessage) -> None:
        """Deliver `msg` or raise DeliveryError naming host:port (never the password)."""
        last = ""
        connected = False
        for attempt in range(1, self.max_attempts + 1):
            try:
                client = self._connect()
                connected = True
                self._send_once(client, msg)
                return
            except _Transient as exc:
                self.close()
                last = str(exc)
                if attempt < self.max_attempts:
                    delay = BACKOFF_SECONDS * 2 ** (attempt - 1)
                    log.warning(
                        "SMTP %s attempt %d/%d failed (%s); retrying in %.1fs",
                        self.settings.endpoint,
                        attempt,
                        self.max_attempts,
                        last,
                        delay,
                    )
                    time.sleep(delay)
        what = "failed" if connected else "unreachable"
        raise DeliveryError(
            f"SMTP server {self.settings.endpoint} {what} after {self.max_attempts} "
            f"attempt(s): {last}",
            fatal=not connected,  # nobody else gets through either
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        s = self.settings
        try:
            if s.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if s.starttls:
                    client.starttls(context=ssl.create_default_context())
                if s.login:
                    client.login(s.login, s.password or "")
            except BaseException:
                client.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(f"refused the login of {s.login!r}", exc, fatal=True) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error("lacks a feature the connection needs", exc, fatal=True) from None
        except ssl.SSLError as exc:  # certificate or protocol: retrying will not help
            raise self._error("TLS failed", exc, fatal=True) from None
        except smtplib.SMTPResponseException as exc:
            if _is_transient(exc.smtp_code):
                raise _Transient(self._detail(exc)) from None
            raise self._error("refused the connection", exc, fatal=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _Transient(self._detail(exc)) from None
        self._client = client
        return client

    def _send_once(self, client: smtplib.SMTP, msg: EmailMessage) -> None:
        try:
            client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(_is_transient(code) for code in codes):
                raise _Transient(self._detail(exc)) from None
            raise self._error("refused the recipient", exc) from None
        except smtplib.SMTPSenderRefused as exc:
            if _is_transient(exc.smtp_code):
                raise _Transient(self._detail(exc)) from None
            # The same sender is used for every message: all of them would bounce.
            raise self._error("refused the sender", exc, fatal=True) from None
        except smtplib.SMTPResponseException as exc:
            if _is_transient(exc.smtp_code):
                raise _Transient(self._detail(exc)) from None
            raise self._error("refused the message", exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _Transient(self._detail(exc)) from None

    def _error(self, what: str, exc: BaseException, *, fatal: bool = False) -> DeliveryError:
        return DeliveryError(
            f"SMTP server {self.settings.endpoint} {what}: {self._detail(exc)}", fatal=fatal
        )

    def _detail(self, exc: BaseException) -> str:
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            text = "; ".join(
                f"{rcpt}: {code} {_decode(resp)}" for rcpt, (code, resp) in exc.recipients.items()
            )
        elif isinstance(exc, smtplib.SMTPResponseException):
            text = f"{exc.smtp_code} {_decode(exc.smtp_error)}"
        else:
            text = str(exc) or type(exc).__name__
        return redact(f"{type(exc).__name__}: {text}", self.settings.password)


def _is_transient(code: int) -> bool:
    # 4xx replies ask the client to try again later; -1 is smtplib's "connection closed".
    return 400 <= code < 500 or code < 0


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
