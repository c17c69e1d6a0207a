"""The expectation suite of each channel: the one definition of every data-quality check (C6).

A suite is built from the channel's YAML (its entity and `required` list) and the canonical
entity (`leadflow.core.canonical`). Each `Check` pairs one GX Core expectation with how its
failing rows become `dq.flags` rows (check name, flagged column, severity, observed columns).

Some checks need a value that is not a raw column as it stands (blank text counts as missing, "at
least one usable contact", the original text of a typed field, the earlier copy of a duplicate
row). Those batch columns are SQL expressions over the raw row, defined here in `Suite.columns`
beside the expectation that reads them, so a check is reviewed in one place.

Nothing here imports GX: `Suite.checks` is plain data (reviewable, testable, dumpable to JSON with
`python -m expectations.suites`); `gx_suite()` turns it into a `gx.ExpectationSuite` on demand.

Choices where the contracts are silent:
- Required means usable: non-blank text, a parsed typed value, a valid phone / email (as the YAML's
  `any_of` is defined). So an unparseable required date gets `missing_required` and
  `unparseable_value`; a masked phone as the only contact gets `masked_phone` and
  `missing_required` on `phone|email` (the column named for an `any_of` group).
- `invalid_phone` / `invalid_email`: the format regex OR the ingest validator's verdict
  (`phone_valid` / `email_valid`, which identity uses) fails; a row failing both is one flag.
  A masked phone is never `invalid_phone`.
- `future_date`: event timestamps at or after the cut-off (the marts ignore them, C4). Date
  columns (`next_action_due`) are plans and may lie ahead: only `date_before_2000` applies, and
  2000 starts at 00:00 business time.
- `logged_before_contact`: with a date-only side, business dates are compared (a log dated the
  contact's day is fine).
- `duplicate_row`: rows of one file with the same `source_record_id` and `record_hash` (the key
  staging de-duplicates on); the first stays clean, each later copy is flagged naming the first.
- `unknown_owner`: trimmed `owner_name` not among the trimmed names of the latest version of each
  owner record; an empty directory makes every name unknown.
- `field_too_long`: a text field longer than TEXT_LENGTH_LIMIT characters (LONG_TEXT_LENGTH_LIMIT
  for prose fields such as `need` or `feedback`). The row loads whole and the warehouse keeps the
  value; emails shorten every field anyway (docs/mail.md). The observed value is the first
  characters and the length, never the whole text (a real export carried 3 million characters).
- `vague_feedback` (R7): a follow-up whose feedback is empty, shorter than the dbt var
  `specific_feedback_min_chars` once spaces and punctuation are removed, or a phrase of the dbt
  seed `vague_feedback_phrases` (width- and case-folded): expectations/specificity.py, the
  same rule as the model int_follow_up_specificity. The observed value is the feedback.
- Severity: `warning` for masked_phone, duplicate_row, unknown_owner, channel_stale,
  field_too_long and vague_feedback (the row is usable or the problem is not the row's);
  `error` for everything else.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from expectations.specificity import FeedbackRule, load_feedback_rule, vague_feedback_sql
from leadflow.core.canonical import (
    CARE_TYPES,
    ENTITIES,
    FOLLOW_UP_CHANNELS,
    GRADES,
    STATUSES,
    Entity,
)
from leadflow.core.channels import Channel, load_channels
from leadflow.core.clock import cutoff_utc
from leadflow.core.settings import DEFAULT_TIMEZONE, REPO_ROOT
from leadflow.core.sql import identifier as _q
from leadflow.core.sql import literal

E164_REGEX = r"^\+[1-9]\d{6,14}$"
# WHATWG's `type=email` pattern (what browsers accept), with at least one dot in the domain.
EMAIL_REGEX = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EARLIEST_DATE = date(2000, 1, 1)
# field_too_long: longer than any real name, title, address or id; prose fields get more room.
TEXT_LENGTH_LIMIT = 500
LONG_TEXT_LENGTH_LIMIT = 4000
LONG_TEXT_FIELDS = frozenset(
    {
        "need", "background", "plan_text", "follow_up_text", "care_text", "tags", "notes",
        "feedback", "objection", "next_action", "lost_reason", "note",
    }
)  # fmt: skip
OBSERVED_EXCERPT_CHARS = 40

ERROR = "error"
WARNING = "warning"

# Enumerated kinds: the check that flags a value outside the set, and the set.
ENUM_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "grade": ("invalid_grade", GRADES),
    "status": ("invalid_status", STATUSES),
    "follow_up_channel": ("invalid_follow_up_channel", FOLLOW_UP_CHANNELS),
    "care_type": ("invalid_care_type", CARE_TYPES),
}
TYPED_KINDS = ("timestamp", "date", "bool", "number", "integer")
TEXT_KINDS = ("text", "phone", "email", *ENUM_CHECKS)
CONTACT_KINDS = ("phone", "email")  # "present" means valid (`<field>_valid`), not just non-blank

# Rows are named in GX results by this index (unique within a batch: one file's rows never share
# a sheet + row number); `sheet` is '' for non-XLSX files so the index has no NULLs.
INDEX_COLUMNS = ("load_id", "source_record_id", "sheet", "row_number")
LINEAGE_COLUMNS = ("record_hash", "file_name")  # for flags only: kept out of the GX frame


@dataclass(frozen=True)
class Check:
    """One GX expectation and how each of its failing rows becomes a flag."""

    check_name: str
    column_name: str | None  # the column the flag names (None: a whole-row problem)
    severity: str
    expectation: str  # GX expectation class, e.g. "ExpectColumnValuesToBeInSet"
    kwargs: Mapping[str, Any]
    observed: tuple[str, ...]  # batch columns whose values become `observed_value`
    # (column, "==" | "is_null" | "is_not_null", value): rows outside it are not checked
    row_condition: tuple[str, str, Any] | None = None


@dataclass(frozen=True)
class Suite:
    channel: str
    entity: str
    columns: dict[str, str]  # batch column -> SQL expression over the raw row
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.channel


def _check(
    check_name: str,
    column_name: str | None,
    severity: str,
    expectation: str,
    observed: tuple[str, ...],
    condition: tuple[str, str, Any] | None = None,
    **kwargs: Any,
) -> Check:
    return Check(check_name, column_name, severity, expectation, kwargs, observed, condition)


# --------------------------------------------------------------------------- channel YAML


def channels_by_name(channels_dir: Path) -> dict[str, Channel]:
    """Every channel of `channels_dir`, by channel name, as ingest reads them: one parser and
    one schema (`leadflow.core.channels`), so an invalid file stops validation with the same
    messages as ingest."""
    return {c.name: c for c in load_channels(channels_dir)}


# --------------------------------------------------------------------------- suite building


def build_suite(
    channel: Channel,
    *,
    as_of: date,
    tz: ZoneInfo,
    owner_names: frozenset[str] | None = None,
    feedback_rule: FeedbackRule | None = None,
) -> Suite:
    """The suite of one channel for one as-of date (the cut-off and owner directory vary).
    `feedback_rule`: R7's rule (None: the one of the shipped dbt project)."""
    return _suite(
        channel.name,
        channel.entity.name,
        channel.required_columns(),
        as_of=as_of,
        tz=tz,
        owner_names=owner_names,
        feedback_rule=feedback_rule,
    )


def batch_suite(
    channels: Mapping[str, Channel], channel: str, entity: str, **options: Any
) -> Suite:
    """The suite of one batch: the rows of `entity` that a load of `channel` landed.

    Without a YAML of that name and entity, the entity's checks only (no required fields): a
    channel removed since its files were loaded still has rows to re-validate, and the records
    a sheet derives from its text (`<channel>.<entity>`) are a channel of no YAML of their own.
    `options`: those of `build_suite`."""
    spec = channels.get(channel)
    if spec is not None and spec.entity.name == entity:
        return build_suite(spec, **options)
    return _suite(channel, entity, (), **options)


def _suite(
    name: str,
    entity_name: str,
    required: list[tuple[str, ...]] | tuple[()],
    *,
    as_of: date,
    tz: ZoneInfo,
    owner_names: frozenset[str] | None = None,
    feedback_rule: FeedbackRule | None = None,
) -> Suite:
    entity = ENTITIES[entity_name]
    columns = _base_columns(entity)
    checks: list[Check] = []
    for group in required:
        checks.append(_required_check(group, entity, columns, name))
    checks += _contact_checks(entity)
    checks += _enum_checks(entity)
    checks += _typed_checks(entity, columns, as_of=as_of, tz=tz)
    checks += _logged_before_contact(entity, columns, tz)
    checks += _length_checks(entity, columns)
    checks.append(_duplicate_check(columns))
    if "feedback" in entity.fields:
        checks.append(_vague_feedback_check(columns, feedback_rule or default_feedback_rule()))
    if "owner_name" in entity.fields and entity_name != "owner":
        checks.append(_owner_check(owner_names or frozenset()))
    return Suite(name, entity_name, _used_columns(columns, checks), tuple(checks))


def _used_columns(columns: dict[str, str], checks: list[Check]) -> dict[str, str]:
    """Only the columns some check reads: a 1M-row batch stays narrow."""
    used = {*INDEX_COLUMNS, *LINEAGE_COLUMNS}
    for check in checks:
        used.update(check.observed)
        used.update(v for k, v in check.kwargs.items() if k in ("column", "column_A", "column_B"))
        if check.row_condition is not None:
            used.add(check.row_condition[0])
    return {name: sql for name, sql in columns.items() if name in used}


def _base_columns(entity: Entity) -> dict[str, str]:
    """Index, lineage and canonical fields; blank text counts as missing (NULL)."""
    cols = {name: _q(name) for name in (*INDEX_COLUMNS, *LINEAGE_COLUMNS)}
    cols["sheet"] = "coalesce(sheet, '')"
    for name, kind in entity.fields.items():
        cols[name] = f"nullif(trim({_q(name)}), '')" if kind in TEXT_KINDS else _q(name)
    if "phone" in entity.fields:
        # Validity is only defined where there is a value; a masked number is never "invalid"
        # (it gets masked_phone instead).
        cols["phone_masked"] = "coalesce(phone_masked, false)"
        cols["phone_valid"] = (
            "CASE WHEN nullif(trim(phone), '') IS NOT NULL THEN coalesce(phone_valid, false) END"
        )
    if "email" in entity.fields:
        cols["email_valid"] = (
            "CASE WHEN nullif(trim(email), '') IS NOT NULL THEN coalesce(email_valid, false) END"
        )
    return cols


def _usable_sql(name: str, kind: str) -> str:
    if kind in CONTACT_KINDS:
        return (
            f"(nullif(trim({_q(name)}), '') IS NOT NULL AND coalesce({_q(name + '_valid')}, false))"
        )
    if kind in TEXT_KINDS:
        return f"nullif(trim({_q(name)}), '') IS NOT NULL"
    return f"{_q(name)} IS NOT NULL"


def _required_check(
    group: tuple[str, ...], entity: Entity, columns: dict[str, str], channel: str
) -> Check:
    """Required = a usable value: non-blank, parsed (typed fields), valid (phone / email)."""
    unknown = [f for f in group if f not in entity.fields]
    if unknown:
        raise ValueError(f"channel {channel}: required field(s) {unknown} not in {entity.name}")
    if len(group) == 1 and entity.fields[group[0]] not in CONTACT_KINDS:
        column = group[0]  # the field itself: blank text is already NULL in the batch
    else:
        column = "required__" + "_or_".join(group)
        usable = " OR ".join(_usable_sql(f, entity.fields[f]) for f in group)
        columns[column] = f"CASE WHEN {usable} THEN true END"
    label = "|".join(group)
    return _check(
        "missing_required", label, ERROR, "ExpectColumnValuesToNotBeNull", group, column=column
    )


def _contact_checks(entity: Entity) -> list[Check]:
    """Format (regex) and the ingest validator's verdict; a row failing both gets one flag."""
    checks: list[Check] = []
    if "phone" in entity.fields:
        unmasked = ("phone_masked", "==", False)  # a masked number gets masked_phone instead
        in_set = "ExpectColumnValuesToBeInSet"
        checks += [
            _check(
                "invalid_phone", "phone", ERROR, "ExpectColumnValuesToMatchRegex", ("phone",),
                unmasked, column="phone", regex=E164_REGEX,
            ),
            _check(
                "invalid_phone", "phone", ERROR, in_set, ("phone",), unmasked,
                column="phone_valid", value_set=[True],
            ),
            _check(
                "masked_phone", "phone", WARNING, in_set, ("phone",),
                column="phone_masked", value_set=[False],
            ),
        ]  # fmt: skip
    if "email" in entity.fields:
        checks += [
            _check(
                "invalid_email", "email", ERROR, "ExpectColumnValuesToMatchRegex", ("email",),
                column="email", regex=EMAIL_REGEX,
            ),
            _check(
                "invalid_email", "email", ERROR, "ExpectColumnValuesToBeInSet", ("email",),
                column="email_valid", value_set=[True],
            ),
        ]  # fmt: skip
    return checks


def _enum_checks(entity: Entity) -> list[Check]:
    checks: list[Check] = []
    for name, kind in entity.fields.items():
        if kind in ENUM_CHECKS:
            check_name, values = ENUM_CHECKS[kind]
            checks.append(
                _check(
                    check_name, name, ERROR, "ExpectColumnValuesToBeInSet", (name,),
                    column=name, value_set=list(values),
                )
            )  # fmt: skip
    return checks


def _typed_checks(
    entity: Entity, columns: dict[str, str], *, as_of: date, tz: ZoneInfo
) -> list[Check]:
    """Unparseable text, dates after the cut-off or before 2000 (business time)."""
    cutoff = cutoff_utc(as_of, tz)
    between = "ExpectColumnValuesToBeBetween"
    checks: list[Check] = []
    typed = [name for name, kind in entity.fields.items() if kind in TYPED_KINDS]
    # One JSON parse per row for all typed fields: the identical list expression in every
    # column is computed once by DuckDB (11 s -> 2 s for 3.4M follow-ups, 9 fields).
    originals = "json_extract_string(original_values, [{}])".format(
        ", ".join(f"'$.{name}'" for name in typed)
    )
    for name, kind in entity.fields.items():
        if kind not in TYPED_KINDS:
            continue
        original = f"{name}__original"
        columns[original] = f"nullif(trim({originals}[{typed.index(name) + 1}]), '')"
        checks.append(
            _check(
                "unparseable_value", name, ERROR, "ExpectColumnValuesToBeNull", (original,),
                (name, "is_null", None), column=original,
            )
        )  # fmt: skip
        if kind == "timestamp":
            # Event times must be before the cut-off: the marts ignore later events (C4).
            checks.append(
                _check(
                    "future_date", name, ERROR, between, (name,),
                    column=name, max_value=cutoff, strict_max=True,
                )
            )  # fmt: skip
        if kind in ("timestamp", "date"):
            # A timestamp is UTC, so 2000 starts at 00:00 business time. A date column
            # (next_action_due) is a plan: it may lie in the future.
            earliest = cutoff_utc(EARLIEST_DATE, tz) if kind == "timestamp" else EARLIEST_DATE
            shown = name
            if kind == "date":  # pandas holds a date as a midnight timestamp: show the date
                shown = f"{name}__text"
                columns[shown] = f"CAST({_q(name)} AS VARCHAR)"
            checks.append(
                _check(
                    "date_before_2000", name, ERROR, between, (shown,),
                    column=name, min_value=_as_datetime(earliest),
                )
            )  # fmt: skip
    return checks


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _business_day(name: str, tz: ZoneInfo) -> str:
    """00:00 of the business date of a UTC timestamp column (naive, business time)."""
    zone = literal(str(tz))
    return f"CAST(CAST(timezone({zone}, timezone('UTC', {_q(name)})) AS DATE) AS TIMESTAMP)"


def _logged_before_contact(entity: Entity, columns: dict[str, str], tz: ZoneInfo) -> list[Check]:
    """Logged time not before contact time; with a date-only side, business dates compare."""
    if not {"logged_at", "contacted_at"} <= entity.fields.keys():
        return []
    date_only = (
        "coalesce(logged_at_is_date_only, false) OR coalesce(contacted_at_is_date_only, false)"
    )
    for name in ("logged_at", "contacted_at"):
        columns[f"{name}__compared"] = (
            f"CASE WHEN {date_only} THEN {_business_day(name, tz)} ELSE {_q(name)} END"
        )
    return [
        _check(
            "logged_before_contact", "logged_at", ERROR,
            "ExpectColumnPairValuesAToBeGreaterThanB", ("logged_at", "contacted_at"),
            column_A="logged_at__compared", column_B="contacted_at__compared",
            or_equal=True, ignore_row_if="either_value_is_missing",
        )
    ]  # fmt: skip


def _length_checks(entity: Entity, columns: dict[str, str]) -> list[Check]:
    """Text fields longer than their limit; the flag shows an excerpt and the length. The batch
    column is NULL for almost every row (a cheap categorical), the excerpt where too long."""
    checks = []
    for name, kind in entity.fields.items():
        if kind not in TEXT_KINDS:
            continue
        limit = LONG_TEXT_LENGTH_LIMIT if name in LONG_TEXT_FIELDS else TEXT_LENGTH_LIMIT
        column, value = f"{name}__too_long", _q(name)
        columns[column] = (
            f"CASE WHEN length({value}) > {limit} THEN left({value}, {OBSERVED_EXCERPT_CHARS}) "
            f"|| '… (' || length({value}) || ' characters, at most {limit})' END"
        )
        checks.append(
            _check(
                "field_too_long", name, WARNING, "ExpectColumnValuesToBeNull", (column,),
                column=column,
            )
        )  # fmt: skip
    return checks


# The first copy of each row repeated within one file, from an aggregate joined to the batch
# (see `batch_sql`): a window over the batch sorted every row with all its columns, ~60 % of
# reading 3.4M follow-ups; the aggregate hashes three keys and joins back the few repeats.
DUPLICATE_KEY = ("file_sha256", "source_record_id", "record_hash")
COPY_POSITION = "struct_pack(s := coalesce(sheet, ''), r := row_number)"  # file order of a copy
FIRST_COPY = "__first_copy"


def _duplicate_check(columns: dict[str, str]) -> Check:
    """Identical rows of one file: the first stays clean, every later copy names it."""
    columns["duplicate_of"] = (
        f"CASE WHEN {FIRST_COPY} IS NOT NULL AND {COPY_POSITION} <> {FIRST_COPY} "
        f"THEN CASE WHEN {FIRST_COPY}.s = '' THEN '' ELSE {FIRST_COPY}.s || ' ' END "
        f"|| 'row ' || {FIRST_COPY}.r END"
    )
    return _check(
        "duplicate_row", None, WARNING, "ExpectColumnValuesToBeNull", ("duplicate_of",),
        column="duplicate_of",
    )  # fmt: skip


def batch_sql(suite: Suite, table: str, rows_filter: str) -> str:
    """The SELECT of one batch: the suite's columns over the raw rows that pass `rows_filter`,
    with the first copy of each repeated row joined on when the suite checks duplicates."""
    select = ", ".join(f'{sql} AS "{name}"' for name, sql in suite.columns.items())
    if "duplicate_of" not in suite.columns:
        return f"SELECT {select} FROM {table} WHERE {rows_filter}"
    key = ", ".join(DUPLICATE_KEY)
    first_copies = (
        f"SELECT {key}, min({COPY_POSITION}) AS {FIRST_COPY} FROM {table} "
        f"WHERE {rows_filter} GROUP BY {key} HAVING count(*) > 1"
    )
    return (
        f"SELECT {select} FROM (SELECT * FROM {table} WHERE {rows_filter}) "
        f"LEFT JOIN ({first_copies}) USING ({key})"
    )


def default_feedback_rule() -> FeedbackRule:
    """R7's rule as the shipped dbt project states it (its seed and var)."""
    return load_feedback_rule(REPO_ROOT / "dbt_project")


def _vague_feedback_check(columns: dict[str, str], rule: FeedbackRule) -> Check:
    """R7: follow-up feedback that is empty, too short or a vague phrase (expectations/
    specificity.py); the flag shows the feedback as written."""
    columns["feedback__vague"] = vague_feedback_sql(_q("feedback"), rule)
    return _check(
        "vague_feedback", "feedback", WARNING, "ExpectColumnValuesToBeNull", ("feedback",),
        column="feedback__vague",
    )  # fmt: skip


def _owner_check(owner_names: frozenset[str]) -> Check:
    return _check(
        "unknown_owner", "owner_name", WARNING, "ExpectColumnValuesToBeInSet", ("owner_name",),
        column="owner_name", value_set=sorted(owner_names),
    )  # fmt: skip


# --------------------------------------------------------------------------- GX objects


def gx_suite(suite: Suite) -> Any:
    """The GX Core ExpectationSuite of `suite`; each expectation's meta names its check."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    gx_suite_ = gx.ExpectationSuite(name=suite.name)
    for position, check in enumerate(suite.checks):
        expectation_class = getattr(gxe, check.expectation)
        kwargs = dict(check.kwargs)
        if check.row_condition is not None:
            kwargs["row_condition"] = _gx_condition(*check.row_condition)
        meta = {
            "check_id": position,
            "check_name": check.check_name,
            "flag_column": check.column_name,
            "severity": check.severity,
        }
        gx_suite_.add_expectation(expectation_class(**kwargs, meta=meta))
    return gx_suite_


def _gx_condition(column: str, op: str, value: Any) -> Any:
    from great_expectations.expectations.row_conditions import Column

    if op == "==":
        return Column(column) == value
    if op == "is_null":
        return Column(column).is_null()
    if op == "is_not_null":
        return Column(column).is_not_null()
    raise ValueError(f"unknown row condition operator {op!r}")


def suite_as_json(suite: Suite) -> dict[str, Any]:
    """A reviewable, GX-free rendering of a suite (checks and the SQL of derived columns)."""
    return {
        "channel": suite.channel,
        "entity": suite.entity,
        "derived_columns": {k: v for k, v in suite.columns.items() if v != _q(k)},
        "checks": [
            {
                "check_name": c.check_name,
                "column_name": c.column_name,
                "severity": c.severity,
                "expectation": c.expectation,
                "kwargs": dict(c.kwargs),
                "row_condition": c.row_condition,
                "observed": list(c.observed),
            }
            for c in suite.checks
        ],
    }


def main(argv: list[str]) -> None:
    """`python -m expectations.suites CHANNELS_DIR [AS_OF]`: print every suite as JSON."""
    channels_dir = Path(argv[0]) if argv else Path(__file__).parent.parent / "ingest" / "channels"
    as_of = date.fromisoformat(argv[1]) if len(argv) > 1 else date(2000, 1, 1)
    tz = ZoneInfo(DEFAULT_TIMEZONE)
    suites = [
        suite_as_json(build_suite(c, as_of=as_of, tz=tz, owner_names=frozenset({"<directory>"})))
        for c in load_channels(channels_dir)
    ]
    print(json.dumps(suites, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
