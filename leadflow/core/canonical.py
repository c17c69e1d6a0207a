"""Canonical entities (C1): the one schema every channel maps onto and every later stage reads.

Each entity lands in one raw table, ``raw.<table>``, whatever channel it came from, so a new
channel needs a YAML file and no new code or dbt model. Every raw table starts with the lineage
columns, then the entity's canonical fields (already normalised, C2), then two JSON columns: the
original text of every mapped field whose text differs from its stored value (the others were
loaded as written) and the unknown columns of the export.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds: how ingest normalises the text of a field (C2) and which DuckDB type it lands as.
KIND_SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "timestamp": "TIMESTAMP",  # UTC instant; a date-only value stands for 00:00 business time
    "date": "DATE",
    "bool": "BOOLEAN",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "grade": "VARCHAR",  # A / B / C
    "status": "VARCHAR",  # potential / intent / won / lost
    "follow_up_channel": "VARCHAR",  # phone / email / visit / wechat / demo / other
    "care_type": "VARCHAR",  # survey / report / greeting / material
    "phone": "VARCHAR",  # E.164 when valid
    "email": "VARCHAR",  # trimmed, lower-cased
}

LINEAGE_COLUMNS: dict[str, str] = {
    "source_record_id": "VARCHAR",  # channel + export id, or channel + content hash
    "record_hash": "VARCHAR",  # hash of the normalised values: a new hash is a new version
    "channel": "VARCHAR",
    "id_namespace": "VARCHAR",  # system whose lead ids `export_id` / `lead_ref` belong to
    "export_id": "VARCHAR",
    "file_name": "VARCHAR",
    "file_sha256": "VARCHAR",
    "row_number": "BIGINT",  # 1-based data row in the file (header excluded)
    "sheet": "VARCHAR",  # XLSX sheet name, else NULL
    # the record of the same file row that this one was mapped beside (a channel's `records`, or
    # a dated line of a sheet cell): an activity of an intake row belongs to that row's lead (C1)
    "parent_record_id": "VARCHAR",
    "load_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}

# Derived columns ingest adds beside some canonical fields (C2, C3).
DERIVED_COLUMNS: dict[str, dict[str, str]] = {
    "phone": {
        "phone_valid": "BOOLEAN",
        "phone_kind": "VARCHAR",  # mobile / fixed_line / fixed_line_or_mobile / other
        "phone_masked": "BOOLEAN",
    },
    "email": {"email_valid": "BOOLEAN", "email_domain": "VARCHAR", "email_is_free": "BOOLEAN"},
    "company": {"company_key": "VARCHAR"},
    # person_key: the name folded for matching; person_name_is_full: the name identifies a
    # person (two or more name tokens, or a CJK full name), so it may link records (C3)
    "person_name": {"person_key": "VARCHAR", "person_name_is_full": "BOOLEAN"},
}

# How a record names a person (intake) or the lead it belongs to (activities, C3).
PARTY_FIELDS: dict[str, str] = {
    "lead_ref": "text",  # the exporting system's lead id, e.g. Olist mql_id
    "company": "text",
    "industry": "text",
    "person_name": "text",
    "title": "text",
    "phone": "phone",
    "email": "email",
}

# Optional grade facts on any intake or activity record (C7).
GRADE_FIELDS: dict[str, str] = {
    "grade": "grade",
    "graded_at": "timestamp",
    "budget_confirmed": "bool",
    "budget_amount": "number",
    "decision_within_days": "integer",
    "decision_chain_known": "bool",
    "need_clarity": "text",  # clear / partial / vague
}


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    event_field: str | None  # the field that orders records in time (C4)
    fields: dict[str, str]

    def columns(self) -> dict[str, str]:
        """Every column of the raw table, in order, with its DuckDB type."""
        cols = dict(LINEAGE_COLUMNS)
        for field, kind in self.fields.items():
            cols[field] = KIND_SQL_TYPES[kind]
            if kind == "timestamp":
                cols[f"{field}_is_date_only"] = "BOOLEAN"
            cols.update(DERIVED_COLUMNS.get(field, {}))
        cols["original_values"] = "JSON"  # field -> original text, where it differs
        cols["extra_columns"] = "JSON"  # unknown export columns, kept not dropped
        return cols


ENTITIES: dict[str, Entity] = {
    "intake": Entity(
        "intake",
        "intake_records",
        "event_at",
        {
            "event_at": "timestamp",
            "source_label": "text",
            "utm_source": "text",
            "utm_medium": "text",
            "utm_campaign": "text",
            **PARTY_FIELDS,
            "city": "text",
            "province": "text",
            "company_size": "text",
            "need": "text",
            "background": "text",
            "plan_text": "text",
            "follow_up_text": "text",
            "care_text": "text",
            "tags": "text",
            "notes": "text",
            # An observation of the row (C8), never an event at acquisition: its time is
            # status_at (or closed_at for won / lost) when mapped, else it is timeless.
            "status": "status",
            "status_at": "timestamp",
            "closed_at": "timestamp",
            "lost_reason": "text",
            "deal_value": "number",
            "owner_name": "text",  # sheet 负责人 / booth rep: an owner assignment (C5)
            # R1's 首次响应人: who responded to the lead first (a name as written, not an owner)
            "first_responder": "text",
            **GRADE_FIELDS,
        },
    ),
    "follow_up": Entity(
        "follow_up",
        "follow_up_records",
        "contacted_at",
        {
            **PARTY_FIELDS,
            "contacted_at": "timestamp",
            "follow_up_channel": "follow_up_channel",
            "responded": "bool",
            # R11 "email opens": only channels that export opens map it (optional, C8)
            "opened": "bool",
            "feedback": "text",
            "objection": "text",
            "next_action": "text",
            "next_action_due": "date",
            "owner_name": "text",  # who did it, not the owner (C5)
            "logged_at": "timestamp",
            **GRADE_FIELDS,
        },
    ),
    "status": Entity(
        "status",
        "status_records",
        "changed_at",
        {
            **PARTY_FIELDS,
            "changed_at": "timestamp",
            "status": "status",
            "lost_reason": "text",
            "deal_value": "number",
            "owner_name": "text",
            **GRADE_FIELDS,
        },
    ),
    "care_action": Entity(
        "care_action",
        "care_action_records",
        "acted_at",
        {
            **PARTY_FIELDS,
            "acted_at": "timestamp",
            "care_type": "care_type",
            "note": "text",
            "owner_name": "text",
        },
    ),
    "owner": Entity(
        "owner",
        "owner_records",
        None,
        {
            "owner_name": "text",
            "email": "email",
            "language": "text",  # zh / en
            "manager": "text",
            "active": "bool",
        },
    ),
}

STATUSES = ("potential", "intent", "won", "lost")
GRADES = ("A", "B", "C")
FOLLOW_UP_CHANNELS = ("phone", "email", "visit", "wechat", "demo", "sms", "other")
CARE_TYPES = ("survey", "report", "greeting", "material")

# The seed's 14-column sheet (R12), spelled as in the origin document: what referral sheets use.
R12_TEMPLATE_HEADERS: tuple[str, ...] = (
    "序号",
    "线索来源",
    "客户名称/行业",
    "联系人(姓名/职位)",
    "联系方式",
    "初步需求描述",
    "客户等级",
    "背景信息(企业规模、决策链、痛点等)",
    "跟进计划(频率/方式/目标)",
    "跟进记录(时间/方式/反馈/下一步行动)",
    "关系维护动作(如发送资料、节日祝福)",
    "当前状态(潜在/意向/成交/流失)",
    "负责人(姓名)",
    "备注(如竞品信息、特殊需求)",
)
