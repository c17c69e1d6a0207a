"""The words of R6's follow-up goals, from the dbt seed the marts use (one list, two languages).

owner_queue carries a goal as a code (goal_code); the seed `follow_up_goals` holds its words in
Chinese and English (goal_zh, goal_en), so the email and the warehouse never disagree.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from leadflow.core.settings import REPO_ROOT

GOALS_SEED = REPO_ROOT / "dbt_project" / "seeds" / "follow_up_goals.csv"


@cache
def goal_words(path: Path = GOALS_SEED) -> dict[str, dict[str, str]]:
    """goal_code -> {language: words} of the seed."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        return {
            row["goal_code"]: {"zh": row["goal_zh"], "en": row["goal_en"]}
            for row in csv.DictReader(fh)
        }


def goal_text(code: str | None, language: str) -> str | None:
    """The goal in `language` (zh / en); an unknown code reads as itself, None as None."""
    if code is None:
        return None
    return goal_words().get(code, {}).get(language, code)
