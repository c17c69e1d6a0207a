"""Right numbers on exports nobody here wrote (issue 13): the real Olist and Maven exports and a
set of unseen channel exports, loaded by YAML alone and built by the real dbt project.

Every expected figure is computed here with pandas from the files themselves, never read back
from the marts. One dbt build per scenario (~20 s each).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.flags import ensure_flags_table
from ingest.loader import IngestResult, ingest_inbox
from leadflow import pipeline
from leadflow.core.canonical import R12_TEMPLATE_HEADERS
from leadflow.core.channels import ChannelError, load_channels
from leadflow.core.settings import load_settings
from leadflow.results import BuildResult
from tests.e2e_support import REPO

REALDATA = REPO / "tests" / "data" / "realdata"
CHANNELS = REPO / "ingest" / "channels"
MAVEN = REALDATA / "maven_crm_sales_opportunities" / "sales_pipeline.csv"
OLIST_MQL = REALDATA / "olist_marketing_funnel" / "olist_marketing_qualified_leads_dataset.csv"
OLIST_DEALS = REALDATA / "olist_marketing_funnel" / "olist_closed_deals_dataset.csv"


class Warehouse:
    """An inbox, a channels folder and a warehouse under one temporary folder, built as a run
    builds them: ingest, the flags table validation would fill, then the production dbt build."""

    def __init__(self, root: Path, timezone: str = "Asia/Shanghai", channels: Path = CHANNELS):
        self.root = root
        self.inbox = root / "inbox"
        self.inbox.mkdir(parents=True)
        self.path = root / "warehouse.duckdb"
        self.settings = replace(
            load_settings(),
            data_dir=root,
            inbox=self.inbox,
            warehouse=self.path,
            outbox=root / "outbox",
            reports_dir=root / "reports",
            publish_dir=root / "publish",
            channels_dir=channels,
            business_timezone=timezone,
        )

    def drop(self, source: Path | str, name: str | None = None, text: str | None = None) -> None:
        target = self.inbox / (name or Path(source).name)
        if text is None:
            shutil.copyfile(source, target)
        else:
            target.write_text(text, encoding="utf-8")

    def ingest(self) -> IngestResult:
        result = ingest_inbox(
            self.path,
            self.inbox,
            self.settings.channels_dir,
            run_id="test",
            business_timezone=self.settings.business_timezone,
            reports_dir=self.settings.reports_dir,
        )
        with duckdb.connect(str(self.path)) as con:
            ensure_flags_table(con)
        return result

    def build(self, as_of: str) -> BuildResult:
        return pipeline.transform(self.settings, date.fromisoformat(as_of), "test")

    def sql(self, query: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(query).fetchall()

    def one(self, query: str) -> tuple:
        return self.sql(query)[0]


def cycle_figures(days: pd.Series) -> tuple[int, float, float]:
    return len(days), round(days.mean(), 2), days.median()


def mart_cycle(wh: Warehouse, dimension: str = "source") -> tuple[int, float, float]:
    count, mean, median = wh.one(
        f"select sum(won_leads), sum(mean_days * won_leads) / sum(won_leads), max(median_days) "
        f"from marts.rpt_cycle_time where dimension = '{dimension}'"
    )
    return count, round(mean, 2), median


# ---------------------------------------------------------------- Maven: one row, several records


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(tmp_path_factory.mktemp("maven"))
    wh.drop(MAVEN)
    wh.result = wh.ingest()
    wh.build("2026-11-20")
    return wh


def maven_frame() -> pd.DataFrame:
    ops = pd.read_csv(MAVEN, dtype=str)
    for column in ("engage_date", "close_date"):
        ops[column] = pd.to_datetime(ops[column], format="%Y-%m-%d")
    ops["close_value"] = pd.to_numeric(ops["close_value"])
    return ops


def test_maven_row_is_one_intake_record_and_dated_statuses_conserving_rows(maven):
    ops = maven_frame()
    f = maven.result.files[0]
    assert (f.rows_in_file, f.records_added, f.rows_quarantined) == (len(ops), len(ops), 0)
    by_channel = dict(
        maven.sql("select channel, count(*) from raw.status_records group by 1 order by 1")
    )
    assert by_channel == {
        "maven_opportunities.engaged": ops["engage_date"].notna().sum(),
        "maven_opportunities.stage": len(ops),
    }
    assert maven.one("select count(*) from raw.intake_records") == (len(ops),)
    # a re-dropped copy adds no record of any entity, and counts every row once
    maven.drop(MAVEN, name="sales_pipeline_copy.csv")
    again = maven.ingest().files[0]
    assert (again.records_added, again.rows_already_loaded) == (0, len(ops))
    assert maven.one("select count(*) from raw.status_records") == (sum(by_channel.values()),)


def test_maven_cycle_time_runs_from_engage_to_close(maven):
    ops = maven_frame()
    won = ops[ops["deal_stage"] == "Won"]
    expected = cycle_figures((won["close_date"] - won["engage_date"]).dt.days)
    assert expected == (4238, 51.78, 57.0)  # the figures, from the file itself
    assert mart_cycle(maven) == expected
    won_value = maven.one("select sum(deal_value) from marts.dim_leads where is_won")[0]
    assert won_value == pytest.approx(won["close_value"].sum())


def test_maven_backfill_counts_only_what_had_closed(maven):
    ops = maven_frame()
    cutoff = pd.Timestamp("2017-06-01")  # 00:00 business time; close dates are dates (C2)
    closed_before = ops[ops["close_date"] < cutoff]
    maven.build("2017-06-01")
    won, lost = maven.one(
        "select count(*) filter (where is_won), count(*) filter (where is_lost) "
        "from marts.dim_leads"
    )
    expected = (
        (closed_before["deal_stage"] == "Won").sum(),
        (closed_before["deal_stage"] == "Lost").sum(),
    )
    assert (won, lost) == expected == (1254, 784)


# ---------------------------------------------------------------- Olist in its own timezone


def test_olist_in_sao_paulo_converts_and_cycles_as_pandas_says(tmp_path):
    wh = Warehouse(tmp_path, timezone="America/Sao_Paulo")
    wh.drop(OLIST_MQL)
    wh.drop(OLIST_DEALS)
    wh.ingest()
    wh.build("2026-11-20")
    mql = pd.read_csv(OLIST_MQL, dtype=str)
    deals = pd.read_csv(OLIST_DEALS, dtype=str).merge(mql, on="mql_id")
    first_contact = pd.to_datetime(deals["first_contact_date"], format="%d-%m-%Y")
    won_on = pd.to_datetime(deals["won_date"], format="%d-%m-%Y %H:%M").dt.normalize()
    expected = cycle_figures((won_on - first_contact).dt.days)
    assert expected == (842, 48.44, 14.0)
    assert wh.one("select count(*), count(*) filter (where is_won) from marts.dim_leads") == (
        len(mql),
        len(deals),
    )
    assert mart_cycle(wh, "grade_at_win") == expected


# ---------------------------------------------------------------- exports the project never saw

CRM_CHANNEL = """
channel: crm_export
entity: intake
files: ["crm_export*.csv"]
format: csv
timezone: Asia/Shanghai
id_namespace: crm_export
export_id: Lead ID
fields:
  event_at: [Created]
  person_name: [Last Name]
  company: [Company]
  email: [Email]
  phone: [Phone]
  source_label: [Lead Source]
  status: [Stage]
  status_at: [Stage Changed]
  closed_at: [Closed]
  lost_reason: [Lost Reason]
  deal_value: [Amount]
  grade: [Rating]
  graded_at: [Rated At]
value_maps:
  source_label: {Select: null, "--": null}
  status: {Closed Won: won, Closed Lost: lost, Working: intent, New: potential}
case:
  source_label: lower
required: [person_name]
"""

# A reason a sales team writes, and the category a person would file it under (C8).
LOST_REASONS = {
    "客户一直不回复": "no_response",
    "Customer stopped replying after the demo": "no_response",
    "找不到决策人": "no_decision_maker",
    "No decision maker identified": "no_decision_maker",
    "今年没有预算": "budget",
    "No budget this year": "budget",
    "价格太贵": "price",
    "Too expensive compared to the quote": "price",
    "选择了竞品A": "competitor",
    "Went with another vendor": "competitor",
    "暂时不需要": "no_need",
    "Not interested anymore": "no_need",
    "项目推迟到明年": "timing",
    "Project on hold": "timing",
    "功能不满足要求": "product_fit",
    "对接人离职": "contact_changed",
    "售后服务差": "service",
    "公司倒闭": "company_closed",
    "决定自研": "internal_build",
    "空号": "invalid_lead",
    "Random note xyz": "other",
    "random NOTE xyz": "other",
}
SURNAMES = ("Smith", "Jones", "Brown", "Silva", "Costa")
SHARED_DOMAINS = ("demo-corp.com", "acme-group.com")
CRM_HEADER = [
    "Lead ID", "Created", "Last Name", "Company", "Email", "Phone", "Lead Source", "Stage",
    "Stage Changed", "Closed", "Lost Reason", "Amount", "Rating", "Rated At",
]  # fmt: skip


def crm_rows() -> list[dict[str, str]]:
    rows = []
    # 40 different people, surnames only, on two shared corporate domains (C3: never merged)
    for i in range(40):
        rows.append(
            {
                "Lead ID": f"P{i:03d}",
                "Created": f"2026-01-{1 + i % 28:02d} 09:00",
                "Last Name": SURNAMES[i % len(SURNAMES)],
                "Company": f"Company {i}",
                "Email": f"person{i}@{SHARED_DOMAINS[i % 2]}",
                "Phone": f"+1 415 555 {1000 + i}",
                "Lead Source": ["Google", "google", "Select", "Referral"][i % 4],
            }
        )
    # wins: closed time, status time, and one with no time at all
    rows += [
        {"Lead ID": "W1", "Created": "2026-01-05 10:00", "Last Name": "Wang Fang",
         "Company": "Win One", "Stage": "Closed Won", "Closed": "2026-02-14", "Amount": "5000"},
        {"Lead ID": "W2", "Created": "2026-01-10 10:00", "Last Name": "Li Lei",
         "Company": "Win Two", "Stage": "Closed Won", "Stage Changed": "2026-03-01 09:00",
         "Closed": "2026-02-01", "Amount": "7000"},
        {"Lead ID": "W3", "Created": "2026-01-12 10:00", "Last Name": "Zhao Min",
         "Company": "Win Three", "Stage": "Closed Won", "Amount": "900"},
        # graded with no time (SLA unknown) and graded 3 h after acquisition (met)
        {"Lead ID": "G1", "Created": "2026-02-01 10:00", "Last Name": "Ana Souza",
         "Company": "Grade One", "Rating": "A"},
        {"Lead ID": "G2", "Created": "2026-02-01 10:00", "Last Name": "Rui Costa",
         "Company": "Grade Two", "Rating": "B", "Rated At": "2026-02-01 13:00"},
    ]  # fmt: skip
    for k, (reason, _) in enumerate(LOST_REASONS.items()):
        rows.append(
            {
                "Lead ID": f"L{k:02d}",
                "Created": "2026-02-02 10:00",
                "Last Name": f"Lost Person{k}",
                "Company": f"Lost Co {k}",
                "Stage": "Closed Lost",
                "Closed": "2026-02-20",
                "Lost Reason": reason,
            }
        )
    return rows


def referral_sheet() -> tuple[str, pd.DataFrame]:
    """The seed's 14 columns plus an acquisition time, as a CSV export of the sheet."""
    header = [*R12_TEMPLATE_HEADERS, "获取时间"]
    rows = [
        ["1", "行业推荐", "华锐精密制造有限公司/制造业", "张伟/采购总监", "13812345678",
         "采购ERP系统", "A", "500人企业", "", "", "", "成交", "李娜", "", "2026-01-03 10:00"],
        ["2", "行业推荐", "星辰物流有限公司/物流", "王芳/IT经理", "13987654321",
         "CRM", "B", "", "", "", "", "意向", "李娜", "", "2026-01-04 10:00"],
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue(), pd.DataFrame(rows, columns=header)


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("unseen")
    channels = root / "channels"
    shutil.copytree(CHANNELS, channels)
    (channels / "crm_export.yaml").write_text(CRM_CHANNEL, encoding="utf-8")
    wh = Warehouse(root, channels=channels)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CRM_HEADER)
    writer.writeheader()
    writer.writerows(crm_rows())
    wh.drop("", name="crm_export_2026.csv", text=out.getvalue())
    sheet_text, wh.sheet = referral_sheet()
    wh.drop("", name="referrals_2026.csv", text=sheet_text)
    wh.crm = pd.read_csv(io.StringIO(out.getvalue()), dtype=str)
    wh.result = wh.ingest()
    wh.build("2026-11-20")
    return wh


def test_surnames_on_shared_domains_never_merge_different_people(unseen):
    people = unseen.crm[unseen.crm["Lead ID"].str.startswith("P")]
    leads = unseen.one(
        "select count(distinct lead_key) from intermediate.int_lead_key_map m "
        "join staging.stg_intake_records i using (source_record_id) where i.export_id like 'P%'"
    )[0]
    assert leads == people["Email"].nunique() == len(people)


def test_domain_and_name_merges_are_listed_for_audit(tmp_path):
    """Two records of one full name on one corporate domain, one company: merged, and listed;
    the same name at a different company: not merged."""
    wh = Warehouse(tmp_path)
    rows = [
        "扫码时间,姓名,职位,公司,行业,手机,邮箱,城市,展位接待,备注",
        "2026-11-02 10:00,张伟,采购总监,华锐精密,制造业,,zw@huarui.cn,苏州,,",
        "2026-11-05 10:00,张伟,采购总监,华锐精密,制造业,,zhangwei@huarui.cn,苏州,,",
        "2026-11-06 10:00,张伟,经理,蓝海科技,软件,,zhang.wei@huarui.cn,深圳,,",
    ]
    wh.drop("", name="badge_scans_expo.csv", text="\n".join(rows) + "\n")
    wh.ingest()
    wh.build("2026-11-20")
    links = wh.sql(
        "select anchor_email, linked_email, linked_by_contact_too "
        "from marts.ops_identity_domain_name_links order by 2"
    )
    assert links == [("zw@huarui.cn", "zhangwei@huarui.cn", False)]
    assert wh.one("select count(*) from marts.dim_leads") == (2,)


def test_status_on_an_intake_row_takes_its_own_time_or_none(unseen):
    crm = unseen.crm.set_index("Lead ID")
    created = pd.to_datetime(crm["Created"]).dt.normalize()
    won_at = pd.to_datetime(crm["Stage Changed"]).fillna(pd.to_datetime(crm["Closed"]))
    expected = {f"crm_export:{k}": (won_at[k].normalize() - created[k]).days for k in ("W1", "W2")}
    got = dict(unseen.sql("select lead_key, cycle_days from intermediate.int_lead_cycle_times"))
    assert got == expected  # W3 (won, no time) and the sheet's timeless 成交 are left out
    won = dict(unseen.sql("select lead_key, is_won from marts.dim_leads"))
    assert won["crm_export:W3"] is True
    sheet_won = unseen.one(
        "select count(*) from marts.dim_leads where is_won and channels = 'referral_sheet'"
    )
    assert sheet_won == ((unseen.sheet["当前状态(潜在/意向/成交/流失)"] == "成交").sum(),)
    value = unseen.one("select sum(deal_value) from marts.dim_leads where is_won")[0]
    assert value == pd.to_numeric(crm.loc[["W1", "W2", "W3"], "Amount"]).sum()


def test_grade_without_a_time_gives_sla_unknown(unseen):
    sla = dict(unseen.sql("select lead_key, sla_status from marts.fct_grading_sla"))
    assert sla["crm_export:G1"] == "unknown"  # A, no Rated At
    assert sla["crm_export:G2"] == "met"  # 3 h after acquisition
    sheet = unseen.sql(
        "select sla_status from marts.fct_grading_sla s join marts.dim_leads d using (lead_key) "
        "where d.channels = 'referral_sheet'"
    )
    assert sheet == [("unknown",), ("unknown",)]  # 客户等级 without a graded_at (C7)


def test_value_maps_fold_sources_and_drop_placeholders(unseen):
    people = unseen.crm[unseen.crm["Lead ID"].str.startswith("P")]
    labels = people["Lead Source"].str.lower().replace({"select": None})
    expected = labels.value_counts().to_dict()
    got = dict(
        unseen.sql(
            "select source_label, count(*) from staging.stg_intake_records "
            "where export_id like 'P%' and source_label is not null group by 1"
        )
    )
    assert got == expected == {"google": 20, "referral": 10}
    originals = unseen.sql(
        "select distinct original_values->>'source_label' from raw.intake_records "
        "where export_id like 'P%' and source_label is null"
    )
    assert originals == [("Select",)]  # the file's text is kept (C1)


def test_lost_reasons_land_in_the_category_a_person_would_pick(unseen):
    got = dict(
        unseen.sql(
            "select c.lost_reason, c.churn_category from intermediate.int_lead_churn_reasons c"
        )
    )
    assert got == LOST_REASONS
    review = unseen.sql("select reason_text, leads, review_rank from marts.ops_churn_reason_review")
    assert review == [("random note xyz", 2, 1)]


def test_unknown_value_map_target_is_named_when_the_yaml_is_read(tmp_path):
    channels = tmp_path / "channels"
    channels.mkdir()
    (channels / "crm.yaml").write_text(
        CRM_CHANNEL.replace("Closed Won: won", "Closed Won: gewonnen"), encoding="utf-8"
    )
    with pytest.raises(ChannelError, match=r"value_maps\.status: 'Closed Won' -> 'gewonnen'"):
        load_channels(channels)


# ---------------------------------------------------------------- any timezone


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Shanghai", "America/Sao_Paulo"])
def test_dbt_unit_tests_pass_in_any_business_timezone(tmp_path, timezone):
    """The production build skips unit tests; `make test` runs them in several zones, so one
    written for Shanghai can never stop a São Paulo deployment (C4). One `dbt build` per zone
    (models and unit tests, no data tests): a unit test runs after its model's parents, which is
    all it needs, and one dbt start-up less than a build and a `dbt test` apiece."""
    from tests.dbt_fixtures import create_warehouse, run_dbt

    warehouse = tmp_path / "wh.duckdb"
    create_warehouse(warehouse)
    built = run_dbt(
        warehouse, tmp_path, "2026-03-10", timezone=timezone,
        extra=["--exclude-resource-type", "test"],
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    target = tmp_path / "target"
    statuses: dict[str, str] = {
        r["unique_id"]: r["status"]
        for r in json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    }
    defined = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["unit_tests"]
    assert defined  # every unit test the project defines ran and passed in this zone
    assert {u: statuses.get(u) for u in defined} == dict.fromkeys(defined, "pass")
    models = {s for u, s in statuses.items() if u.startswith("model.")}
    assert models == {"success"}
    assert " PASS=" in built.stdout and "ERROR=0" in built.stdout


def test_a_failed_build_names_the_failing_node_and_keeps_the_last_good_marts(tmp_path):
    wh = Warehouse(tmp_path / "run")
    wh.drop(MAVEN)
    wh.ingest()
    wh.build("2026-11-20")
    good = wh.sql("select lead_key, current_status from marts.dim_leads order by 1")
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    broken = project / "models" / "marts" / "ops_owner_queue.sql"
    broken.write_text("select no_such_column from {{ ref('dim_leads') }}\n")
    wh.settings = replace(wh.settings, dbt_project_dir=project)
    with pytest.raises(pipeline.BuildFailed) as failure:
        wh.build("2017-06-01")  # a backfill would change every status: it must not show
    assert "failing node: model.leadflow.ops_owner_queue (error)" in str(failure.value)
    assert "no_such_column" in str(failure.value)
    # the half-built backfill is not what people read: the marts are the last good build's
    assert wh.sql("select lead_key, current_status from marts.dim_leads order by 1") == good
    assert wh.one("select count(*) from marts.ops_owner_queue")[0] > 0
