"""The words of a report in one language (reporting/locales/<code>.yaml) and how its numbers are
written: a share as a percentage with one decimal, days with one decimal, counts whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from reporting.figures import Figure

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True)
class ReportText:
    code: str
    messages: Mapping[str, Any]

    @property
    def none(self) -> str:
        return self.t("none")

    def label(self, kind: str, code: object) -> str:
        """A code of the marts (a follow-up channel, a churn category) in the reader's words."""
        words = self.messages.get("labels", {}).get(kind, {})
        return str(words.get(code, code))

    def t(self, key: str, **values: object) -> str:
        node: Any = self.messages
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"report locale {self.code!r} has no message {key!r}")
            node = node[part]
        return str(node).format_map(values) if values else str(node)


@cache
def load_text(code: str | None) -> ReportText:
    """The report's words in `code`, Chinese when the language is unknown (like the emails)."""
    code = code if code in LANGUAGES else LANGUAGES[0]
    path = LOCALES_DIR / f"{code}.yaml"
    return ReportText(code, yaml.safe_load(path.read_text(encoding="utf-8")))


def format_value(value: float | int | None, unit: str, none: str = "-") -> str:
    if value is None or value != value:  # NULL or NaN
        return none
    if unit == "share":
        return f"{float(value) * 100:.1f}%"
    if unit == "days":
        return f"{float(value):.1f}"
    return f"{int(value):,}"


def format_figure(figure: Figure, none: str = "-") -> str:
    return format_value(figure.value, figure.unit, none)
