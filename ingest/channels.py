"""Channel configuration: one YAML file maps one export format onto one canonical entity (C1)."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.canonical import CARE_TYPES, ENTITIES, FOLLOW_UP_CHANNELS, GRADES, STATUSES, Entity
from ingest.derived import DERIVATIONS, Derivation


class ChannelError(ValueError):
    """A channel YAML file that cannot be used."""


@dataclass(frozen=True)
class Split:
    """One combined cell (e.g. 客户名称/行业) split into several canonical fields."""

    aliases: tuple[str, ...]
    into: tuple[str, ...]
    by: str = "separator"  # separator: split on `separator`; contact: phone / email by shape
    separator: str = r"\s*[/／]\s*"


# Values a value map may produce for an enumerated field kind (None: the value becomes NULL).
MAP_TARGETS: dict[str, tuple[str, ...]] = {
    "grade": GRADES,
    "status": STATUSES,
    "follow_up_channel": FOLLOW_UP_CHANNELS,
    "care_type": CARE_TYPES,
    "bool": ("true", "false"),
}
CASE_FOLDS = ("lower", "upper")
RECORD_KEYS = {"name", "entity", "fields", "constants", "value_maps", "case"}


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
    timezone: str = "Asia/Shanghai"
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
    required: tuple[Any, ...] = ()
    freshness_days: int | None = None
    derive: tuple[Derivation, ...] = ()  # activity records parsed out of free-text cells
    records: tuple[RecordMapping, ...] = ()  # further records of each row (C1)

    def matches(self, file_name: str) -> bool:
        return any(fnmatch.fnmatch(file_name.lower(), p.lower()) for p in self.files)

    def required_columns(self) -> list[tuple[str, ...]]:
        """Groups of canonical fields of which the file must carry at least one column."""
        groups: list[tuple[str, ...]] = []
        for item in self.required:
            if isinstance(item, dict):
                groups.append(tuple(item["any_of"]))
            else:
                groups.append((item,))
        return groups


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


def parse_channel(doc: dict[str, Any], path: Path) -> Channel:
    """Check and convert one YAML document, naming the file and the key at fault."""
    for key in ("channel", "entity", "files", "format"):
        if key not in doc:
            raise ChannelError(f"{path.name}: missing key '{key}'")
    entity_name = doc["entity"]
    if entity_name not in ENTITIES:
        raise ChannelError(f"{path.name}: unknown entity '{entity_name}' (known: {list(ENTITIES)})")
    entity = ENTITIES[entity_name]
    fields = {k: _as_tuple(v) for k, v in (doc.get("fields") or {}).items()}
    splits = tuple(
        Split(
            aliases=_as_tuple(s["column"]),
            into=tuple(s["into"]),
            by=s.get("by", "separator"),
            separator=s.get("separator", Split.separator),
        )
        for s in doc.get("splits") or ()
    )
    constants = {k: str(v) for k, v in (doc.get("constants") or {}).items()}
    named = set(fields) | set(constants) | {f for s in splits for f in s.into}
    unknown = sorted(named - set(entity.fields))
    if unknown:
        raise ChannelError(f"{path.name}: fields {unknown} are not fields of entity {entity_name}")
    if doc["format"] not in ("csv", "json", "xlsx"):
        raise ChannelError(f"{path.name}: format must be csv, json or xlsx")
    sheets = doc.get("sheets", "all")
    derive = []
    for item in doc.get("derive") or ():
        if item.get("parser") not in DERIVATIONS or item.get("from") not in entity.fields:
            raise ChannelError(
                f"{path.name}: derive needs parser in {sorted(DERIVATIONS)} and a field of "
                f"{entity_name} as 'from'"
            )
        derive.append(DERIVATIONS[item["parser"]](item["from"]))
    return Channel(
        name=str(doc["channel"]),
        entity=entity,
        files=_as_tuple(doc["files"]),
        format=doc["format"],
        path=path,
        encoding=str(doc.get("encoding", "auto")),
        delimiter=str(doc.get("delimiter", "auto")),
        sheets=sheets if sheets == "all" else _as_tuple(sheets),
        timezone=str(doc.get("timezone", "Asia/Shanghai")),
        phone_region=str(doc.get("phone_region", "CN")),
        id_namespace=doc.get("id_namespace", doc["channel"]),
        export_id=doc.get("export_id"),
        date_formats=_as_tuple(doc.get("date_formats")),
        constants=constants,
        fields=fields,
        splits=splits,
        value_maps=_value_maps(doc.get("value_maps"), entity, path.name),
        case=_case_folds(doc.get("case"), entity, path.name),
        ignore=_as_tuple(doc.get("ignore")),
        required=tuple(doc.get("required") or ()),
        freshness_days=doc.get("freshness_days"),
        derive=tuple(derive),
        records=tuple(
            _record_mapping(item, str(doc["channel"]), path.name)
            for item in doc.get("records") or ()
        ),
    )


def _value_maps(
    doc: Any, entity: Entity, where: str, prefix: str = ""
) -> dict[str, dict[str, str | None]]:
    """Per-field maps from export text to stored text; `null` as a target makes the value NULL.
    Keys match case-insensitively. A target an enumerated field cannot hold is an error now,
    not a flag on every row later."""
    maps: dict[str, dict[str, str | None]] = {}
    for name, mapping in (doc or {}).items():
        if name not in entity.fields:
            raise ChannelError(f"{where}: {prefix}value_maps.{name}: not a field of {entity.name}")
        if not isinstance(mapping, dict):
            raise ChannelError(f"{where}: {prefix}value_maps.{name} must map values to values")
        allowed = MAP_TARGETS.get(entity.fields[name])
        converted = {}
        for source, target in mapping.items():
            text = _map_target(target)
            if allowed and text is not None and text not in allowed:
                raise ChannelError(
                    f"{where}: {prefix}value_maps.{name}: {source!r} -> {text!r} is not a value "
                    f"of {name} (use one of {', '.join(allowed)}, or null)"
                )
            converted[str(source)] = text
        maps[name] = converted
    return maps


def _map_target(target: Any) -> str | None:
    if target is None:
        return None
    return str(target).lower() if isinstance(target, bool) else str(target)


def _case_folds(doc: Any, entity: Entity, where: str, prefix: str = "") -> dict[str, str]:
    folds = {str(k): str(v) for k, v in (doc or {}).items()}
    for name, fold in folds.items():
        if name not in entity.fields or fold not in CASE_FOLDS:
            raise ChannelError(
                f"{where}: {prefix}case.{name}: needs a field of {entity.name} and one of "
                f"{', '.join(CASE_FOLDS)}"
            )
    return folds


def _record_mapping(item: Any, channel: str, where: str) -> RecordMapping:
    if not isinstance(item, dict) or "entity" not in item or not item.get("fields"):
        raise ChannelError(f"{where}: each item of records needs an entity and fields")
    unknown_keys = sorted(set(item) - RECORD_KEYS)
    if unknown_keys:
        raise ChannelError(
            f"{where}: records: unknown key(s) {unknown_keys} (known: {sorted(RECORD_KEYS)})"
        )
    entity_name = item["entity"]
    if entity_name not in ENTITIES or entity_name in ("intake", "owner"):
        raise ChannelError(
            f"{where}: records: entity must be follow_up, status or care_action, "
            f"got {entity_name!r}"
        )
    entity = ENTITIES[entity_name]
    name = str(item.get("name", entity_name))
    prefix = f"records[{name}]."
    fields = {k: _as_tuple(v) for k, v in item["fields"].items()}
    constants = {k: str(v) for k, v in (item.get("constants") or {}).items()}
    unknown = sorted((set(fields) | set(constants)) - set(entity.fields))
    if unknown:
        raise ChannelError(f"{where}: {prefix}fields {unknown} are not fields of {entity_name}")
    return RecordMapping(
        name=f"{channel}.{name}",
        entity=entity,
        fields=fields,
        constants=constants,
        value_maps=_value_maps(item.get("value_maps"), entity, where, prefix),
        case=_case_folds(item.get("case"), entity, where, prefix),
    )


def load_channels(channels_dir: Path) -> list[Channel]:
    """Every channel in the folder, in file-name order; names must be unique."""
    channels: list[Channel] = []
    for path in sorted(Path(channels_dir).glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        channels.append(parse_channel(doc, path))
    names = [c.name for c in channels]
    for channel in channels:
        names += [record.name for record in channel.records]
        names += [f"{channel.name}.{d.entity}" for d in channel.derive]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ChannelError(f"channel names used twice: {sorted(dupes)}")
    return channels


def channel_for(file_name: str, channels: list[Channel]) -> Channel | None:
    matching = [c for c in channels if c.matches(file_name)]
    return matching[0] if matching else None
