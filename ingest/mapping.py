"""Mapping: a sheet's headers to canonical fields, combined cells split, and the text batch
(one text column per field) that landing normalises. No SQL and no writes here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.readers import Sheet
from leadflow.core.canonical import Entity
from leadflow.core.channels import Channel, RecordMapping, header_key
from leadflow.core.derived import PARTY


@dataclass
class SheetMapping:
    fields: dict[str, int]  # canonical field -> column index
    splits: list[tuple[int, object]]  # (column index, Split)
    export_id: int | None
    unknown: dict[str, int]  # header -> column index, kept as JSON
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # record -> field -> index


def _map_fields(
    aliases_by_field: dict[str, tuple[str, ...]], keys: dict[str, int]
) -> dict[str, int]:
    """Canonical field -> column index of its first alias present in the header."""
    found = {}
    for name, aliases in aliases_by_field.items():
        index = next((keys[header_key(a)] for a in aliases if header_key(a) in keys), None)
        if index is not None:
            found[name] = index
    return found


def map_sheet(sheet: Sheet, channel: Channel) -> SheetMapping:
    keys = {header_key(h): i for i, h in reversed(list(enumerate(sheet.header)))}
    fields = _map_fields(channel.fields, keys)
    records = {r.name: _map_fields(r.fields, keys) for r in channel.records}
    used = set(fields.values()) | {i for found in records.values() for i in found.values()}
    splits = []
    for split in channel.splits:
        index = next((keys[header_key(a)] for a in split.aliases if header_key(a) in keys), None)
        if index is not None and index not in used:
            splits.append((index, split))
            used.add(index)
    export_index = keys.get(header_key(channel.export_id)) if channel.export_id else None
    if export_index is not None:
        used.add(export_index)
    ignored = {keys[header_key(a)] for a in channel.ignore if header_key(a) in keys}
    unknown = {h: i for i, h in enumerate(sheet.header) if i not in used | ignored}
    return SheetMapping(fields, splits, export_index, unknown, records)


def header_scorer(channel: Channel):
    """How many cells of a row are headers this channel knows: finds the header row."""
    mapped = [channel.fields, *(r.fields for r in channel.records)]
    known = {header_key(a) for fields in mapped for aliases in fields.values() for a in aliases}
    known |= {header_key(a) for s in channel.splits for a in s.aliases}
    known |= {header_key(a) for a in (channel.export_id, *channel.ignore) if a}
    return lambda cells: sum(header_key(c) in known for c in cells if c)


def missing_required(mapping: SheetMapping, channel: Channel) -> list[str]:
    """Required groups with no column at all in the file, naming the aliases tried."""
    present = set(mapping.fields) | set(channel.constants)
    present |= {f for _, s in mapping.splits for f in s.into}
    problems = []
    for group in channel.required_columns():
        if not present.intersection(group):
            tried = [a for f in group for a in channel.fields.get(f, ())]
            tried += [a for s in channel.splits if set(s.into) & set(group) for a in s.aliases]
            problems.append(f"{' or '.join(group)} (headers tried: {', '.join(tried) or 'none'})")
    return problems


def split_cell(text: str | None, split) -> list[str | None]:

    if text is None:
        return [None] * len(split.into)
    if split.by == "contact":  # phone and email told apart by shape, in any order
        email = re.search(r"[^\s/／,，;；:：]+@[^\s/／,，;；]+", text)
        rest = text.replace(email.group(0), " ") if email else text
        phone = re.search(r"[+＋0-9０-９][0-9０-９\-\s*＊()（）]{3,}[0-9０-９*＊]", rest)
        found = {"email": email.group(0) if email else None}
        found["phone"] = phone.group(0).strip() if phone else (rest.strip() or None)
        return [found.get(f) for f in split.into]
    parts = re.split(split.separator, text.strip(), maxsplit=len(split.into) - 1)
    parts += [None] * (len(split.into) - len(parts))
    return [p.strip() or None if p else None for p in parts]


def text_batch(
    src: pa.Table, sheet_name: str | None, channel: Channel, mapping: SheetMapping
) -> pa.Table:
    """Lineage, one text column per canonical field (`f_<field>`) and the unknown columns
    (`u<i>`), taken column by column from the sheet's Arrow table (`Sheet.to_arrow`): no
    per-row Python except for combined cells that need splitting."""
    rows = src.num_rows
    nulls = pa.nulls(rows, pa.string())
    columns: dict[str, pa.Array] = {
        "row_number": src["row_number"],
        "sheet": pa.array([sheet_name] * rows, pa.string()),
        "export_id": src[f"c{mapping.export_id}"] if mapping.export_id is not None else nulls,
    }
    split_values: dict[str, pa.Array] = {}
    for index, split in mapping.splits:
        pieces = [split_cell(v, split) for v in src[f"c{index}"].to_pylist()]
        for k, name in enumerate(split.into):
            split_values[name] = pa.array([p[k] for p in pieces], pa.string())
    for name in channel.entity.fields:
        if name in mapping.fields:
            columns[f"f_{name}"] = src[f"c{mapping.fields[name]}"]
        else:
            columns[f"f_{name}"] = split_values.get(name, nulls)
    for i in mapping.unknown.values():
        columns[f"u{i}"] = src[f"c{i}"]
    return pa.table(columns)


def related_channel(channel: Channel, name: str, entity: Entity, **mapping: Any) -> Channel:
    """The channel of the records made beside a row's own record (`<channel>.<name>`): their
    entity's checks apply in validation, not the row's required fields."""
    return replace(
        channel,
        name=name,
        entity=entity,
        fields={},
        constants=mapping.get("constants", {}),
        value_maps=mapping.get("value_maps", {}),
        case=mapping.get("case", {}),
        splits=(),
        required=(),
        derive=(),
        records=(),
    )


def record_batch(
    src: pa.Table, batch: pa.Table, record: RecordMapping, columns: dict[str, int]
) -> pa.Table:
    """The text batch of one `records` mapping: its own fields from the sheet, the row's party
    fields and owner from the row's batch, and the row's export id (so the record of a known
    export id is versioned like its row, C1). Rows whose own fields are all blank make none."""
    own = {name: src[f"c{index}"] for name, index in columns.items()}
    if not own:
        return batch.slice(0, 0)
    inherited = {*PARTY, "owner_name"}
    table = {
        "row_number": batch["row_number"],
        "sheet": batch["sheet"],
        "export_id": batch["export_id"],
    }
    for name in record.entity.fields:
        if name in own:
            table[f"f_{name}"] = own[name]
        elif name in inherited and f"f_{name}" in batch.column_names:
            table[f"f_{name}"] = batch[f"f_{name}"]
        else:
            table[f"f_{name}"] = pa.nulls(batch.num_rows, pa.string())
    present = [pc.fill_null(pc.utf8_length(pc.utf8_trim_whitespace(v)), 0) for v in own.values()]
    keep = functools.reduce(pc.or_, [pc.greater(n, 0) for n in present])
    return pa.table(table).filter(keep)
