"""Step results as JSON, at the edges only: Airflow's XCom and the stored run summary.

Inside the process the steps hand each other dataclasses (typed, with their attributes); XCom
takes only JSON, and `ops.run_summary` keeps the run's results as JSON. This is the one place
that turns the one into the other.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime
from pathlib import PurePath
from typing import Any


def to_json(result: Any) -> Any:
    """A step result (a dataclass, or lists and dicts of them) as JSON-able data: fields by
    name (`dataclasses.asdict`), dates in ISO form, paths and enums as strings."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return _plain(dataclasses.asdict(result))
    return _plain(result)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    return value
