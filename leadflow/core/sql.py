"""Quoting for the SQL leadflow writes itself: one helper for literals, one for identifiers.

Values from files always travel as bound parameters; these are for the few places where SQL text
is built from names and constants (a channel's value maps, a column name, a timezone).
"""

from __future__ import annotations


def literal(value: str | None) -> str:
    """A SQL string literal, or NULL."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
