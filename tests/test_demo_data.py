"""Demo-data generator: real files in tmp_path, read back independently of the generator."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import openpyxl
import phonenumbers
import pytest
import yaml
from phonenumbers import PhoneNumberType

from tools.demo import data as demo_data
from tools.demo import writers

AS_OF = date(2026, 11, 27)
CHANNELS_DIR = Path(__file__).resolve().parents[1] / "ingest" / "channels"
R12_TEMPLATE = [
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
]
# The demo sheet adds two columns the seed asks for outside its 14 (R1, R4): docs/channels.md.
DEMO_SHEET = [*R12_TEMPLATE, "首次响应人(姓名)", "客户标签"]
FREE_MAIL = {"qq.com", "163.com", "126.com"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@pytest.fixture(scope="module", params=[(7, AS_OF), (2024, date(2027, 2, 10))], ids=str)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    seed, as_of = request.param
    root = tmp_path_factory.mktemp("demo")
    summary = demo_data.generate(root / "inbox", seed=seed, leads=60, as_of=as_of)
    truth = json.loads((root / "inbox_truth.json").read_text(encoding="utf-8"))
    return {"inbox": root / "inbox", "summary": summary, "truth": truth, "as_of": as_of}


# -- reading the files back ---------------------------------------------------------------------


def file_of(truth: dict[str, Any], channel: str, suffix: str = "") -> str:
    names = [n for n, f in truth["files"].items() if f["channel"] == channel and n.endswith(suffix)]
    assert len(names) == 1, (channel, suffix, names)
    return names[0]


def csv_rows(path: Path) -> list[list[str]]:
    """Data rows of a CSV (header dropped); GBK files decoded with replacement characters."""
    encoding = "gbk" if path.name.endswith("_gbk.csv") else "utf-8-sig"
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        return list(csv.reader(fh))[1:]


def csv_dicts(path: Path) -> list[dict[str, str]]:
    encoding = "gbk" if path.name.endswith("_gbk.csv") else "utf-8-sig"
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        return list(csv.DictReader(fh))


def sheet_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def planted(truth: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [p for p in truth["planted"] if p["check"] == check]


def planted_rows(truth: dict[str, Any], file: str, check: str) -> set[int]:
    return {p["row"] for p in truth["planted"] if p["file"] == file and p["check"] == check}


def mobile_key(text: str | None) -> str | None:
    """E.164 of a mobile number; landlines, masked and blank values never link (C3)."""
    if not text or "*" in text:
        return None
    number = phonenumbers.parse(text.translate(FULLWIDTH), "CN")
    kind = phonenumbers.number_type(number)
    if phonenumbers.is_valid_number(number) and kind == PhoneNumberType.MOBILE:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def intake_records(inbox: Path, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Every loadable intake row as (person_id, company, name, phone, email)."""
    pids = {(r["file"], r["sheet"], r["row"]): r["person_id"] for r in truth["records"]}
    out = []

    def add(
        file: str, sheet: str | None, row: int, company: str, name: str, phone: str, email: str
    ):
        quarantined = {q["row"] for q in truth["files"][file]["quarantined"]}
        if row not in quarantined:
            pid = pids[(file, sheet, row)]
            out.append(
                {"pid": pid, "company": company, "name": name, "phone": phone, "email": email}
            )

    web = file_of(truth, "web_form")
    for i, obj in enumerate(json.loads((inbox / web).read_text(encoding="utf-8")), 1):
        c = obj["contact"]
        add(web, None, i, obj["company"]["name"], c["name"], c["phone"], c["email"])
    for suffix in ("_gbk.csv", "_en.csv"):
        badge = file_of(truth, "badge_scan", suffix)
        for i, row in enumerate(csv_rows(inbox / badge), 1):
            add(badge, None, i, row[3], row[1], row[5], row[6])
    sheet_file = file_of(truth, "referral_sheet")
    for sheet, rows in sheet_rows(inbox / sheet_file).items():
        for i, row in enumerate(rows[1:], 1):
            parts = [p.strip() for p in (row[4] or "").split(" / ")]
            phone = next((p for p in parts if "@" not in p), "")
            email = next((p for p in parts if "@" in p), "")
            add(sheet_file, sheet, i, row[2].rsplit("/", 1)[0], row[3].split("/")[0], phone, email)
    return out


def link_keys(rec: dict[str, Any]) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    email = (rec["email"] or "").strip().lower()
    if EMAIL.fullmatch(email):
        keys.append(("email", email))
        domain = email.split("@")[1]
        if domain not in FREE_MAIL:
            keys.append(("domain+name", domain, rec["name"].strip().lower()))
    mobile = mobile_key(rec["phone"])
    if mobile:
        keys.append(("mobile", mobile))
    return keys


# -- determinism --------------------------------------------------------------------------------


def test_same_seed_and_as_of_give_identical_bytes(tmp_path: Path) -> None:
    first = demo_data.generate(tmp_path / "a" / "inbox", seed=11, leads=40, as_of=AS_OF)
    second = demo_data.generate(tmp_path / "b" / "inbox", seed=11, leads=40, as_of=AS_OF)
    assert first["files"] == second["files"]
    for name in first["files"]:
        a = (tmp_path / "a" / "inbox" / name).read_bytes()
        assert a == (tmp_path / "b" / "inbox" / name).read_bytes(), name
    truth_a = (tmp_path / "a" / "inbox_truth.json").read_bytes()
    assert truth_a == (tmp_path / "b" / "inbox_truth.json").read_bytes()


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    a = demo_data.generate(tmp_path / "a" / "inbox", seed=1, leads=40, as_of=AS_OF)
    demo_data.generate(tmp_path / "b" / "inbox", seed=2, leads=40, as_of=AS_OF)
    differing = [
        n
        for n in a["files"]
        if n != "owners.csv"
        and (tmp_path / "a" / "inbox" / n).read_bytes()
        != (tmp_path / "b" / "inbox" / n).read_bytes()
    ]
    assert len(differing) == len(a["files"]) - 1


def test_xlsx_carries_no_wall_clock(demo: dict[str, Any]) -> None:
    """Zip entry times and core properties come from as_of, so a later run has the same bytes."""
    path = demo["inbox"] / file_of(demo["truth"], "referral_sheet")
    stamp = datetime.combine(demo["as_of"] - timedelta(days=1), time(18))
    with zipfile.ZipFile(path) as zf:
        assert {info.date_time for info in zf.infolist()} == {stamp.timetuple()[:6]}
        core = zf.read("docProps/core.xml").decode()
    assert core.count(f"{stamp:%Y-%m-%dT%H:%M:%S}Z") == 2  # created and modified
    wb = openpyxl.load_workbook(path)
    assert wb.properties.created == wb.properties.modified == stamp


def test_spilling_spools_and_sheet_rollover_keep_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk-backed path (used at scale) writes what the in-memory path writes."""
    demo_data.generate(tmp_path / "mem" / "inbox", seed=3, leads=80, as_of=AS_OF)
    monkeypatch.setattr(writers, "SPILL_ROWS", 7)
    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 9)
    summary = demo_data.generate(tmp_path / "disk" / "inbox", seed=3, leads=80, as_of=AS_OF)
    truth = json.loads((tmp_path / "disk" / "inbox_truth.json").read_text(encoding="utf-8"))
    for name in summary["files"]:
        if not name.endswith(".xlsx"):
            mem = (tmp_path / "mem" / "inbox" / name).read_bytes()
            assert (tmp_path / "disk" / "inbox" / name).read_bytes() == mem, name
    sheet_file = file_of(truth, "referral_sheet")
    sheets = sheet_rows(tmp_path / "disk" / "inbox" / sheet_file)
    assert len(sheets) == truth["files"][sheet_file]["rows"] // 9 + 1 > 1
    assert list(sheets) == truth["files"][sheet_file]["sheets"]
    for rows in sheets.values():
        assert list(rows[0]) == DEMO_SHEET
        assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))  # 序号 restarts per sheet
    recorded = Counter(r["sheet"] for r in truth["records"] if r["file"] == sheet_file)
    assert recorded == {name: len(rows) - 1 for name, rows in sheets.items()}
    mem_sheet = sheet_rows(tmp_path / "mem" / "inbox" / sheet_file)
    flat = [r[1:] for rows in sheets.values() for r in rows[1:]]
    assert flat == [r[1:] for rows in mem_sheet.values() for r in rows[1:]]


# -- files and formats --------------------------------------------------------------------------


def test_every_file_matches_exactly_one_channel_glob(demo: dict[str, Any]) -> None:
    channels = {}
    for path in CHANNELS_DIR.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        channels[spec["channel"]] = spec["files"]
    written = sorted(p.name for p in demo["inbox"].iterdir())
    assert written == sorted(demo["truth"]["files"])
    for name in written:
        matches = [c for c, globs in channels.items() if any(fnmatch(name, g) for g in globs)]
        assert matches == [demo["truth"]["files"][name]["channel"]], name
    assert not any(demo["inbox"].glob("*truth*"))  # the truth never lands in the inbox


def test_headers_are_aliases_of_the_channel_yaml(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    specs = {}
    for path in CHANNELS_DIR.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs[spec["channel"]] = spec
    for name, info in truth["files"].items():
        spec = specs[info["channel"]]
        known = {a for aliases in spec["fields"].values() for a in aliases}
        known |= {a for s in spec.get("splits", []) for a in s["column"]}
        known |= set(spec.get("ignore", [])) | {spec.get("export_id")}
        if name.endswith(".csv"):
            encoding = "gbk" if name.endswith("_gbk.csv") else "utf-8-sig"
            with (inbox / name).open(encoding=encoding, errors="replace", newline="") as fh:
                header = next(csv.reader(fh))
            assert set(header) <= known, (name, set(header) - known)
            if spec.get("export_id"):
                assert header[0] == spec["export_id"]
        elif name.endswith(".xlsx"):
            for rows in sheet_rows(inbox / name).values():
                assert list(rows[0]) == DEMO_SHEET
                assert set(rows[0]) <= known
        else:
            objects = json.loads((inbox / name).read_text(encoding="utf-8"))
            for obj in objects:
                for aliases in spec["fields"].values():
                    node: Any = obj
                    for part in aliases[0].split("."):
                        node = node[part]  # raises when a mapped path is missing
                assert re.fullmatch(r"WF-\d{6}", obj[spec["export_id"]])


def test_gbk_file_is_gbk_with_one_undecodable_row(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    name = file_of(truth, "badge_scan", "_gbk.csv")
    data = (inbox / name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    # Embedded newlines are bare LF, record ends CRLF: split on CRLF gives one chunk per record.
    chunks = data.split(b"\r\n")
    assert chunks[-1] == b""
    records = chunks[1:-1]
    assert len(records) == truth["files"][name]["rows"]
    bad = []
    for row, chunk in enumerate(records, 1):
        try:
            chunk.decode("gbk")
        except UnicodeDecodeError:
            with pytest.raises(UnicodeDecodeError):
                chunk.decode("gb18030")
            bad.append(row)
    assert bad == [q["row"] for q in truth["files"][name]["quarantined"]]
    assert bad == [p["row"] for p in planted(truth, "undecodable")]
    chunks[0].decode("gbk").startswith("扫码时间,姓名")


def test_badge_files_need_csv_quoting(demo: dict[str, Any]) -> None:
    for suffix in ("_gbk.csv", "_en.csv"):
        rows = csv_rows(demo["inbox"] / file_of(demo["truth"], "badge_scan", suffix))
        notes = [row[9] for row in rows]
        assert any("\n" in n for n in notes), suffix
        assert any("," in n for n in notes), suffix


def test_truth_rows_equal_rows_in_files(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    for name, info in truth["files"].items():
        path = inbox / name
        if name.endswith(".csv"):
            count = len(csv_rows(path))
        elif name.endswith(".xlsx"):
            count = sum(len(rows) - 1 for rows in sheet_rows(path).values())
        else:
            count = len(json.loads(path.read_text(encoding="utf-8")))
        assert info["rows"] == count == demo["summary"]["files"][name], name
        assert info["expected_loaded"] == count - len(info["quarantined"])
        if info["entity"] == "intake":
            rows = sorted(r["row"] for r in truth["records"] if r["file"] == name)
            assert rows == list(range(1, count + 1))
        elif info["entity"] != "owner":
            assert len(truth["activity_records"][name]) == count
    assert demo["summary"]["truth_path"] == str(demo["inbox"].parent / "inbox_truth.json")


def test_all_event_times_fall_in_the_window_before_the_cutoff(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    cutoff = datetime.combine(demo["as_of"], time.min)  # 00:00 Asia/Shanghai, naive local
    window_start = cutoff - timedelta(days=truth["window_days"] + 1)
    assert truth["cutoff"] == f"{cutoff:%Y-%m-%dT%H:%M:%S}+08:00"
    times: list[datetime] = []
    for obj in json.loads((inbox / file_of(truth, "web_form")).read_text(encoding="utf-8")):
        assert obj["submitted_at"].endswith("+08:00")
        times.append(datetime.fromisoformat(obj["submitted_at"]).replace(tzinfo=None))
    for suffix, fmt in (("_gbk.csv", "%Y-%m-%d %H:%M:%S"), ("_en.csv", "%Y-%m-%d %H:%M")):
        name = file_of(truth, "badge_scan", suffix)
        skip = planted_rows(truth, name, "unparseable_value")
        assert len(skip) == (1 if suffix == "_gbk.csv" else 0)
        for i, row in enumerate(csv_rows(inbox / name), 1):
            if i not in skip:
                times.append(datetime.strptime(row[0], fmt))
    for channel, columns in (
        ("follow_up", ("跟进时间", "记录时间")),
        ("status_change", ("变更时间",)),
        ("care_action", ("执行时间",)),
    ):
        for row in csv_dicts(inbox / file_of(truth, channel)):
            times += [datetime.strptime(row[c], "%Y-%m-%d %H:%M") for c in columns]
    for rows in sheet_rows(inbox / file_of(truth, "referral_sheet")).values():
        for row in rows[1:]:
            text = f"{row[9] or ''}\n{row[10] or ''}"
            times += [datetime.fromisoformat(d) for d in re.findall(r"\d{4}-\d\d-\d\d", text)]
    assert len(times) > 300
    assert all(window_start <= t < cutoff for t in times), [
        t for t in times if not window_start <= t < cutoff
    ]


# -- persons and identity -----------------------------------------------------------------------


def test_persons_appear_in_one_to_three_channels(demo: dict[str, Any]) -> None:
    truth = demo["truth"]
    channels: dict[str, set[str]] = {}
    for rec in truth["records"]:
        channels.setdefault(rec["person_id"], set()).add(truth["files"][rec["file"]]["channel"])
    assert len(channels) == truth["persons"] == 60
    spread = Counter(len(c) for c in channels.values())
    assert set(spread) == {1, 2, 3}
    assert spread[2] + spread[3] >= 10


def test_intake_records_link_into_exactly_the_true_persons(demo: dict[str, Any]) -> None:
    """Union of records over C3 keys (e-mail, mobile, corporate domain + name) gives one
    cluster per true person: variations never split a person, shared keys never merge two."""
    records = intake_records(demo["inbox"], demo["truth"])
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, ...], int] = {}
    for i, rec in enumerate(records):
        for key in link_keys(rec):
            parent[find(i)] = find(first.setdefault(key, i))
    clusters: dict[int, set[str]] = {}
    for i, rec in enumerate(records):
        clusters.setdefault(find(i), set()).add(rec["pid"])
    assert all(len(pids) == 1 for pids in clusters.values())
    per_person = Counter(next(iter(p)) for p in clusters.values())
    assert max(per_person.values()) == 1
    assert len(per_person) == demo["truth"]["persons"]
    domain_only = [
        r for r in records if r["email"] and not mobile_key(r["phone"]) and "." in r["email"]
    ]
    assert domain_only  # some records link by e-mail or domain + name alone


def test_activity_rows_resolve_to_their_person_or_to_nobody(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    owners: dict[tuple[str, ...], set[str]] = {}
    for rec in intake_records(inbox, truth):
        keys = link_keys(rec) + [("company+name", rec["company"], rec["name"])]
        for key in keys:
            owners.setdefault(key, set()).add(rec["pid"])
    modes: Counter[str] = Counter()
    for channel in ("follow_up", "status_change", "care_action"):
        name = file_of(truth, channel)
        expected = truth["activity_records"][name]
        for row, pid in zip(csv_rows(inbox / name), expected, strict=True):
            company, person, phone, email = row[2:6]
            keys = link_keys({"email": email, "phone": phone, "name": person})
            if company:
                keys.append(("company+name", company, person))
            found = set().union(*(owners.get(k, set()) for k in keys))
            assert found == ({pid} if pid else set()), (name, row)
            modes["email" if email else "phone" if phone else "name"] += 1
    assert min(modes.values()) >= 10  # rows name their lead by e-mail, phone and name alike
    assert [p["check"] for p in truth["planted"] if p["person_id"] is None] == ["orphan_reference"]


def test_phone_numbers_are_valid_chinese_numbers(demo: dict[str, Any]) -> None:
    phones = [r["phone"] for r in intake_records(demo["inbox"], demo["truth"]) if r["phone"]]
    kinds = Counter()
    for text in phones:
        if "*" in text:
            kinds["masked"] += 1
            continue
        number = phonenumbers.parse(text.translate(FULLWIDTH), "CN")
        assert phonenumbers.is_valid_number(number), text
        kinds[phonenumbers.number_type(number)] += 1
    assert kinds["masked"] == 1
    assert kinds[PhoneNumberType.MOBILE] > 25
    assert kinds[PhoneNumberType.FIXED_LINE] >= 3
    assert set(kinds) == {"masked", PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE}


# -- planted rows and everything else clean -----------------------------------------------------


def test_planted_rows_are_where_the_truth_says_and_nowhere_else(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    checks = Counter(p["check"] for p in truth["planted"])
    assert checks == {
        "missing_required": 1,
        "unparseable_value": 1,
        "invalid_email": 1,
        "undecodable": 1,
        "masked_phone": 1,
        "unknown_owner": 1,
        "logged_before_contact": 1,
        "duplicate_row": 1,
        "invalid_grade": 1,
        "orphan_reference": 1,
    }
    web = file_of(truth, "web_form")
    empty = [
        i
        for i, o in enumerate(json.loads((inbox / web).read_text(encoding="utf-8")), 1)
        if not o["contact"]["phone"] and not o["contact"]["email"]
    ]
    assert empty == sorted(planted_rows(truth, web, "missing_required"))

    bad_emails = {(r["email"]) for r in intake_records(inbox, truth) if r["email"]} - {
        e for e in (r["email"] for r in intake_records(inbox, truth)) if EMAIL.fullmatch(e)
    }
    assert len(bad_emails) == 1 and "@@" in next(iter(bad_emails))
    en = file_of(truth, "badge_scan", "_en.csv")
    en_rows = csv_rows(inbox / en)
    assert {i for i, r in enumerate(en_rows, 1) if "@@" in r[6]} == planted_rows(
        truth, en, "invalid_email"
    )

    gbk = file_of(truth, "badge_scan", "_gbk.csv")
    gbk_rows = csv_rows(inbox / gbk)
    bad_times = {i for i, r in enumerate(gbk_rows, 1) if not _parses(r[0], "%Y-%m-%d %H:%M:%S")}
    assert bad_times == planted_rows(truth, gbk, "unparseable_value")

    owners = {row["name"] for row in csv_dicts(inbox / "owners.csv")}
    fu_name = file_of(truth, "follow_up")
    fu = csv_dicts(inbox / fu_name)
    unknown = {i for i, r in enumerate(fu, 1) if r["跟进人"] not in owners}
    assert unknown == planted_rows(truth, fu_name, "unknown_owner")
    assert [r["跟进人"] for i, r in enumerate(fu, 1) if i in unknown] == ["赵六"]
    early = {i for i, r in enumerate(fu, 1) if r["记录时间"] < r["跟进时间"]}
    assert early == planted_rows(truth, fu_name, "logged_before_contact")
    grades = {i for i, r in enumerate(fu, 1) if r["客户等级"] not in ("", "A", "B", "C")}
    assert grades == planted_rows(truth, fu_name, "invalid_grade")
    assert [fu[i - 1]["客户等级"] for i in grades] == ["X"]
    rows = [tuple(r.values()) for r in fu]
    repeats = {i for i, r in enumerate(rows, 1) if r in rows[: i - 1]}
    assert repeats == planted_rows(truth, fu_name, "duplicate_row")
    (dup,) = repeats
    assert rows[dup - 1] == rows[dup - 2]
    orphans = {i for i, pid in enumerate(truth["activity_records"][fu_name], 1) if pid is None}
    assert orphans == planted_rows(truth, fu_name, "orphan_reference")

    sheet_file = file_of(truth, "referral_sheet")
    (sheet,) = sheet_rows(inbox / sheet_file).values()
    masked = {i for i, r in enumerate(sheet[1:], 1) if "****" in (r[4] or "")}
    assert masked == planted_rows(truth, sheet_file, "masked_phone")

    # Everything else is clean: reps known, enumerations canonical, ids unique.
    for channel, column in (("status_change", "操作人"), ("care_action", "执行人")):
        assert {r[column] for r in csv_dicts(inbox / file_of(truth, channel))} <= owners
    assert {r[12] for r in sheet[1:]} <= owners
    assert {r[8] for r in gbk_rows + en_rows} <= owners
    assert {r["跟进方式"] for r in fu} == {"电话", "微信", "邮件", "拜访", "演示"}
    assert {r["客户是否回应"] for r in fu} == {"是", "否", ""}
    assert {r["需求明确度"] for r in fu} == {"clear", "partial", "vague", ""}
    statuses = csv_dicts(inbox / file_of(truth, "status_change"))
    assert {r["新状态"] for r in statuses} <= {"潜在", "意向", "成交", "流失"}
    cares = csv_dicts(inbox / file_of(truth, "care_action"))
    care_types = {r["动作类型"] for r in cares}
    assert {"满意度调研", "节日祝福", "资料发送"} <= care_types
    assert care_types <= {"满意度调研", "季度报告", "节日祝福", "资料发送"}
    for rows_, column in ((fu, "记录编号"), (statuses, "变更编号"), (cares, "动作编号")):
        ids = Counter(r[column] for r in rows_)
        assert sum(n - 1 for n in ids.values()) == (1 if column == "记录编号" else 0)
    assert {r[6] for r in sheet[1:]} <= {"A", "B", "C"}
    assert {r[11] for r in sheet[1:]} <= {"潜在", "意向", "成交", "流失"}


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


# -- the scenarios the marts need ---------------------------------------------------------------


def test_leads_cover_untouched_due_today_overdue_won_lost_and_churned(demo: dict[str, Any]) -> None:
    truth, inbox = demo["truth"], demo["inbox"]
    fu_name = file_of(truth, "follow_up")
    latest: dict[str, dict[str, str]] = {}
    for row, pid in zip(
        csv_dicts(inbox / fu_name), truth["activity_records"][fu_name], strict=True
    ):
        if pid and (pid not in latest or row["跟进时间"] >= latest[pid]["跟进时间"]):
            latest[pid] = row
    touched = {pid for pid in truth["activity_records"][fu_name] if pid}
    assert 3 <= truth["persons"] - len(touched) <= 25  # some leads were never touched
    per_lead = Counter(pid for pid in truth["activity_records"][fu_name] if pid)
    assert 3 <= sum(per_lead.values()) / len(per_lead) <= 6
    due = [r["下次跟进日期"] for r in latest.values()]
    assert demo["as_of"].isoformat() in due
    assert any(d and d < demo["as_of"].isoformat() for d in due)  # overdue
    assert "" in due  # no plan

    sc_name = file_of(truth, "status_change")
    history: dict[str, list[str]] = {}
    rows = csv_dicts(inbox / sc_name)
    for row, pid in zip(rows, truth["activity_records"][sc_name], strict=True):
        history.setdefault(pid, []).append(row["新状态"])
    assert any(h[-1] == "成交" for h in history.values())
    assert any(h[-1] == "流失" and "成交" not in h for h in history.values())
    assert any(h[-1] == "流失" and "成交" in h for h in history.values())  # churned
    reasons = {r["流失原因"] for r in rows if r["新状态"] == "流失"}
    assert all(reasons)
    assert {r["成交金额"] != "" for r in rows if r["新状态"] == "成交"} == {True}


def test_quarterly_reports_cover_the_previous_quarter(tmp_path: Path) -> None:
    demo_data.generate(tmp_path / "inbox", seed=7, leads=60, as_of=AS_OF)
    rows = csv_dicts(next((tmp_path / "inbox").glob("care_actions_*.csv")))
    reports = [r for r in rows if r["动作类型"] == "季度报告"]
    assert reports
    assert all(r["执行时间"] >= "2026-10-01" and "2026年Q3" in r["说明"] for r in reports)
    greetings = {r["说明"] for r in rows if r["动作类型"] == "节日祝福"}
    assert any(g.startswith("司庆祝福：成立") for g in greetings)
    assert "国庆节日祝福" in greetings


def test_lost_reasons_include_english_and_unmatched_text(tmp_path: Path) -> None:
    demo_data.generate(tmp_path / "inbox", seed=5, leads=600, as_of=AS_OF)
    rows = csv_dicts(next((tmp_path / "inbox").glob("status_changes_*.csv")))
    reasons = {r["流失原因"] for r in rows if r["新状态"] == "流失"}
    assert {"价格太高", "选择了竞品", "预算取消", "长期无回应", "项目暂停"} <= reasons
    assert any(re.fullmatch(r"[A-Za-z ]+", r) for r in reasons)
    assert "对接人调岗，暂无后续" in reasons


def test_owner_directory(demo: dict[str, Any]) -> None:
    owners = csv_dicts(demo["inbox"] / "owners.csv")
    assert [o["name"] for o in owners if o["name"] == "ops"] == ["ops"]
    assert {o["email"] for o in owners if o["name"] == "ops"} == {"ops@leadflow-demo.example"}
    assert all(o["email"].endswith("@leadflow-demo.example") for o in owners)
    assert Counter(o["language"] for o in owners)["en"] == 1
    assert [o["active"] for o in owners].count("false") == 1
    assert len(owners) == len(demo["truth"]["owners"]) == 9


# -- API edges ----------------------------------------------------------------------------------


def test_truth_path_inside_the_inbox_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inside the inbox"):
        demo_data.generate(
            tmp_path / "inbox", as_of=AS_OF, leads=5, truth_path=tmp_path / "inbox" / "t.json"
        )


def test_explicit_truth_path_and_tiny_demo(tmp_path: Path) -> None:
    summary = demo_data.generate(
        tmp_path / "inbox", as_of=AS_OF, leads=1, truth_path=tmp_path / "elsewhere" / "t.json"
    )
    truth = json.loads((tmp_path / "elsewhere" / "t.json").read_text(encoding="utf-8"))
    assert summary["persons"] == truth["persons"] == 1
    assert {r["person_id"] for r in truth["records"]} == {"P000001"}
    assert sum(summary["files"].values()) > len(truth["owners"])


def test_leads_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leads"):
        demo_data.generate(tmp_path / "inbox", as_of=AS_OF, leads=0)
