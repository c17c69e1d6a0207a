"""The schema of a channel YAML file, checked when the file is read (issue 14).

Two layers: a pydantic model of the document's shape (keys, types, allowed words), then the
checks that need the canonical entities (`leadflow.core.canonical`): field names, value-map targets,
`required` naming a field the channel maps, date formats that DuckDB reads back. Every problem
names the file, the line, the key and, where one is close, a suggestion:

    web_form.yaml:4: fileds: unknown key `fileds`, did you mean `fields`?

`check_channel_doc` returns all problems of a document at once (a person fixes them in one go);
`leadflow.core.channels` turns them into a `ChannelConfigError` when any is an error.
"""

from __future__ import annotations

import codecs
import difflib
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadflow.core.canonical import CARE_TYPES, ENTITIES, FOLLOW_UP_CHANNELS, GRADES, STATUSES
from leadflow.core.derived import DERIVATIONS
from leadflow.core.settings import DEFAULT_TIMEZONE

ERROR = "error"
WARNING = "warning"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built in
CASE_FOLDS = ("lower", "upper")
RECORD_ENTITIES = ("follow_up", "status", "care_action")
# What a misread strftime token usually meant (people write the pattern they see in Excel).
FORMAT_HINTS = {
    "YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S",
}  # fmt: skip
# Values a value map may produce for an enumerated field kind (None: the value becomes NULL).
MAP_TARGETS: dict[str, tuple[str, ...]] = {
    "grade": GRADES,
    "status": STATUSES,
    "follow_up_channel": FOLLOW_UP_CHANNELS,
    "care_type": CARE_TYPES,
    "bool": ("true", "false"),
}
PROBE = datetime(2026, 11, 20, 13, 45, 30)  # day > 12: a swapped day and month shows


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a channel file: where, what, and how to fix it."""

    file: str
    key: str  # dotted path of the key at fault, e.g. records[stage].fields.statsu
    message: str
    line: int | None = None
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "" if self.severity == ERROR else f"{self.severity}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}: {key}{label}{self.message}"


# --------------------------------------------------------------------------- the document shape

Text = str
Aliases = str | list[str]  # a header, or the header spellings seen in exports
Scalar = str | int | float | bool


class _Section(BaseModel):
    # extra="allow": unknown keys are collected with a suggestion (`_unknown_keys`), not
    # reported as pydantic's bare "Extra inputs are not permitted".
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)


class SplitDoc(_Section):
    column: Aliases
    into: list[Text]
    by: Literal["separator", "contact"] = "separator"
    separator: Text | None = None


class DeriveDoc(_Section):
    from_: Text = Field(alias="from")
    parser: Text


class AnyOfDoc(_Section):
    any_of: list[Text]


class RecordDoc(_Section):
    name: Text | None = None
    entity: Text
    fields: dict[Text, Aliases]
    constants: dict[Text, Scalar | None] = {}
    value_maps: dict[Text, dict[Any, Any]] = {}
    case: dict[Text, Text] = {}


class ChannelDoc(_Section):
    channel: Text
    entity: Text
    files: Aliases
    format: Literal["csv", "json", "xlsx"]
    encoding: Text = "auto"
    delimiter: Text = "auto"
    sheets: Aliases = "all"
    timezone: Text = DEFAULT_TIMEZONE
    phone_region: Text = "CN"
    id_namespace: Text | None = None
    export_id: Text | None = None
    date_formats: Aliases = []
    constants: dict[Text, Scalar | None] = {}
    fields: dict[Text, Aliases] = {}
    splits: list[SplitDoc] = []
    value_maps: dict[Text, dict[Any, Any]] = {}
    case: dict[Text, Text] = {}
    ignore: Aliases = []
    required: list[Text | AnyOfDoc] = []
    freshness_days: int | None = Field(default=None, gt=0)
    derive: list[DeriveDoc] = []
    records: list[RecordDoc] = []


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


# --------------------------------------------------------------------------- reporting


class _Report:
    """Problems of one file, each placed on its YAML line when the key can be found."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.problems: list[Problem] = []

    @functools.cached_property
    def _root(self) -> Any:
        """The YAML node tree, composed only when a problem needs its line."""
        try:
            return yaml.compose(self.text, Loader=YAML_LOADER)
        except yaml.YAMLError:
            return None

    def add(
        self, path: tuple, message: str, severity: str = ERROR, line_path: tuple | None = None
    ) -> None:
        line = _line(self._root, line_path or path)
        self.problems.append(Problem(self.file, _display(path), message, line, severity))


def _display(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(node: Any, path: tuple) -> int | None:
    """1-based line of the key (or list item) at `path` in the composed YAML tree."""
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                return line
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def suggestion(word: Any, candidates: Any, taken: Any = ()) -> str:
    """ ", did you mean `x`?" for the closest candidate, preferring one not already used (a typo
    of `fields` beside a correct `files` key means `fields`), else a candidate it abbreviates."""
    word, names = str(word), [str(c) for c in candidates]
    free = [c for c in names if c not in {str(t) for t in taken}]
    for pool in (free, names):
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
        if close:
            return f", did you mean `{close[0]}`?"
    prefixed = [c for c in names if len(word) >= 2 and c.startswith(word)]
    return f", did you mean `{prefixed[0]}`?" if len(prefixed) == 1 else ""


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


# --------------------------------------------------------------------------- checks


def check_channel_doc(doc: Any, file: str, text: str = "") -> list[Problem]:
    """Every problem of one parsed YAML document (`text` is its source, for line numbers),
    in the order of the file's lines."""
    problems = _check(doc, file, text)
    return sorted(problems, key=lambda p: p.line or 0)


def _check(doc: Any, file: str, text: str) -> list[Problem]:
    report = _Report(file, text)
    if not isinstance(doc, dict):
        report.add((), "a channel file must be a mapping of keys (channel, entity, files, ...)")
        return report.problems
    try:
        model = ChannelDoc.model_validate(doc)
    except ValidationError as exc:
        _shape_problems(exc, report)
        _raw_unknown(doc, ChannelDoc, (), report)
        return report.problems
    _unknown_keys(model, ChannelDoc, (), report)
    _check_scalars(model, report)
    entity = ENTITIES.get(model.entity)
    if entity is None:
        report.add(
            ("entity",),
            f"unknown entity `{model.entity}`{suggestion(model.entity, ENTITIES)} "
            f"(one of {', '.join(ENTITIES)})",
        )
        return report.problems
    _check_mapping(model, entity.name, (), report)
    _check_required(model, report)
    _check_derive(model, report)
    _check_records(model, report)
    return report.problems


def _shape_problems(exc: ValidationError, report: _Report) -> None:
    seen: set[tuple] = set()
    for error in exc.errors():
        path = _field_path(error["loc"])
        if path in seen:  # a union reports one error per member: say it once
            continue
        seen.add(path)
        kind, name = error["type"], path[-1] if path else ""
        if kind == "missing":
            report.add(path, f"missing key `{name}`")
        elif kind == "literal_error":
            allowed = error.get("ctx", {}).get("expected", "")
            words = re.findall(r"'([^']*)'", allowed)
            given = error.get("input")
            report.add(path, f"`{given}` is not one of {allowed}{suggestion(given, words)}")
        else:
            report.add(path, f"{error['msg']} (got {error.get('input')!r})")


def _field_path(loc: tuple) -> tuple:
    """pydantic's location without union member tags such as `list[str]` or `AnyOfDoc`."""
    tags = re.compile(r"^(str|int|float|bool|list\[.*\]|dict\[.*\]|[A-Z]\w*Doc|function-.*)$")
    return tuple(p for p in loc if isinstance(p, int) or not tags.match(str(p)))


def _raw_unknown(doc: Any, cls: type[BaseModel], path: tuple, report: _Report) -> None:
    """Unknown keys in a document that failed validation, at every level the model knows."""
    if not isinstance(doc, dict):
        return
    known = _known_keys(cls)
    for key, value in doc.items():
        if key not in known:
            report.add((*path, key), f"unknown key `{key}`{suggestion(key, known, doc)}")
            continue
        inner = _model_of(cls, key)
        if inner is None:
            continue
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            where = (*path, key, i) if isinstance(value, list) else (*path, key)
            _raw_unknown(item, inner, where, report)


def _model_of(cls: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The section model a key holds (itself or in a list), if any."""
    import typing

    field = next((f for n, f in cls.model_fields.items() if (f.alias or n) == key), None)
    if field is None:
        return None
    pending = [field.annotation]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
        pending += list(typing.get_args(kind))
    return None


def _unknown_keys(model: BaseModel, cls: type[BaseModel], path: tuple, report: _Report) -> None:
    """Unknown keys at every level: the top, each split, derive, record and any_of item."""
    known = _known_keys(cls)
    present = [*model.model_fields_set, *(model.model_extra or {})]
    for key in model.model_extra or {}:
        report.add((*path, key), f"unknown key `{key}`{suggestion(key, known, present)}")
    for name in cls.model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                where = (*path, name, i) if isinstance(value, list) else (*path, name)
                _unknown_keys(item, type(item), where, report)


def _check_scalars(model: ChannelDoc, report: _Report) -> None:
    """Values that fail late otherwise: zone, region, codec, delimiter, date formats."""
    if not as_list(model.files):
        report.add(("files",), "needs at least one file-name pattern, e.g. `exports_*.csv`")
    try:
        ZoneInfo(model.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = model.timezone
        report.add(("timezone",), f"`{zone}` is not an IANA timezone (e.g. Asia/Shanghai)")
    import phonenumbers

    if model.phone_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        report.add(
            ("phone_region",),
            f"`{model.phone_region}` is not a region code"
            f"{suggestion(model.phone_region.upper(), phonenumbers.SUPPORTED_REGIONS)}"
            " (ISO 3166 two letters, e.g. CN, US, BR)",
        )
    if model.encoding != "auto":
        try:
            codecs.lookup(model.encoding)
        except LookupError:
            report.add(("encoding",), f"`{model.encoding}` is not a codec (auto, utf-8, gbk, ...)")
    if model.delimiter != "auto" and len(model.delimiter) != 1:
        report.add(("delimiter",), f"`{model.delimiter}` must be `auto` or one character")
    for i, fmt in enumerate(as_list(model.date_formats)):
        problem = date_format_problem(fmt)
        if problem:
            report.add(("date_formats", i), problem)


@functools.cache
def _duckdb() -> Any:
    """One in-memory DuckDB for every format checked (a connection costs ~60 ms)."""
    import duckdb

    return duckdb.connect()


@functools.cache
def date_format_problem(fmt: str) -> str | None:
    """Why DuckDB (which parses the dates) cannot read back a date in this format, or None."""
    import duckdb

    hint = fmt
    for token, directive in FORMAT_HINTS.items():
        hint = re.sub(rf"(?<!%){token}", directive, hint)
    advice = f" (did you mean `{hint}`?)" if hint != fmt else ""
    if "%" not in fmt:
        return f"`{fmt}` has no % directive, so it reads no date{advice}"
    try:
        back = _duckdb().execute("SELECT strptime(strftime(?, ?), ?)", [PROBE, fmt, fmt]).fetchone()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0].split(": ")[-1]
        return f"`{fmt}` is not a date format: {reason}{advice}"
    if back[0].date() != PROBE.date():
        return f"`{fmt}` does not read back the date it writes (20 Nov 2026 -> {back[0]:%d %b %Y})"
    return None


def _field_problem(name: str, entity: str) -> str | None:
    fields = ENTITIES[entity].fields
    if name in fields:
        return None
    elsewhere = [e for e, spec in ENTITIES.items() if name in spec.fields]
    if elsewhere:
        return (
            f"`{name}` is a field of {' and '.join(elsewhere)}, not of {entity}: map it in a "
            "`records` item of that entity (docs/channels.md, canonical fields)"
        )
    return (
        f"`{name}` is not a field of {entity}{suggestion(name, fields)} "
        "(docs/channels.md lists the canonical fields)"
    )


def _check_mapping(
    model: ChannelDoc | RecordDoc, entity: str, path: tuple, report: _Report
) -> None:
    """fields, constants, value_maps and case name fields of the entity; map targets fit."""
    for section in ("fields", "constants", "value_maps", "case"):
        for name in getattr(model, section):
            problem = _field_problem(name, entity)
            if problem:
                report.add((*path, section, name), problem)
    for name, fold in model.case.items():
        if fold not in CASE_FOLDS:
            report.add(
                (*path, "case", name),
                f"`{fold}` is not a case fold{suggestion(fold, CASE_FOLDS)} (lower or upper)",
            )
    kinds = ENTITIES[entity].fields
    for name, mapping in model.value_maps.items():
        allowed = MAP_TARGETS.get(kinds.get(name, ""))
        for source, target in mapping.items():
            text = map_target(target)
            if allowed and text is not None and text not in allowed:
                report.add(
                    (*path, "value_maps", name),
                    f"{source!r} -> {text!r} is not a value of {name}{suggestion(text, allowed)} "
                    f"(use one of {', '.join(allowed)}, or null)",
                    line_path=(*path, "value_maps", name, source),
                )
    if isinstance(model, ChannelDoc):
        for i, split in enumerate(model.splits):
            for field in split.into:
                problem = _field_problem(field, entity)
                if problem:
                    report.add(("splits", i, "into"), problem)
            if split.separator is not None:
                try:
                    re.compile(split.separator)
                except re.error as exc:
                    report.add(("splits", i, "separator"), f"not a regular expression: {exc}")


def map_target(target: Any) -> str | None:
    """A value map's target as stored: YAML's true/false are the words, null stays NULL."""
    if target is None:
        return None
    return str(target).lower() if isinstance(target, bool) else str(target)


def mapped_fields(model: ChannelDoc) -> set[str]:
    """Fields the channel can fill: mapped headers, split cells and constants."""
    return set(model.fields) | set(model.constants) | {f for s in model.splits for f in s.into}


def _check_required(model: ChannelDoc, report: _Report) -> None:
    mapped = mapped_fields(model)
    for i, item in enumerate(model.required):
        group = item.any_of if isinstance(item, AnyOfDoc) else [item]
        for name in group:
            problem = _field_problem(name, model.entity)
            if problem:
                report.add(("required", i), problem)
            elif name not in mapped:
                report.add(
                    ("required", i),
                    f"`{name}` is required but no header maps to it: add it under `fields` "
                    f"(e.g. `{name}: [the export's header]`), `splits` or `constants`",
                )


def _check_derive(model: ChannelDoc, report: _Report) -> None:
    for i, item in enumerate(model.derive):
        if item.parser not in DERIVATIONS:
            report.add(
                ("derive", i, "parser"),
                f"unknown parser `{item.parser}`{suggestion(item.parser, DERIVATIONS)} "
                f"(one of {', '.join(sorted(DERIVATIONS))})",
            )
        problem = _field_problem(item.from_, model.entity)
        if problem:
            report.add(("derive", i, "from"), problem)


def _check_records(model: ChannelDoc, report: _Report) -> None:
    names: set[str] = set()
    for i, record in enumerate(model.records):
        path = ("records", i)
        name = record.name or record.entity
        if name in names:
            report.add((*path, "name"), f"two records named `{name}`: give each its own `name`")
        names.add(name)
        if record.entity not in RECORD_ENTITIES:
            report.add(
                (*path, "entity"),
                f"`{record.entity}` cannot be a record of a row"
                f"{suggestion(record.entity, RECORD_ENTITIES)} "
                f"(one of {', '.join(RECORD_ENTITIES)})",
            )
            continue
        if not record.fields:
            report.add((*path, "fields"), "a record needs at least one field of its own")
        _check_mapping(record, record.entity, path, report)
