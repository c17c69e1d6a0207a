"""Drives the demo-data generation: persons company by company, rows through spools, then files.

See `tools.demo.data` for the public API and the ground-truth schema.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from leadflow.core.canonical import R12_TEMPLATE_HEADERS
from leadflow.core.settings import DEFAULT_TIMEZONE
from tools.demo.people import OWNERS, IdentityFactory
from tools.demo.rand import DemoRandom, Weighted
from tools.demo.story import (
    BADGE_EN,
    BADGE_ZH,
    REFERRAL,
    UNDECODABLE_MARK,
    WEB,
    WINDOW_DAYS,
    Clock,
    Plant,
    Row,
    Story,
    StoryTeller,
)
from tools.demo.writers import CsvSink, JsonArraySink, Spool, TruthWriter, XlsxSink

BUSINESS_TIMEZONE = DEFAULT_TIMEZONE  # the demo is written in the default business timezone
UNDECODABLE_BYTES = b"\xff\xff"  # 0xff starts no character in GBK or GB18030

OWNER_HEADER = ["name", "email", "language", "manager", "active"]
BADGE_ZH_HEADER = ["扫码时间", "姓名", "职位", "公司", "行业", "手机", "邮箱", "城市", "展位接待"]
BADGE_ZH_HEADER += ["备注", "等级"]
BADGE_EN_HEADER = ["Scan Time", "Name", "Title", "Company", "Industry", "Mobile", "Email", "City"]
BADGE_EN_HEADER += ["Booth Rep", "Notes"]
# The seed sheet, spelled as in the document, plus two columns the seed asks for outside its 14:
# R1's first responder and R4's tags (docs/channels.md).
REFERRAL_HEADER = [*R12_TEMPLATE_HEADERS, "首次响应人(姓名)", "客户标签"]
PARTY_HEADER = ["客户名称", "联系人", "联系电话", "邮箱"]
FOLLOW_UP_HEADER = ["记录编号", "跟进时间", *PARTY_HEADER, "跟进方式", "客户是否回应", "客户反馈"]
FOLLOW_UP_HEADER += ["客户异议", "下一步行动", "下次跟进日期", "跟进人", "记录时间", "客户等级"]
FOLLOW_UP_HEADER += ["预算已确认", "预算金额", "决策周期天数", "决策链清晰", "需求明确度"]
STATUS_HEADER = ["变更编号", "变更时间", *PARTY_HEADER, "新状态", "流失原因", "成交金额", "操作人"]
CARE_HEADER = ["动作编号", "执行时间", *PARTY_HEADER, "动作类型", "说明", "执行人"]
REFERRAL_SHEET = "线索跟进表"
STAFF = Weighted((1, 2, 3, 4), (55, 25, 13, 7))  # persons per company

# sink -> (channel, entity, id prefix of the export's own serial or None)
SINKS: dict[str, tuple[str, str, str | None]] = {
    "owner": ("owner_directory", "owner", None),
    WEB: ("web_form", "intake", "WF-"),
    BADGE_ZH: ("badge_scan", "intake", None),
    BADGE_EN: ("badge_scan", "intake", None),
    REFERRAL: ("referral_sheet", "intake", None),
    "follow_up": ("follow_up", "follow_up", "FU-"),
    "status": ("status_change", "status", "SC-"),
    "care": ("care_action", "care_action", "CA-"),
}


def file_names(clock: Clock) -> dict[str, str]:
    """File name per sink; the names match the channel YAML globs, anchored on as_of."""
    day = clock.as_of.strftime("%Y%m%d")
    zh_show, en_show = clock.shows[BADGE_ZH][0], clock.shows[BADGE_EN][0]
    return {
        "owner": "owners.csv",
        WEB: f"web_forms_{day}.json",
        BADGE_ZH: f"badge_scans_zhizao{zh_show:%Y%m%d}_gbk.csv",
        BADGE_EN: f"badge_scans_saassummit{en_show:%Y%m%d}_en.csv",
        REFERRAL: f"referrals_{day}.xlsx",
        "follow_up": f"follow_ups_{day}.csv",
        "status": f"status_changes_{day}.csv",
        "care": f"care_actions_{day}.csv",
    }


@dataclass
class Ledger:
    """What the ground truth says about each file, filled in as rows are written."""

    names: dict[str, str]
    rows: dict[str, int] = field(default_factory=dict)
    sheets: dict[str, list[str]] = field(default_factory=dict)
    quarantined: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    planted: list[dict[str, Any]] = field(default_factory=list)

    def plant(
        self,
        sink: str,
        row_number: int,
        pid: str | None,
        plant: Plant | None,
        sheet: str | None = None,
    ) -> None:
        if plant is None:
            return
        self.planted.append(
            {
                "file": self.names[sink],
                "sheet": sheet,
                "row": row_number,
                "field": plant.field,
                "check": plant.check,
                "why": plant.why,
                "person_id": pid,
            }
        )
        if plant.check == "undecodable":
            entry = {"row": row_number, "reason": "undecodable"}
            self.quarantined.setdefault(self.names[sink], []).append(entry)

    def files(self) -> dict[str, dict[str, Any]]:
        out = {}
        for sink, name in self.names.items():
            channel, entity, _ = SINKS[sink]
            quarantined = self.quarantined.get(name, [])
            out[name] = {
                "channel": channel,
                "entity": entity,
                "rows": self.rows[sink],
                "quarantined": quarantined,
                "expected_loaded": self.rows[sink] - len(quarantined),
            }
            if sink in self.sheets:
                out[name]["sheets"] = self.sheets[sink]
        return out


def run(out_dir: Path, *, seed: int, leads: int, as_of: date, truth_path: Path) -> dict[str, Any]:
    clock = Clock(as_of)
    names = file_names(clock)
    rng = DemoRandom(seed)
    factory = IdentityFactory(seed, leads)
    teller = StoryTeller(rng, factory, clock)
    ledger = Ledger(names)
    stamp = datetime.combine(as_of - timedelta(days=1), time(18))  # workbook created/modified

    out_dir.mkdir(parents=True, exist_ok=True)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".demo-data-", dir=truth_path.parent) as tmp_name:
        tmp = Path(tmp_name)
        truth = TruthWriter(tmp)
        spools = _spools(tmp, clock)
        sheet = XlsxSink(out_dir / names[REFERRAL], REFERRAL_HEADER, REFERRAL_SHEET, stamp, tmp)
        orphan = teller.orphan_follow_up(leads)
        spools["follow_up"].add(orphan.at, (orphan.pid, orphan.fields, orphan.plant))
        for story in _stories(teller, factory, rng, leads):
            for sink, rows in story.rows.items():
                for row in rows:
                    if sink == REFERRAL:
                        _write_referral(sheet, row, truth, ledger)
                    else:  # plain tuples pickle far faster than dataclasses
                        spools[sink].add(row.at, (row.pid, row.fields, row.plant))
        sheet.close()
        ledger.rows[REFERRAL], ledger.sheets[REFERRAL] = sheet.rows, sheet.sheets

        id_rng = random.Random(f"leadflow-demo-ids-{seed}")
        _write_owners(out_dir / names["owner"], ledger)
        _write_web(out_dir / names[WEB], spools[WEB], truth, ledger, id_rng.randrange(100, 900))
        for sink, header, encoding, crlf in (
            (BADGE_ZH, BADGE_ZH_HEADER, "gbk", True),
            (BADGE_EN, BADGE_EN_HEADER, "utf-8-sig", False),
        ):
            csv_sink = CsvSink(out_dir / names[sink], header, encoding=encoding, crlf=crlf)
            _write_badges(sink, csv_sink, spools[sink], truth, ledger)
        for sink, header in (
            ("follow_up", FOLLOW_UP_HEADER),
            ("status", STATUS_HEADER),
            ("care", CARE_HEADER),
        ):
            truth.declare(names[sink])
            csv_sink = CsvSink(out_dir / names[sink], header, encoding="utf-8", crlf=False)
            first_id = id_rng.randrange(1, 500)
            _write_activities(sink, csv_sink, spools[sink], truth, ledger, first_id)

        head = {
            "seed": seed,
            "as_of": as_of.isoformat(),
            "timezone": BUSINESS_TIMEZONE,
            "cutoff": f"{clock.cutoff:%Y-%m-%dT%H:%M:%S}+08:00",
            "window_days": WINDOW_DAYS,
            "persons": leads,
            "owners": [
                {
                    "name": o.name,
                    "email": o.email,
                    "language": o.language,
                    "manager": o.manager,
                    "active": o.active,
                }
                for o in OWNERS
            ],
            "files": ledger.files(),
            "planted": ledger.planted,
        }
        truth.finish(truth_path, head)
    return {
        "out_dir": str(out_dir),
        "truth_path": str(truth_path),
        "persons": leads,
        "files": {names[sink]: ledger.rows[sink] for sink in names},
        "planted": len(ledger.planted),
    }


def _spools(tmp: Path, clock: Clock) -> dict[str, Spool]:
    spools = {}
    for sink in (WEB, "follow_up", "status", "care"):
        spools[sink] = Spool(tmp, sink, clock.start, clock.cutoff)
    for sink in (BADGE_ZH, BADGE_EN):
        first_day, days = clock.shows[sink]
        first = datetime.combine(first_day, time.min)
        spools[sink] = Spool(tmp, sink, first, first + timedelta(days=days))
    return spools


def _stories(
    teller: StoryTeller, factory: IdentityFactory, rng: random.Random, leads: int
) -> Iterator[Story]:
    """Persons company by company: a company's staff are generated together (unique names)."""
    person, company_index = 0, 0
    while person < leads:
        company = factory.company(company_index, rng)
        company_index += 1
        staff = min(STAFF(rng), leads - person)
        for _ in range(staff):
            yield teller.tell(person, company)
            person += 1


def _write_referral(sheet: XlsxSink, row: Row, truth: TruthWriter, ledger: Ledger) -> None:
    name, number = sheet.write(row.fields)
    truth.record(ledger.names[REFERRAL], name, number, row.pid)
    ledger.plant(REFERRAL, number, row.pid, row.plant, sheet=name)


def _write_owners(path: Path, ledger: Ledger) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(OWNER_HEADER)
        for o in OWNERS:
            writer.writerow([o.name, o.email, o.language, o.manager, str(o.active).lower()])
    ledger.rows["owner"] = len(OWNERS)


def _write_web(path: Path, spool: Spool, truth: TruthWriter, ledger: Ledger, first: int) -> None:
    sink = JsonArraySink(path)
    for pid, fields, plant in spool:
        number = sink.write({"submission_id": f"WF-{first + sink.rows:06d}", **fields})
        truth.record(ledger.names[WEB], None, number, pid)
        ledger.plant(WEB, number, pid, plant)
    sink.close()
    ledger.rows[WEB] = sink.rows


def _write_badges(
    sink_name: str, sink: CsvSink, spool: Spool, truth: TruthWriter, ledger: Ledger
) -> None:
    for pid, fields, plant in spool:
        if plant is not None and plant.check == "undecodable":
            number = sink.write_raw(fields, UNDECODABLE_MARK, UNDECODABLE_BYTES)
        else:
            number = sink.write(fields)
        truth.record(ledger.names[sink_name], None, number, pid)
        ledger.plant(sink_name, number, pid, plant)
    sink.close()
    ledger.rows[sink_name] = sink.rows


def _write_activities(
    sink_name: str, sink: CsvSink, spool: Spool, truth: TruthWriter, ledger: Ledger, first: int
) -> None:
    prefix = SINKS[sink_name][2]
    serial = first - 1
    for pid, fields, plant in spool:
        if plant is None or plant.check != "duplicate_row":  # a duplicate repeats the id too
            serial += 1
        number = sink.write([f"{prefix}{serial:06d}", *fields])
        truth.activity(ledger.names[sink_name], pid)
        ledger.plant(sink_name, number, pid, plant)
    sink.close()
    ledger.rows[sink_name] = sink.rows
