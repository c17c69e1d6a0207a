"""Ingest (C1, C2): every row loaded or quarantined with a reason, nothing loaded twice."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest.landing import FileResult
from ingest.loader import IngestResult, ingest_inbox
from leadflow.core.canonical import R12_TEMPLATE_HEADERS
from tests.e2e_support import REPO

CHANNELS = REPO / "ingest" / "channels"
REALDATA = REPO / "tests" / "data" / "realdata"  # copies of public exports (see its README)
BADGE_HEADER_ZH = "扫码时间,姓名,职位,公司,行业,手机,邮箱,城市,展位接待,备注"
BADGE_HEADER_EN = "Scan Time,Name,Title,Company,Industry,Mobile,Email,City,Booth Rep,Notes"


class Inbox:
    """A warehouse and an inbox in a temporary folder; `drop` then `load` like marketing ops."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.inbox.mkdir(parents=True)
        self.warehouse = root / "wh.duckdb"
        self.reports = root / "reports"

    def drop(self, name: str, content: bytes | str, encoding: str = "utf-8") -> Path:
        path = self.inbox / name
        path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        return path

    def load(self) -> IngestResult:
        return ingest_inbox(
            self.warehouse,
            self.inbox,
            CHANNELS,
            run_id="test",
            business_timezone="Asia/Shanghai",
            reports_dir=self.reports,
        )

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(query).fetchall()

    def file(self, result: IngestResult, name: str) -> FileResult:
        return next(f for f in result.files if f.file_name == name)


@pytest.fixture
def box(tmp_path: Path) -> Inbox:
    return Inbox(tmp_path)


def badge_csv(rows: list[str], header: str = BADGE_HEADER_ZH, newline: str = "\r\n") -> str:
    return newline.join([header, *rows]) + newline


GOOD_ROWS = [
    "2026-11-02 10:00,张伟,采购总监,华锐精密制造有限公司,制造业,"
    "13812345678,zw@huarui.cn,苏州,李娜,",
    "2026-11-02 11:30,王芳,IT经理,星辰物流有限公司,物流,"
    "13987654321,wangfang@xc-logistics.cn,上海,李娜,",
    "2026-11-03 09:15,刘洋,总经理,蓝海科技,软件,"
    '15011112222,liuyang@lanhai.com,深圳,,"多行\r\n备注, 含逗号"',
]


def test_gbk_file_with_crlf_and_embedded_newline_loads_every_row(box: Inbox) -> None:
    box.drop("badge_scans_expo_gbk.csv", badge_csv(GOOD_ROWS), encoding="gbk")
    result = box.load()
    f = box.file(result, "badge_scans_expo_gbk.csv")
    assert (f.status, f.rows_in_file, f.records_added) == ("loaded", 3, 3)
    rows = box.sql(
        "SELECT person_name, phone, phone_kind, email, notes, event_at "
        "FROM raw.intake_records ORDER BY row_number"
    )
    assert rows[0][:4] == ("张伟", "+8613812345678", "mobile", "zw@huarui.cn")
    assert rows[2][4] == "多行\r\n备注, 含逗号"
    assert str(rows[0][5]) == "2026-11-02 02:00:00"  # 10:00 Shanghai is 02:00 UTC (C2)
    assert (box.inbox / "archive" / "badge_scans_expo_gbk.csv").exists()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_are_detected(box: Inbox, encoding: str) -> None:
    box.drop("badge_scans_x.csv", badge_csv(GOOD_ROWS[:2]), encoding=encoding)
    box.load()
    names = [r[0] for r in box.sql("SELECT person_name FROM raw.intake_records ORDER BY 1")]
    assert names == sorted(["张伟", "王芳"])


def test_semicolon_delimiter_and_english_headers(box: Inbox) -> None:
    rows = [r.replace(",", ";") for r in GOOD_ROWS[:2]]
    box.drop("badge_scans_en.csv", badge_csv(rows, BADGE_HEADER_EN.replace(",", ";"), "\n"))
    box.load()
    assert box.sql("SELECT count(*), count(email), count(event_at) FROM raw.intake_records") == [
        (2, 2, 2)
    ]


def test_redropped_file_and_resaved_copy_load_nothing_twice(box: Inbox) -> None:
    box.drop("badge_scans_a.csv", badge_csv(GOOD_ROWS))
    first = box.load()
    assert first.records_added == 3
    box.drop("badge_scans_a.csv", badge_csv(GOOD_ROWS))  # the same file again
    # a re-saved copy: other line ends, date format and phone spacing, same rows
    resaved = [
        r.replace("2026-11-02 10:00", "2026/11/02 10:00").replace("13812345678", "138 1234 5678")
        for r in GOOD_ROWS
    ]
    box.drop("badge_scans_a_copy.csv", badge_csv(resaved, newline="\n"))
    second = box.load()
    assert second.records_added == 0
    assert second.rows_already_loaded == 6
    assert box.sql("SELECT count(*) FROM raw.intake_records") == [(3,)]
    # nothing is deleted: the second copy of the same name is archived beside the first
    assert len(list((box.inbox / "archive").glob("badge_scans_a*.csv"))) == 3


def test_known_export_id_with_new_content_is_a_new_version(box: Inbox) -> None:
    form = {
        "submission_id": "WF-1",
        "submitted_at": "2026-11-01T10:00:00+08:00",
        "contact": {"name": "张伟", "phone": "13812345678"},
    }
    box.drop("web_forms_1.json", json.dumps([form], ensure_ascii=False))
    box.load()
    form["contact"]["email"] = "zw@huarui.cn"
    box.drop("web_forms_2.json", json.dumps([form], ensure_ascii=False))
    result = box.load()
    assert result.records_added == 1
    rows = box.sql("SELECT source_record_id, email FROM raw.intake_records ORDER BY loaded_at")
    assert [r[0] for r in rows] == ["web_form:WF-1", "web_form:WF-1"]
    assert rows[-1][1] == "zw@huarui.cn"


def test_ndjson_bad_line_is_quarantined_and_good_lines_load(box: Inbox) -> None:
    lines = [
        json.dumps(
            {
                "submission_id": f"WF-{i}",
                "submitted_at": "2026-11-01 10:00",
                "contact": {"name": f"客户{i}", "email": f"c{i}@corp.cn"},
            }
        )
        for i in range(3)
    ]
    lines.insert(1, "{not json")
    box.drop("web_forms_stream.ndjson", "\n".join(lines))
    f = box.file(box.load(), "web_forms_stream.ndjson")
    assert (f.rows_in_file, f.records_added, f.rows_quarantined) == (4, 3, 1)
    assert box.sql("SELECT row_number, reason LIKE 'invalid JSON%' FROM raw.quarantine") == [
        (2, True)
    ]


def test_ragged_and_undecodable_rows_are_quarantined_with_reasons(box: Inbox) -> None:
    ragged = "2026-11-04 10:00,赵敏,经理,公司,行业,13800000000,z@x.cn,北京,李娜,备注,多余,更多"
    text = badge_csv([GOOD_ROWS[0], ragged, GOOD_ROWS[1]]).encode("gbk")
    text += "2026-11-05,坏行,".encode("gbk") + b"\xff\xfe\xff,x,y,z,1,2,3,4\r\n"
    box.drop("badge_scans_bad.csv", text)
    f = box.file(box.load(), "badge_scans_bad.csv")
    assert (f.rows_in_file, f.records_added, f.rows_quarantined) == (4, 2, 2)
    reasons = dict(box.sql("SELECT row_number, reason FROM raw.quarantine"))
    assert reasons[2].startswith("ragged row: 12 fields")
    assert reasons[4].startswith("undecodable bytes")
    report = (box.reports / "errors" / "badge_scans_bad.csv.errors.csv").read_text("utf-8-sig")
    assert "ragged row" in report and "undecodable" in report


def test_error_report_neutralises_formulas(box: Inbox) -> None:
    ragged = '=HYPERLINK("http://x"),@SUM(1),+1,-1,a,b,c,d,e,f,g,h'
    box.drop("badge_scans_f.csv", badge_csv([GOOD_ROWS[0], ragged]))
    box.load()
    report = box.reports / "errors" / "badge_scans_f.csv.errors.csv"
    rows = list(csv.reader(io.StringIO(report.read_text("utf-8-sig"))))
    assert rows[1][4].startswith("'=HYPERLINK")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\x03binary\x00garbage" * 50, "binary content"),
        ("姓名,职位\r\n张伟,经理\r\n".encode("gbk"), "required column missing"),
    ],
)
def test_unreadable_files_are_rejected_to_failed_with_a_reason(
    box: Inbox, content: bytes, reason: str
) -> None:
    box.drop("badge_scans_broken.csv", content)
    f = box.file(box.load(), "badge_scans_broken.csv")
    assert f.status == "rejected" and reason in f.error
    reason_file = box.inbox / "failed" / "badge_scans_broken.csv.reason.txt"
    assert reason in reason_file.read_text(encoding="utf-8")
    assert (box.inbox / "failed" / "badge_scans_broken.csv").read_bytes() == content


def test_missing_required_column_names_the_aliases_tried(box: Inbox) -> None:
    box.drop("badge_scans_nodate.csv", "姓名,手机\r\n张伟,13812345678\r\n")
    f = box.file(box.load(), "badge_scans_nodate.csv")
    assert "扫码时间" in f.error and "Scan Time" in f.error


def test_header_only_file_loads_zero_rows(box: Inbox) -> None:
    box.drop("badge_scans_empty.csv", BADGE_HEADER_ZH + "\r\n")
    f = box.file(box.load(), "badge_scans_empty.csv")
    assert (f.status, f.rows_in_file, f.records_added) == ("loaded", 0, 0)


def test_huge_field_duplicate_headers_and_unknown_columns_are_kept(box: Inbox) -> None:
    header = BADGE_HEADER_ZH + ",备注,展会编号"
    big = "x" * (10 * 1024 * 1024)
    row = GOOD_ROWS[0].rstrip(",") + f",{big},第二备注,EXPO-7"
    box.drop("badge_scans_big.csv", badge_csv([row], header))
    box.load()
    notes, extra = box.sql("SELECT notes, extra_columns FROM raw.intake_records")[0]
    assert len(notes) == len(big)
    assert json.loads(extra) == {"备注_2": "第二备注", "展会编号": "EXPO-7"}


def test_bad_values_are_loaded_with_their_original_text(box: Inbox) -> None:
    bad = "2026-13-45 25:61,孙丽,经理,某公司,零售,138****5678,sun@@example,杭州,李娜,"
    future = "2031-01-01 10:00,周杰,经理,某公司,零售,021-62345678,zhou@corp.cn,上海,李娜,"
    box.drop("badge_scans_v.csv", badge_csv([bad, future]))
    box.load()
    rows = box.sql(
        "SELECT event_at, original_values->>'event_at', phone, phone_valid, phone_masked, "
        "email, email_valid, phone_kind FROM raw.intake_records ORDER BY row_number"
    )
    assert rows[0][:7] == (
        None,
        "2026-13-45 25:61",
        "138****5678",
        False,
        True,
        "sun@@example",
        False,
    )
    assert str(rows[1][0]) == "2031-01-01 02:00:00"  # loaded as is: validation flags it
    assert rows[1][2:4] == ("+862162345678", True) and rows[1][7] == "fixed_line"


def test_every_fields_original_text_is_recoverable(box: Inbox) -> None:
    """C1: original text beside the normalised value. `original_values` holds a field only
    when its text differs from the stored value's text, so original = stored text otherwise."""
    rows = [
        "2026/11/02 10:00,张伟,采购总监,华锐精密制造有限公司,制造业,"
        "138 1234 5678,ZW@Huarui.cn,苏州,李娜,",
        "2026-11-02 11:30, 王芳 ,IT经理,星辰物流,物流,13987654321,wf@xc.cn,上海,李娜,备注",
        "not a date,刘洋,,蓝海科技,软件,021-62345678,bad@@mail,深圳,,",
    ]
    box.drop("badge_scans_orig.csv", badge_csv(rows))
    box.load()
    fields = ["event_at", "person_name", "title", "company", "industry", "phone", "email",
              "owner_name"]  # fmt: skip
    cells = [[c.strip() or None for c in row.split(",")] for row in rows]
    columns = {"event_at": 0, "person_name": 1, "title": 2, "company": 3, "industry": 4,
               "phone": 5, "email": 6, "owner_name": 8}  # fmt: skip
    recovered = ", ".join(
        f"coalesce(original_values->>'{f}', CAST({f} AS VARCHAR))" for f in fields
    )
    got = box.sql(f"SELECT {recovered} FROM raw.intake_records ORDER BY row_number")
    assert got == [tuple(row[columns[f]] for f in fields) for row in cells]
    stored = box.sql("SELECT original_values FROM raw.intake_records ORDER BY row_number")
    # Text loaded as written is not repeated; reformatted, repaired or unparseable text is kept.
    assert set(json.loads(stored[1][0])) == {"event_at", "phone"}
    assert json.loads(stored[2][0])["event_at"] == "not a date"


def make_referral_workbook(path: Path) -> None:
    from openpyxl import Workbook

    headers = list(R12_TEMPLATE_HEADERS)
    wb = Workbook()
    ws = wb.active
    ws.title = "线索"
    ws.append(["销售线索客户关系维护跟进表"])  # a title row above the header, merged
    ws.merge_cells("A1:N1")
    ws.append(headers)
    ws.append(
        [
            1,
            "线上展会",
            "制造有限公司/制造业",
            "张经理*/采购总监",
            "13812345678 / zhang@zhizao.cn",
            "采购ERP系统,需3个月内上线",
            "A级",
            "500人企业",
            "每周电话",
            "2026-11-02 电话：认可方案；下一步：发送报价\n2026-11-09 微信：确认预算",
            "2026-11-05 发送行业白皮书；2026-11-10 春节祝福",
            "意向",
            "李娜",
            "对比3家",
        ]
    )
    ws.append([])  # a blank row is layout, not a record
    ws.append(
        [
            2,
            None,
            "星辰物流/物流",
            "王芳/IT经理",
            "138****5678",
            "=1+1",
            "B",
            None,
            None,
            None,
            None,
            "潜在",
            "李娜",
            None,
        ]
    )
    notes = wb.create_sheet("说明")
    notes.append(["本表填写说明"])
    wb.save(path)


def test_referral_workbook_in_the_seed_template_is_split_into_fields(box: Inbox) -> None:
    make_referral_workbook(box.inbox / "referrals_2026.xlsx")
    f = box.file(box.load(), "referrals_2026.xlsx")
    assert (f.status, f.rows_in_file, f.records_added) == ("loaded", 2, 2)
    assert any("说明" in n for n in f.notes)  # the ignored sheet is reported, not silently skipped
    rows = box.sql(
        "SELECT company, industry, person_name, title, phone, email, grade, status, "
        "source_label, owner_name, sheet, row_number FROM raw.intake_records ORDER BY row_number"
    )
    assert rows[0] == (
        "制造有限公司",
        "制造业",
        "张经理*",
        "采购总监",
        "+8613812345678",
        "zhang@zhizao.cn",
        "A",
        "intent",
        "线上展会",
        "李娜",
        "线索",
        1,
    )
    assert rows[1][4] == "138****5678" and rows[1][8] == "行业推荐"  # constant fills the blank


def test_dated_lines_of_referral_cells_become_follow_ups_and_care_actions(box: Inbox) -> None:
    make_referral_workbook(box.inbox / "referrals_2026.xlsx")
    f = box.file(box.load(), "referrals_2026.xlsx")
    assert f.derived_records == 4 and f.rows_in_file == 2  # file rows stay file rows
    follow_ups = box.sql(
        "SELECT channel, row_number, person_name, phone, contacted_at, follow_up_channel, "
        "feedback, next_action, owner_name FROM raw.follow_up_records ORDER BY contacted_at"
    )
    assert [r[4].isoformat() for r in follow_ups] == ["2026-11-01T16:00:00", "2026-11-08T16:00:00"]
    assert follow_ups[0][:4] == ("referral_sheet.follow_up", 1, "张经理*", "+8613812345678")
    assert follow_ups[0][5:] == ("phone", "认可方案", "发送报价", "李娜")
    assert follow_ups[1][5:8] == ("wechat", "确认预算", None)
    care = box.sql("SELECT care_type, note FROM raw.care_action_records ORDER BY acted_at")
    assert care == [("material", "发送行业白皮书"), ("greeting", "春节祝福")]
    box.drop(
        "referrals_2026_copy.xlsx", (box.inbox / "archive" / "referrals_2026.xlsx").read_bytes()
    )
    assert box.file(box.load(), "referrals_2026_copy.xlsx").derived_records == 0


# ---------------------------------------------------------------- real exports, by YAML alone


@pytest.fixture(scope="module")
def realdata(tmp_path_factory: pytest.TempPathFactory) -> Inbox:
    box = Inbox(tmp_path_factory.mktemp("realdata"))
    for path in [
        *REALDATA.glob("olist_marketing_funnel/*.csv"),
        REALDATA / "maven_crm_sales_opportunities" / "sales_pipeline.csv",
    ]:
        box.drop(path.name, path.read_bytes())
    box.result = box.load()
    return box


def test_real_exports_conserve_every_row(realdata: Inbox) -> None:
    for f in realdata.result.files:
        source = REALDATA.rglob(f.file_name).__next__()
        rows = len(pd.read_csv(source, dtype=str, keep_default_na=False))
        assert f.status == "loaded"
        assert (
            f.rows_in_file == rows == f.records_added + f.rows_already_loaded + f.rows_quarantined
        )


def test_olist_leads_by_origin_match_pandas(realdata: Inbox) -> None:
    mql = pd.read_csv(
        REALDATA / "olist_marketing_funnel" / "olist_marketing_qualified_leads_dataset.csv",
        dtype=str,
    )
    expected = mql["origin"].fillna("<none>").value_counts().to_dict()
    got = dict(
        realdata.sql(
            "SELECT coalesce(source_label, '<none>'), count(*) "
            "FROM raw.intake_records WHERE channel = 'olist_mql' GROUP BY 1"
        )
    )
    assert got == expected
    months = pd.to_datetime(mql["first_contact_date"], format="%d-%m-%Y").dt.strftime("%Y-%m")
    got_months = dict(
        realdata.sql(
            "SELECT strftime((event_at AT TIME ZONE 'UTC') AT TIME ZONE 'Asia/Shanghai', '%Y-%m'), "
            "count(*) FROM raw.intake_records WHERE channel = 'olist_mql' GROUP BY 1"
        )
    )
    assert got_months == months.value_counts().to_dict()
    landing = realdata.sql(
        "SELECT count(DISTINCT extra_columns->>'landing_page_id') "
        "FROM raw.intake_records WHERE channel = 'olist_mql'"
    )[0][0]
    assert landing == mql["landing_page_id"].nunique()  # unknown columns kept as JSON


def test_olist_closed_deals_reference_their_leads(realdata: Inbox) -> None:
    deals = pd.read_csv(
        REALDATA / "olist_marketing_funnel" / "olist_closed_deals_dataset.csv", dtype=str
    )
    got = realdata.sql(
        "SELECT count(*), count(DISTINCT lead_ref), count(changed_at), "
        "count(*) FILTER (WHERE lead_ref IN (SELECT export_id FROM raw.intake_records "
        "WHERE id_namespace = 'olist')) FROM raw.status_records "
        "WHERE channel = 'olist_closed_deals' AND status = 'won'"
    )[0]
    mql = pd.read_csv(
        REALDATA / "olist_marketing_funnel" / "olist_marketing_qualified_leads_dataset.csv",
        dtype=str,
    )
    referenced = deals["mql_id"].isin(mql["mql_id"]).sum()
    assert got == (
        len(deals),
        deals["mql_id"].nunique(),
        deals["won_date"].notna().sum(),
        referenced,
    )


def test_maven_opportunities_by_stage_match_pandas(realdata: Inbox) -> None:
    """Each opportunity row is an intake record plus its stage as a status record (C1)."""
    ops = pd.read_csv(REALDATA / "maven_crm_sales_opportunities" / "sales_pipeline.csv", dtype=str)
    stage = {"Prospecting": "potential", "Engaging": "intent", "Won": "won", "Lost": "lost"}
    expected = ops["deal_stage"].map(stage).value_counts().to_dict()
    got = dict(
        realdata.sql(
            "SELECT status, count(*) FROM raw.status_records "
            "WHERE channel = 'maven_opportunities.stage' GROUP BY 1"
        )
    )
    assert got == expected
    timeless, no_account = realdata.sql(
        "SELECT count(*) FILTER (WHERE event_at IS NULL), count(*) FILTER (WHERE company IS NULL)"
        " FROM raw.intake_records WHERE channel = 'maven_opportunities'"
    )[0]
    assert timeless == ops["engage_date"].isna().sum()
    assert no_account == ops["account"].isna().sum()
    close_total, closed = realdata.sql(
        "SELECT sum(deal_value), count(changed_at) FROM raw.status_records "
        "WHERE channel = 'maven_opportunities.stage'"
    )[0]
    assert close_total == pytest.approx(pd.to_numeric(ops["close_value"]).sum())
    assert closed == ops["close_date"].notna().sum()
