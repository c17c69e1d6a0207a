"""Owner follow-up emails: each owner's queue from the marts, delivered exactly once per day."""

from notify.service import send_owner_emails
from notify.smtp_connection import SmtpSettings, load_smtp_settings

__all__ = ["SmtpSettings", "load_smtp_settings", "send_owner_emails"]
