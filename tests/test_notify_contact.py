"""How to reach a lead: grouped phones with tel: links, emails with mailto: links, all escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from notify.contact import email_link, phone_link, shorten
from notify.queue import OwnerQueue
from notify.render import render_owner_email
from tests.notify_samples import AS_OF, PEOPLE, SHANGHAI, item


@pytest.mark.parametrize(
    ("phone", "text", "href"),
    [
        ("+8613812345678", "+86 138 1234 5678", "tel:+8613812345678"),  # CN mobile
        ("+861065529988", "+86 10 6552 9988", "tel:+861065529988"),  # Beijing landline
        ("+14155550123", "+1 415-555-0123", "tel:+14155550123"),  # US, as the US writes it
        ("138****5678", "138****5678", None),  # masked: readable, never dialled
        ("12345", "12345", None),  # kept as the export wrote it, not valid
        ("javascript:alert(1)", "javascript:alert(1)", None),
        ("+86138 1234", "+86138 1234", None),  # not E.164: no guessing
    ],
)
def test_phones_are_grouped_and_only_valid_ones_dial(phone, text, href) -> None:
    assert phone_link(phone) == type(phone_link(phone))(text, href)


@pytest.mark.parametrize(
    ("email", "href"),
    [
        ("chen.jing@factory.example.cn", "mailto:chen.jing@factory.example.cn"),
        ("o'neil+sales@example.com", "mailto:o'neil+sales@example.com"),
        ('x@y.z"><script>alert(1)</script>', None),
        ("javascript:alert(1)//@example.com", None),
        ("no-at-sign.example.com", None),
        ("a" * 96 + "@x.cn", None),  # longer than shown whole: cut, so not an address any more
    ],
)
def test_only_valid_addresses_get_a_mailto_link(email, href) -> None:
    link = email_link(email, 60)
    assert link.href == href
    assert len(link.text) <= max(60, len(email) if href else 0)


def test_shorten_marks_the_cut() -> None:
    assert shorten("苏州精密制造有限公司", 10) == "苏州精密制造有限公司"
    assert shorten("苏州精密制造有限公司华东", 10) == "苏州精密制造有限公…"
    assert shorten("  padded  ", 10) == "padded"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, str]] = []
        self._href: str | None = None
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data):
        if self._href is not None:
            self.hrefs.append((self._href, data))
            self._href = None


def test_links_in_the_email_are_safe_and_tappable() -> None:
    people = PEOPLE["zh"]
    evil = '"><img src=x onerror=alert(1)>'
    items = (
        item("L1", "overdue", people, 1, days_overdue=2, phone="+8613812345678"),
        item("L2", "overdue", people, 2, days_overdue=1, phone=evil, email=evil, company=evil),
        item("L3", "due_today", people, 3, phone="138****5678", email="o'neil@example.com"),
    )
    html = render_owner_email(
        OwnerQueue("张伟", "z@example.com", "zh", items), AS_OF, SHANGHAI
    ).html
    parser = _Links()
    parser.feed(html)
    assert "img" not in parser.tags and "<img" not in html
    assert parser.hrefs == [
        ("tel:+8613812345678", "+86 138 1234 5678"),
        ("mailto:chen.jing@factory.example.cn", "chen.jing@factory.example.cn"),
        ("mailto:o'neil@example.com", "o'neil@example.com"),  # L2's values are no address
    ]
    assert all(re.match(r"(tel:\+\d+|mailto:[^\s\"<>]+)$", href) for href, _ in parser.hrefs)
    assert 'href="mailto:o&#39;neil@example.com"' in html  # the attribute is escaped too
