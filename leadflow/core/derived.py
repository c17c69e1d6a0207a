"""Activity records derived from free-text cells of an intake sheet (R12 跟进记录, 关系维护动作).

A referral sheet keeps a lead's follow-ups and care actions as dated lines inside one cell, e.g.
"2026-11-02 电话：客户认可方案A；下一步：3日内提供培训细节". Where the text allows, each dated entry
becomes a follow-up or care-action record of the same person, with the lineage of its sheet row;
the cell's original text stays on the intake record. Text without a date yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

DATE = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}[:：]\d{2})?"
ENTRY = re.compile(rf"(?P<date>{DATE})\s*(?P<body>.*?)(?=(?:[；;,，\s]*{DATE})|\Z)", re.S)
CHANNEL_WORDS = "电话|邮件|拜访|面谈|微信|演示|短信|call|email|visit|wechat|demo|meeting"
FOLLOW_UP = re.compile(rf"^\s*(?P<channel>{CHANNEL_WORDS})?\s*[：:]?\s*(?P<text>.*)$", re.S | re.I)
NEXT_ACTION = re.compile(r"[；;。]?\s*下一步[：:]\s*(?P<next>.*)$", re.S)
CARE_TYPES = (  # first match wins: a greeting that mentions a report is still a greeting
    ("greeting", re.compile(r"祝福|贺卡|节日|司庆|春节|greeting", re.I)),
    ("survey", re.compile(r"问卷|调研|满意度|survey", re.I)),
    ("report", re.compile(r"报告|report", re.I)),
    ("material", re.compile(r"发送|资料|白皮书|案例|方案|手册|material|webinar|研讨会", re.I)),
)
PARTY = ("company", "industry", "person_name", "title", "phone", "email", "lead_ref")


def entries(text: str | None) -> list[tuple[str, str]]:
    """(date text, body) for every dated entry of a cell."""
    if not text:
        return []
    return [(m["date"], m["body"].strip(" ；;,，\n")) for m in ENTRY.finditer(text)]


def follow_up_fields(date: str, body: str) -> dict[str, str | None]:
    match = FOLLOW_UP.match(body)
    channel, text = (match["channel"], match["text"]) if match else (None, body)
    next_match = NEXT_ACTION.search(text)
    feedback = text[: next_match.start()] if next_match else text
    return {
        "contacted_at": date,
        "follow_up_channel": channel,
        "feedback": feedback.strip(" ；;。") or None,
        "next_action": next_match["next"].strip() if next_match else None,
    }


def care_action_fields(date: str, body: str) -> dict[str, str | None]:
    care_type = next((name for name, pattern in CARE_TYPES if pattern.search(body)), None)
    return {"acted_at": date, "care_type": care_type or body[:20] or None, "note": body or None}


@dataclass(frozen=True)
class Derivation:
    source_field: str  # the intake field whose text holds the entries
    entity: str  # the canonical entity the entries become
    fields: Callable[[str, str], dict[str, str | None]]


DERIVATIONS = {
    "dated_follow_ups": lambda source: Derivation(source, "follow_up", follow_up_fields),
    "dated_care_actions": lambda source: Derivation(source, "care_action", care_action_fields),
}


def derive(batch: pa.Table, derivation: Derivation, entity_fields: list[str]) -> pa.Table:
    """A text batch (same layout as `loader.text_batch`) of the derived records: one row per
    dated entry, with the person's fields of the sheet row and the row's lineage.

    Only the parsed entries are Python objects; the sheet row's fields are taken from the batch
    by Arrow (a dict per derived row held ~1.7 GB for 1M follow-ups of a 393k-row sheet)."""
    source_rows: list[int] = []
    parsed: dict[str, list[str | None]] = {}
    for i, text in enumerate(batch[f"f_{derivation.source_field}"].to_pylist()):
        for date, body in entries(text):
            source_rows.append(i)
            for name, value in derivation.fields(date, body).items():
                parsed.setdefault(name, []).append(value)
    rows = pa.array(source_rows, pa.int64())
    # The entry's own fields win, then the sheet's 负责人 (who did it), then the person's fields.
    inherited = {name for name in PARTY if f"f_{name}" in batch.column_names}
    if "f_owner_name" in batch.column_names:
        inherited.add("owner_name")
    table = {
        "row_number": batch["row_number"].take(rows),
        "sheet": batch["sheet"].take(rows),
        "export_id": pa.nulls(len(rows), pa.string()),
    }
    for name in entity_fields:
        if name in parsed:
            table[f"f_{name}"] = pa.array(parsed[name], pa.string())
        elif name in inherited:
            table[f"f_{name}"] = batch[f"f_{name}"].take(rows)
        else:
            table[f"f_{name}"] = pa.nulls(len(rows), pa.string())
    return pa.table(table)
