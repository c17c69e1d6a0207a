"""One language per email: every word from the owner's locale file, none of the other language.

Every item type, coded value (reasons, missing fields, occasions, content kinds, unknown codes)
and email kind is rendered in both languages; what is left after removing the sample's data
values must be purely Chinese or purely English, with no rule or contract codes (R3, C8).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml

from notify.locale import LANGUAGES, LOCALES_DIR, load_locale, message_keys
from tests.notify_samples import AS_OF, data_values, every_item, render_all

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
RULE_CODE = re.compile(r"(?<![A-Za-z0-9_])[RC]\d{1,2}(?![0-9])")
# Names a Chinese reader meets as they are: the product, and where BI finds a lead.
PROPER_NAMES = (
    "leadflow_marts.duckdb",
    "marts.ops_owner_queue",
    "marts.ops_unknown_owner_names",
    "marts.ops_stale_channels",
    "lead_key",
    "owner_name",
    "as_of",
)
PROPER_WORDS = ("leadflow", "BI")


class _Visible(HTMLParser):
    """The text a reader sees, and the attributes they can reach (title, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [value or "" for name, value in attrs if name in ("title", "alt")]


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def own_words(text: str, language: str) -> str:
    """`text` without the sample's data values and the proper names it may contain."""
    # proper names first: a data value such as the owner `ops` is part of `marts.ops_owner_queue`
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    for value in sorted(data_values(language), key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"\+\d[\d ]+", " ", text)  # phone numbers, grouped or masked
    return re.sub(r"\d+\*+\d+", " ", text)


def readable_parts(language: str) -> dict[str, str]:
    parts = {}
    for kind, email in render_all(language).items():
        parts[f"{kind}.subject"] = email.subject
        parts[f"{kind}.text"] = email.text
        parts[f"{kind}.html"] = visible(email.html)
    return parts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_item_type_renders_in_its_language_only(language: str) -> None:
    for where, text in readable_parts(language).items():
        words = own_words(text, language)
        if language == "zh":
            english = sorted(set(ASCII_WORD.findall(words)) - set(PROPER_WORDS))
            assert not english, f"{where}: English words in a Chinese email: {english}"
            assert CJK.search(words), where
        else:
            chinese = sorted(set(CJK.findall(words)))
            assert not chinese, f"{where}: Chinese in an English email: {chinese}"
        assert not RULE_CODE.search(text), f"{where}: a rule code: {RULE_CODE.search(text)}"
        assert "None" not in text and "{" not in text, where  # no missing value or placeholder


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_item_says_what_to_do(language: str) -> None:
    """Each card has at least one line of what to do; unknown codes get the locale's word."""
    html = render_all(language)["daily"].html
    cards = re.findall(r'data-lead-key="(L\d+)"(.*?)</div>\n</div>', html, flags=re.S)
    assert len(cards) >= 20
    loc = load_locale(language)
    other = {
        loc.text("unassigned_reasons.other"),
        loc.text("missing_fields.other"),
        loc.text("occasions.other"),
        loc.text("content_kinds.other"),
    }
    assert all(word in html for word in other)
    unknown_type = {i.lead_key for i in every_item(language) if i.item_type == "a_new_item_type"}
    assert unknown_type <= {key for key, _ in cards}  # an unknown type is listed, never dropped
    for key, card in cards:
        if key not in unknown_type:  # title, a line of what to do, the lead key at least
            assert card.count("<div") >= 3, key


def test_locale_files_have_the_same_keys() -> None:
    keys = {
        code: message_keys(yaml.safe_load((LOCALES_DIR / f"{code}.yaml").read_text("utf-8")))
        for code in LANGUAGES
    }
    # a count is one string or one/other forms: the same message either way
    normalised = {
        code: {re.sub(r"^(count\.\w+)\.(one|other)$", r"\1", k) for k in found}
        for code, found in keys.items()
    }
    assert normalised["zh"] == normalised["en"]


def test_numbers_dates_and_plurals_follow_the_locale() -> None:
    zh, en = load_locale("zh"), load_locale("en")
    assert zh.count("days", 1) == "1 天" and en.count("days", 1) == "1 day"
    assert en.count("days", 2) == "2 days" and en.count("items", 1234) == "1,234 items"
    assert zh.date(AS_OF, weekday=True, year=False) == "3月16日（周一）"
    assert en.date(AS_OF, weekday=True, year=False) == "Mon 16 Mar"
    assert en.date(AS_OF, weekday=True) == "Mon 16 Mar 2026"
    assert zh.date(AS_OF) == "2026年3月16日" and en.date(AS_OF) == "16 Mar 2026"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_html_names_its_language(language: str) -> None:
    html = render_all(language)["daily"].html
    assert f'<html lang="{load_locale(language).text("html_lang")}">' in html
