"""Channel configuration: one YAML file maps one export format onto one canonical entity (C1)."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from leadflow.core.canonical import ENTITIES, Entity
from leadflow.core.channel_schema import ERROR, YAML_LOADER, Problem, check_channel_doc, map_target
from leadflow.core.derived import DERIVATIONS, Derivation
from leadflow.core.errors import ConfigurationError
from leadflow.core.settings import DEFAULT_TIMEZONE


class ChannelError(ConfigurationError):
    """A channel YAML file that cannot be used."""


class ChannelConfigError(ChannelError):
    """Channel files that break the schema: every problem, each with file, line, key and fix."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == ERROR]
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Split:
    """One combined cell (e.g. 客户名称/行业) split into several canonical fields."""

    aliases: tuple[str, ...]
    into: tuple[str, ...]
    by: str = "separator"  # separator: split on `separator`; contact: phone / email by shape
    separator: str = r"\s*[/／]\s*"


@dataclass(frozen=True)
class RecordMapping:
    """A further record made from each row of the channel's export (C1: one row, several
    records), e.g. the dated won/lost status of an opportunity row. It takes its own fields
    from the row and inherits the row's party fields (lead id, person, company, contacts, owner)."""

    name: str  # channel of the records: `<channel>.<name>`
    entity: Entity
    fields: dict[str, tuple[str, ...]]
    constants: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    case: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Channel:
    name: str
    entity: Entity
    files: tuple[str, ...]
    format: str
    path: Path
    encoding: str = "auto"
    delimiter: str = "auto"
    sheets: str | tuple[str, ...] = "all"
    timezone: str = DEFAULT_TIMEZONE
    phone_region: str = "CN"
    id_namespace: str | None = None
    export_id: str | None = None
    date_formats: tuple[str, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    splits: tuple[Split, ...] = ()
    value_maps: dict[str, dict[str, str | None]] = field(default_factory=dict)
    case: dict[str, str] = field(default_factory=dict)  # field -> lower / upper
    ignore: tuple[str, ...] = ()
    # groups of canonical fields of which the file must carry at least one column (C6)
    required: tuple[tuple[str, ...], ...] = ()
    freshness_days: int | None = None
    derive: tuple[Derivation, ...] = ()  # activity records parsed out of free-text cells
    records: tuple[RecordMapping, ...] = ()  # further records of each row (C1)

    def matches(self, file_name: str) -> bool:
        return any(fnmatch.fnmatch(file_name.lower(), p.lower()) for p in self.files)

    def required_columns(self) -> list[tuple[str, ...]]:
        """Groups of canonical fields of which the file must carry at least one column."""
        return list(self.required)


def header_key(text: str) -> str:
    """Compare headers loosely: width-folded, case-folded, without spaces or BOM."""
    folded = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", folded).casefold()


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _required_group(item: Any) -> tuple[str, ...]:
    """`required: [email]` or `required: [{any_of: [phone, email]}]`, read once, here."""
    return tuple(item["any_of"]) if isinstance(item, dict) else (str(item),)


def parse_channel(doc: dict[str, Any], path: Path, text: str = "") -> Channel:
    """Check one YAML document against the schema (`leadflow.core.channel_schema`) and convert it;
    every error of the file is raised at once, naming the file, line and key."""
    problems = check_channel_doc(doc, path.name, text)
    if any(p.severity == ERROR for p in problems):
        raise ChannelConfigError(problems)
    return _channel(doc, path)


def _channel(doc: dict[str, Any], path: Path) -> Channel:
    """A document the schema accepted, as a `Channel`."""
    entity = ENTITIES[doc["entity"]]
    name = str(doc["channel"])
    sheets = doc.get("sheets", "all")
    return Channel(
        name=name,
        entity=entity,
        files=_as_tuple(doc["files"]),
        format=doc["format"],
        path=path,
        encoding=str(doc.get("encoding", "auto")),
        delimiter=str(doc.get("delimiter", "auto")),
        sheets=sheets if sheets == "all" else _as_tuple(sheets),
        timezone=str(doc.get("timezone", DEFAULT_TIMEZONE)),
        phone_region=str(doc.get("phone_region", "CN")),
        id_namespace=doc.get("id_namespace", name),
        export_id=doc.get("export_id"),
        date_formats=_as_tuple(doc.get("date_formats")),
        constants=_constants(doc.get("constants")),
        fields=_fields(doc.get("fields")),
        splits=tuple(
            Split(
                aliases=_as_tuple(s["column"]),
                into=tuple(s["into"]),
                by=s.get("by", "separator"),
                separator=s.get("separator") or Split.separator,
            )
            for s in doc.get("splits") or ()
        ),
        value_maps=_value_maps(doc.get("value_maps")),
        case={str(k): str(v) for k, v in (doc.get("case") or {}).items()},
        ignore=_as_tuple(doc.get("ignore")),
        required=tuple(_required_group(item) for item in doc.get("required") or ()),
        freshness_days=doc.get("freshness_days"),
        derive=tuple(DERIVATIONS[d["parser"]](d["from"]) for d in doc.get("derive") or ()),
        records=tuple(_record_mapping(item, name) for item in doc.get("records") or ()),
    )


def _fields(doc: Any) -> dict[str, tuple[str, ...]]:
    return {str(k): _as_tuple(v) for k, v in (doc or {}).items()}


def _constants(doc: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (doc or {}).items() if v is not None}


def _value_maps(doc: Any) -> dict[str, dict[str, str | None]]:
    """Per-field maps from export text to stored text; `null` as a target makes the value NULL.
    Keys match case-insensitively (the targets were checked by the schema)."""
    return {
        str(name): {str(source): map_target(target) for source, target in mapping.items()}
        for name, mapping in (doc or {}).items()
    }


def _record_mapping(item: dict[str, Any], channel: str) -> RecordMapping:
    return RecordMapping(
        name=f"{channel}.{item.get('name', item['entity'])}",
        entity=ENTITIES[item["entity"]],
        fields=_fields(item["fields"]),
        constants=_constants(item.get("constants")),
        value_maps=_value_maps(item.get("value_maps")),
        case={str(k): str(v) for k, v in (item.get("case") or {}).items()},
    )


def read_channel_file(path: Path) -> tuple[Channel | None, list[Problem]]:
    """One channel file: the channel (None when it has errors) and every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path.name, "", f"cannot read the file: {exc}")]
    try:
        doc = yaml.load(text, Loader=YAML_LOADER)  # safe: SafeLoader or its C twin
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(path.name, "", f"not valid YAML: {reason}", line)]
    problems = check_channel_doc(doc, path.name, text)
    if any(p.severity == ERROR for p in problems):
        return None, problems
    return _channel(doc, path), problems  # checked once, just above


def channel_files(channels_dir: Path) -> list[Path]:
    return sorted(p for p in Path(channels_dir).glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def validate_channels(channels_dir: Path) -> tuple[list[Channel], list[Problem]]:
    """Every channel file of the folder checked: the usable channels and all problems (errors
    and warnings), including names used twice across files."""
    channels_dir = Path(channels_dir)
    if not channels_dir.is_dir():
        where = Problem(str(channels_dir), "", "the channels folder does not exist")
        return [], [where]
    files = channel_files(channels_dir)
    if not files:
        return [], [Problem(str(channels_dir), "", "no channel file (*.yaml) in this folder")]
    channels: list[Channel] = []
    problems: list[Problem] = []
    for path in files:
        channel, found = read_channel_file(path)
        problems += found
        if channel is not None:
            channels.append(channel)
    problems += _names_used_twice(channels)
    return channels, problems


def _names_used_twice(channels: list[Channel]) -> list[Problem]:
    owners: dict[str, list[str]] = {}
    for channel in channels:
        names = [channel.name, *(r.name for r in channel.records)]
        names += [f"{channel.name}.{d.entity}" for d in channel.derive]
        for name in names:
            owners.setdefault(name, []).append(channel.path.name)
    return [
        Problem(files[-1], "channel", f"channel name `{name}` is also used by {files[0]}")
        for name, files in owners.items()
        if len(files) > 1
    ]


def load_channels(channels_dir: Path) -> list[Channel]:
    """Every channel in the folder, in file-name order; any error in any file raises one
    `ChannelConfigError` listing them all (a run refuses to start on an invalid channel)."""
    channels, problems = validate_channels(channels_dir)
    if any(p.severity == ERROR for p in problems):
        raise ChannelConfigError(problems)
    return channels


def channel_for(file_name: str, channels: list[Channel]) -> Channel | None:
    matching = [c for c in channels if c.matches(file_name)]
    return matching[0] if matching else None
