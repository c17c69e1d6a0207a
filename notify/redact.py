"""Keep secrets and phone numbers out of log lines and stored error texts."""

from __future__ import annotations

import re

# 9+ digits, optionally with a leading + and single separators: phones, not ISO dates (8 digits).
_PHONE = re.compile(r"(?<!\d)\+?\d(?:[ .-]?\d){8,}(?!\d)")


def mask_phone(phone: str | None) -> str:
    """+8613812345678 -> +86138****5678: enough to recognise, not enough to call."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    prefix = "+" if phone.strip().startswith("+") else ""
    if len(digits) <= 8:  # too short to show anything safely
        return prefix + "*" * len(digits)
    return f"{prefix}{digits[:-8]}****{digits[-4:]}"


def redact(text: str, *secrets: str | None) -> str:
    """`text` with every secret replaced by *** and every phone-like number masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
