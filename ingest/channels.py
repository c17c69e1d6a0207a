"""Channel configuration: one YAML file maps one export format onto one canonical entity (C1)."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ingest.canonical import ENTITIES, Entity
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
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    required: tuple[Any, ...] = ()
    freshness_days: int | None = None
    derive: tuple[Derivation, ...] = ()  # activity records parsed out of free-text cells

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
        value_maps={
            k: {str(a): str(b) for a, b in v.items()}
            for k, v in (doc.get("value_maps") or {}).items()
        },
        ignore=_as_tuple(doc.get("ignore")),
        required=tuple(doc.get("required") or ()),
        freshness_days=doc.get("freshness_days"),
        derive=tuple(derive),
    )


def load_channels(channels_dir: Path) -> list[Channel]:
    """Every channel in the folder, in file-name order; names must be unique."""
    channels: list[Channel] = []
    for path in sorted(Path(channels_dir).glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        channels.append(parse_channel(doc, path))
    names = [c.name for c in channels]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ChannelError(f"channel names used twice: {sorted(dupes)}")
    return channels


def channel_for(file_name: str, channels: list[Channel]) -> Channel | None:
    matching = [c for c in channels if c.matches(file_name)]
    return matching[0] if matching else None
