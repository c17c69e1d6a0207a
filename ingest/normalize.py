"""Normalisation (C2) as set work in DuckDB; Python libraries only on the distinct leftovers.

`normalise_sql` turns the text batch `src` (one VARCHAR column per canonical field) into typed,
normalised columns. Phones and emails are settled by regular expressions in SQL for the common
shapes; `phonenumbers` and `email-validator` (about 15k values/s each) see only distinct values
the fast path could not decide.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from leadflow.core.canonical import CARE_TYPES, FOLLOW_UP_CHANNELS, Entity
from leadflow.core.channels import Channel
from leadflow.core.sql import literal

DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
)

FREE_MAIL_DOMAINS = (
    "qq.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com", "foxmail.com",
    "139.com", "189.cn", "aliyun.com", "gmail.com", "outlook.com", "hotmail.com", "live.com",
    "yahoo.com", "icloud.com", "me.com", "msn.com", "proton.me", "protonmail.com",
)  # fmt: skip

# Synonyms folded to canonical values; unknown text is kept so validation can flag it.
ENUM_SYNONYMS: dict[str, dict[str, str]] = {
    "grade": {"a": "A", "a级": "A", "b": "B", "b级": "B", "c": "C", "c级": "C"},
    "status": {
        "潜在": "potential", "potential": "potential", "prospecting": "potential",
        "new": "potential",
        "意向": "intent", "intent": "intent", "engaging": "intent", "qualified": "intent",
        "成交": "won", "won": "won", "closed won": "won", "赢单": "won",
        "流失": "lost", "lost": "lost", "closed lost": "lost", "丢单": "lost",
    },
    "follow_up_channel": {
        "电话": "phone", "call": "phone", "phone": "phone", "邮件": "email", "email": "email",
        "e-mail": "email", "拜访": "visit", "面谈": "visit", "visit": "visit", "meeting": "visit",
        "微信": "wechat", "wechat": "wechat", "演示": "demo", "demo": "demo", "短信": "sms",
        "sms": "sms", "其他": "other", "other": "other",
    },
    "care_type": {
        "满意度调研": "survey", "使用反馈调研": "survey", "调研": "survey", "survey": "survey",
        "季度报告": "report", "报告": "report", "report": "report", "节日祝福": "greeting",
        "祝福": "greeting", "司庆祝福": "greeting", "greeting": "greeting", "资料发送": "material",
        "发送资料": "material", "白皮书": "material", "案例": "material", "material": "material",
    },
}  # fmt: skip

TRUE_WORDS = ("是", "有", "已确认", "回应", "已回应", "yes", "y", "true", "t", "1", "√", "✓")
FALSE_WORDS = ("否", "无", "未确认", "未回应", "no", "n", "false", "f", "0", "×", "✗")

# An explicit UTC offset after a time of day (a bare "-2018" of DD-MM-YYYY is not one).
OFFSET_SUFFIX = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
CN_MOBILE = r"^(\+?86)?1[3-9][0-9]{9}$"
EMAIL_FAST = r"^[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}$"  # noqa: E501
# A surname with one of these is how a person is addressed, not who they are (张经理, 李总, 王工).
CJK_TITLES = (
    "经理|总经理|总监|总裁|总|董事长|董|先生|女士|小姐|老师|主任|老板|博士|教授|工|处长|科长|部长"
    "|院长|校长|局长|秘书|助理|某"
)
HONORIFIC = r"^\s*(mr|mrs|ms|miss|mx|dr|prof|sr|sra|srta|herr|frau)\.?\s+"
LEGAL_SUFFIXES = (
    r"股份有限公司|有限责任公司|有限公司|集团公司|集团|公司|co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?"
    r"|incorporated|llc|gmbh|corp\.?|corporation|company|ltda\.?|s\.?a\.?$"
)


def _text(col: str) -> str:
    """The field's text, already trimmed and NULL when blank (see `normalised_select`)."""
    return f't."{col}"'


def _list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def _local_timestamp(x: str, formats: tuple[str, ...]) -> str:
    """Text to a naive local timestamp: channel formats, ISO 8601, then Excel serial days."""
    return (
        f"coalesce(try_strptime({x}, {_list(formats)}), try_cast({x} AS TIMESTAMP), "
        f"CASE WHEN regexp_matches({x}, '^[0-9]{{5}}(\\.[0-9]+)?$') "
        f"THEN TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST({x} AS DOUBLE) "
        f"* 86400000000) AS BIGINT)) END)"
    )


def _date_only(x: str) -> str:
    return (
        f"(regexp_matches({x}, '^[0-9]{{4}}[-/.年][0-9]{{1,2}}[-/.月][0-9]{{1,2}}日?$') "
        f"OR regexp_matches({x}, '^[0-9]{{1,2}}[-/.][0-9]{{1,2}}[-/.][0-9]{{4}}$') "
        f"OR regexp_matches({x}, '^[0-9]{{5}}$'))"
    )


def parse_exprs(entity: Entity, channel: Channel) -> dict[str, str]:
    """Helper columns computed once per row before `field_exprs`: each date text parsed to a
    naive local timestamp, and whether it carried a time of day."""
    formats = channel.date_formats + DEFAULT_DATE_FORMATS
    exprs: dict[str, str] = {}
    for field, kind in entity.fields.items():
        if kind in ("timestamp", "date"):
            x = _text(field)
            exprs[f"__local_{field}"] = _local_timestamp(x, formats)
            exprs[f"__date_only_{field}"] = f"coalesce({_date_only(x)}, false)"
    return exprs


def timestamp_exprs(field: str, channel_tz: str, business_tz: str) -> dict[str, str]:
    """A UTC timestamp: offsets honoured, local times in the channel's zone, dates at 00:00
    business time (C2)."""
    x = _text(field)
    local, date_only = f't."__local_{field}"', f't."__date_only_{field}"'
    value = (
        f"CASE WHEN regexp_matches({x}, '{OFFSET_SUFFIX}') "
        f"THEN try_cast({x} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
        f"WHEN {date_only} THEN ({local} AT TIME ZONE {literal(business_tz)}) AT TIME ZONE 'UTC' "
        f"ELSE ({local} AT TIME ZONE {literal(channel_tz)}) AT TIME ZONE 'UTC' END"
    )
    return {field: value, f"{field}_is_date_only": date_only}


def enum_expr(field: str, synonyms: dict[str, str]) -> str:
    x = _text(field)
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in synonyms.items())
    return f"CASE lower({x}) {cases} ELSE {x} END"


def field_exprs(entity: Entity, channel: Channel, business_tz: str) -> dict[str, str]:
    """Column name -> SQL expression over `src`, for every canonical field and derived column."""
    exprs: dict[str, str] = {}
    for field, kind in entity.fields.items():
        x = _text(field)
        synonyms = ENUM_SYNONYMS.get(kind, {})  # the channel's value_maps ran on the text
        if kind == "timestamp":
            exprs.update(timestamp_exprs(field, channel.timezone, business_tz))
        elif kind == "date":
            exprs[field] = f't."__local_{field}"::DATE'
        elif kind == "bool":
            exprs[field] = (
                f"CASE WHEN lower({x}) IN {tuple(TRUE_WORDS)} THEN true "
                f"WHEN lower({x}) IN {tuple(FALSE_WORDS)} THEN false END"
            )
        elif kind == "number":
            cleaned = f"regexp_replace({x}, '[,，¥￥$€\\s元]|RMB|CNY', '', 'g')"
            exprs[field] = (
                f"CASE WHEN {cleaned} LIKE '%万' "
                f"THEN try_cast(rtrim({cleaned}, '万') AS DOUBLE) * 10000 "
                f"ELSE try_cast({cleaned} AS DOUBLE) END"
            )
        elif kind == "integer":
            exprs[field] = (
                f"try_cast(round(try_cast(regexp_replace({x}, '\\s*(天|日|days?)$', '') "
                f"AS DOUBLE)) AS BIGINT)"
            )
        elif kind in ("grade", "status", "follow_up_channel", "care_type"):
            exprs[field] = enum_expr(field, synonyms) if synonyms else x
        elif kind == "phone":
            exprs.update(phone_exprs(field, channel.phone_region))
        elif kind == "email":
            exprs.update(email_exprs(field))
        else:
            exprs[field] = x
        if field == "company":
            exprs["company_key"] = company_key_expr(x)
        if field == "person_name":
            exprs["person_key"] = (
                f"nullif(lower(regexp_replace({x}, '[\\s*＊·.。,，()（）]', '', 'g')), '')"
            )
            exprs["person_name_is_full"] = person_name_is_full_expr(x)
    return exprs


def person_name_is_full_expr(x: str) -> str:
    """Whether a name identifies a person (C3): two or more name tokens once an honorific is
    dropped ("Li Wei", "J. Smith", not "Mr Smith" or "Smith"), or a CJK full name of two or more
    characters that is not a surname with a title ("张伟", not "张经理" or "李总"). Masked names
    ("张*") never do."""
    latin = f"regexp_replace(lower({x}), '{HONORIFIC}', '')"
    tokens = f"list_filter(regexp_split_to_array(trim({latin}), '[\\s·.,，]+'), lambda t: t <> '')"
    han = f"regexp_replace({x}, '[\\s·]', '', 'g')"
    cjk = (
        f"(regexp_matches({han}, '^\\p{{Han}}{{2,}}$') "
        f"AND NOT regexp_matches({han}, '^\\p{{Han}}({CJK_TITLES})$'))"
    )
    return (
        f"CASE WHEN {x} IS NULL THEN NULL WHEN regexp_matches({x}, '[*＊]') THEN false "
        f"WHEN regexp_matches({x}, '\\p{{Han}}') THEN {cjk} ELSE len({tokens}) >= 2 END"
    )


def company_key_expr(x: str) -> str:
    stripped = f"regexp_replace(lower({x}), '{LEGAL_SUFFIXES}', '', 'g')"
    return f"nullif(regexp_replace({stripped}, '[^[:alnum:]\\p{{L}}]', '', 'g'), '')"


def phone_exprs(field: str, region: str) -> dict[str, str]:
    """Fast path for Chinese mobiles; anything else is decided later by `phonenumbers`."""
    x = _text(field)
    folded = f"translate({x}, '０１２３４５６７８９＋－（）＊', '0123456789+-()*')"
    cleaned = f"regexp_replace({folded}, '[\\s\\-().]', '', 'g')"
    masked = f"coalesce(regexp_matches({folded}, '[*xX]{{2,}}|[*]'), false)"
    is_cn_mobile = f"({literal(region)} = 'CN' AND regexp_matches({cleaned}, '{CN_MOBILE}'))"
    return {
        field: f"CASE WHEN {is_cn_mobile} THEN '+86' || right({cleaned}, 11) ELSE {cleaned} END",
        "phone_valid": f"CASE WHEN {masked} THEN false WHEN {is_cn_mobile} THEN true END",
        "phone_kind": f"CASE WHEN {is_cn_mobile} AND NOT {masked} THEN 'mobile' END",
        "phone_masked": masked,
    }


def email_exprs(field: str) -> dict[str, str]:
    x = _text(field)
    email = f"lower({x})"
    domain = f"nullif(split_part({email}, '@', 2), '')"
    return {
        field: email,
        "email_valid": f"CASE WHEN regexp_matches({email}, '{EMAIL_FAST}') THEN true END",
        "email_domain": domain,
        "email_is_free": f"{domain} IN {tuple(FREE_MAIL_DOMAINS)}",
    }


def settle_leftovers(con: duckdb.DuckDBPyConnection, table: str, region: str) -> None:
    """Decide phones and emails the regular expressions left open, one library call per
    distinct value."""
    columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    if "phone" in columns:
        _settle_phones(con, table, region)
    if "email" in columns:
        _settle_emails(con, table)


def _settle_phones(con: duckdb.DuckDBPyConnection, table: str, region: str) -> None:
    import phonenumbers
    from phonenumbers import PhoneNumberType as T

    kinds = {
        T.MOBILE: "mobile",
        T.FIXED_LINE: "fixed_line",
        T.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    }
    values = con.execute(
        f"SELECT DISTINCT phone FROM {table} WHERE phone IS NOT NULL AND phone_valid IS NULL"
    ).fetchall()
    rows = []
    for (text,) in values:
        try:
            number = phonenumbers.parse(text, region)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            number, valid = None, False
        if valid:
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            kind = kinds.get(phonenumbers.number_type(number), "other")
            rows.append((text, e164, True, kind))
        else:
            rows.append((text, text, False, None))
    if not rows:
        return
    answers = _answers(rows, text=pa.string(), e164=pa.string(), valid=pa.bool_(), kind=pa.string())
    con.register("phone_answers", answers)
    con.execute(
        f"UPDATE {table} SET phone = a.e164, phone_valid = a.valid, phone_kind = a.kind "
        f"FROM phone_answers a WHERE {table}.phone = a.text AND {table}.phone_valid IS NULL"
    )
    con.unregister("phone_answers")


def _settle_emails(con: duckdb.DuckDBPyConnection, table: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    values = con.execute(
        f"SELECT DISTINCT email FROM {table} WHERE email IS NOT NULL AND email_valid IS NULL"
    ).fetchall()
    rows = []
    for (text,) in values:
        try:
            validate_email(text, check_deliverability=False)
            rows.append((text, True))
        except EmailNotValidError:
            rows.append((text, False))
    if not rows:
        return
    con.register("email_answers", _answers(rows, text=pa.string(), valid=pa.bool_()))
    con.execute(
        f"UPDATE {table} SET email_valid = a.valid FROM email_answers a "
        f"WHERE {table}.email = a.text AND {table}.email_valid IS NULL"
    )
    con.unregister("email_answers")


def _answers(rows: list[tuple], **columns: pa.DataType) -> pa.Table:
    """The library's answers as one Arrow table: DuckDB's `executemany` runs one INSERT per
    row (about 6k rows/s, 8.6 s for 50k leftover phones), a registered table is one scan."""
    return pa.table(
        {
            name: pa.array([r[i] for r in rows], kind)
            for i, (name, kind) in enumerate(columns.items())
        }
    )


__all__ = ["CARE_TYPES", "FOLLOW_UP_CHANNELS", "field_exprs", "settle_leftovers"]
