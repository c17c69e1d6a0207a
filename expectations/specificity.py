"""R7's rule for a specific follow-up record, as validation applies it (check `vague_feedback`).

One rule with the warehouse: the vague phrases are the dbt seed `vague_feedback_phrases`, the
minimum length is the dbt var `specific_feedback_min_chars`, and the normalisation below is the
SQL of the dbt macro `specificity_text` (dbt_project/macros/profile.sql), character for
character; tests/test_specificity.py checks validation's flags against the dbt model
`int_follow_up_specificity` on the same records.

Not specific: feedback empty, shorter than the minimum once spaces and punctuation are removed,
or one of the phrases, compared width-folded (NFKC's full-width forms) and case-folded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml

from leadflow.core.sql import literal

SEED_FILE = Path("seeds") / "vague_feedback_phrases.csv"
MIN_CHARS_VAR = "specific_feedback_min_chars"
# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, and what they fold to.
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
# Removed before comparing (after width folding): macro specificity_stripped, the same set.
STRIPPED = " \t\n\r" + ".,!?;:~'\"()[]{}<>*_-+=/\\|#@&^`…。、“”‘’《》【】「」·"


@dataclass(frozen=True)
class FeedbackRule:
    """What makes feedback vague: the seed's phrases (as written) and the minimum length."""

    phrases: tuple[str, ...]
    min_chars: int


def load_feedback_rule(dbt_project_dir: Path) -> FeedbackRule:
    """The rule from the dbt project: its seed of phrases and its var of the minimum length."""
    project = Path(dbt_project_dir)
    with (project / SEED_FILE).open(encoding="utf-8", newline="") as fh:
        phrases = tuple(row["phrase"] for row in csv.DictReader(fh) if row["phrase"].strip())
    variables = yaml.safe_load((project / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return FeedbackRule(phrases, int(variables[MIN_CHARS_VAR]))


def specificity_text_sql(expr: str) -> str:
    """DuckDB SQL of feedback as compared: width- and case-folded, spaces and punctuation gone;
    NULL when nothing is left."""
    folded = f"translate({expr}, {literal(FULL_WIDTH)}, {literal(HALF_WIDTH)})"
    return f"nullif(translate(lower({folded}), {literal(STRIPPED)}, ''), '')"


def vague_feedback_sql(expr: str, rule: FeedbackRule) -> str:
    """The feedback (or '' when empty) where it is not specific, else NULL: the batch column
    whose non-NULL values validation flags."""
    text = specificity_text_sql(expr)
    phrases = ", ".join(specificity_text_sql(literal(p)) for p in rule.phrases) or "NULL"
    return (
        f"CASE WHEN {text} IS NULL OR length({text}) < {rule.min_chars} "
        f"OR list_contains([{phrases}], {text}) THEN coalesce({expr}, '') END"
    )
