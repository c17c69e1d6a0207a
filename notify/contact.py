"""How a lead can be reached, made tappable: phones grouped for reading with a `tel:` link, email
addresses with a `mailto:` link. Only values that are valid get a link; the rest stay plain text.

The templates autoescape everything, hrefs included; the hrefs are built here from validated
values only, so no warehouse text can become a `javascript:` link or break out of the attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import phonenumbers

# The same shape validation's invalid_phone check accepts (expectations/suites.py E164_REGEX).
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# A conservative address: what needs no quoting in a mailto: URI besides the @.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
# A valid address up to this long is shown whole (a cut one could not be written to); longer or
# invalid values are cut like any field. RFC 5321 allows 254, no real one comes close.
EMAIL_WHOLE_CHARS = 100


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None = None  # None: shown as plain text


def phone_link(phone: str | None) -> Link | None:
    """+8613812345678 -> '+86 138 1234 5678' with href 'tel:+8613812345678'."""
    if not phone or not phone.strip():
        return None
    value = phone.strip()
    if not _E164.fullmatch(value):
        return Link(value)  # masked or invalid: readable, never dialled
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return Link(value)
    if not phonenumbers.is_possible_number(parsed):
        return Link(value)
    grouped = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return Link(grouped, "tel:" + value)


def email_link(email: str | None, limit: int, ellipsis: str = "…") -> Link | None:
    """A valid address whole with its mailto: href; anything else cut to `limit`, no link."""
    if not email or not email.strip():
        return None
    value = email.strip()
    if len(value) > EMAIL_WHOLE_CHARS or not _EMAIL.fullmatch(value):
        return Link(shorten(value, limit, ellipsis) or "")
    return Link(value, "mailto:" + quote(value, safe="@.!$'*+=^_`{|}~-"))


def shorten(value: str | None, limit: int, ellipsis: str = "…") -> str | None:
    """`value` cut to at most `limit` characters (the last one an ellipsis when cut)."""
    if value is None:
        return None
    value = value.strip()
    if len(value) <= limit:
        return value
    return value[: max(limit - len(ellipsis), 0)].rstrip() + ellipsis
