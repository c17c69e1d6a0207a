"""The words, dates and numbers of an email in one language, from `notify/locales/<code>.yaml`.

Code never holds a word a rep reads: it asks a `Locale` for a message by key and gives it values
already formatted by the same locale (dates, counts). Every locale file has the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[str, ...] = ("zh", "en")  # zh first: the default (normalise_language)


class LocaleError(KeyError):
    """A message key missing from a locale file: a bug, caught by the locale tests."""


@dataclass(frozen=True)
class Locale:
    code: str
    messages: Mapping[str, Any]

    def text(self, key: str, **values: object) -> str:
        """The message at a dotted key, with `values` filled in."""
        message = self._lookup(key)
        if not isinstance(message, str):
            raise LocaleError(f"{self.code}: {key} is not a message")
        return message.format_map(values) if values else message

    def choose(self, group: str, code: str | None) -> str:
        """The word for a data code (a reason, a field, an occasion); `other` for an unknown one."""
        words = self._lookup(group)
        return words.get(code) if code in words else words["other"]

    def count(self, key: str, n: int) -> str:
        """`n` with its unit, in the singular or plural form the locale gives."""
        form = self._lookup(f"count.{key}")
        if isinstance(form, Mapping):
            form = form["one"] if n == 1 else form["other"]
        return form.format(n=self.number(n))

    def number(self, n: int) -> str:
        return f"{n:,}".replace(",", self.text("format.thousands_separator"))

    def date(self, value: date | None, *, weekday: bool = False, year: bool = True) -> str:
        """A date; `weekday` forms name the day and leave the year out unless `year`."""
        if value is None:
            return self.text("format.none")
        pattern = "format.date"
        if weekday:
            pattern = "format.date_weekday_year" if year else "format.date_weekday"
        return self.text(pattern, **self._parts(value))

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return self.text("format.none")
        parts = self._parts(value) | {"H": f"{value.hour:02d}", "M": f"{value.minute:02d}"}
        return self.text("format.datetime", **parts)

    def join(self, words: list[str]) -> str:
        return self.text("format.list_separator").join(words)

    def _parts(self, value: date) -> dict[str, str]:
        return {
            "y": str(value.year),
            "m": str(value.month),
            "d": str(value.day),
            "mon": self._lookup("format.months")[value.month - 1],
            "wd": self._lookup("format.weekdays")[value.weekday()],
        }

    def _lookup(self, key: str) -> Any:
        node: Any = self.messages
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise LocaleError(f"locale {self.code!r} has no message {key!r}")
            node = node[part]
        return node


@cache
def load_locale(code: str) -> Locale:
    if code not in LANGUAGES:
        raise LocaleError(f"no locale {code!r}: shipped are {', '.join(LANGUAGES)}")
    path = LOCALES_DIR / f"{code}.yaml"
    return Locale(code, yaml.safe_load(path.read_text(encoding="utf-8")))


def message_keys(messages: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Every dotted key of a locale file (count forms included): what the files must share."""
    keys: set[str] = set()
    for name, value in messages.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            keys |= message_keys(value, f"{key}.")
        else:
            keys.add(key)
    return keys
