"""Word lists and text templates for the demo data: mostly Chinese, all GBK-encodable.

Identity parts (cities, brand characters, company cores, surnames) carry a romanisation so that
e-mail domains and local parts can be derived from them; `tools.demo.people` combines them
into company names and domains that are unique by construction.
"""

from __future__ import annotations

from typing import NamedTuple


class City(NamedTuple):
    name: str  # two characters: company names parse as city + brand + core
    province: str
    area_code: str
    landline_first: str  # first digit of local numbers that `phonenumbers` accepts
    code: str  # two letters, unique: the tail of company domains


class Core(NamedTuple):
    text: str
    industry: str
    code: str  # two letters, unique among cores


# Area codes and first digits checked against phonenumbers as valid FIXED_LINE numbers.
CITIES: tuple[City, ...] = (
    City("上海", "上海", "021", "6", "sh"),
    City("北京", "北京", "010", "6", "bj"),
    City("广州", "广东", "020", "8", "gz"),
    City("深圳", "广东", "0755", "8", "sz"),
    City("杭州", "浙江", "0571", "8", "hz"),
    City("南京", "江苏", "025", "8", "nj"),
    City("成都", "四川", "028", "8", "cd"),
    City("武汉", "湖北", "027", "8", "wh"),
    City("天津", "天津", "022", "2", "tj"),
    City("重庆", "重庆", "023", "6", "cq"),
    City("苏州", "江苏", "0512", "6", "su"),
    City("西安", "陕西", "029", "8", "xa"),
    City("青岛", "山东", "0532", "8", "qd"),
    City("长沙", "湖南", "0731", "8", "cs"),
    City("福州", "福建", "0591", "8", "fz"),
    City("济南", "山东", "0531", "8", "jn"),
    City("郑州", "河南", "0371", "6", "zz"),
    City("合肥", "安徽", "0551", "6", "hf"),
    City("宁波", "浙江", "0574", "8", "nb"),
    City("东莞", "广东", "0769", "2", "dg"),
    City("佛山", "广东", "0757", "8", "fs"),
    City("无锡", "江苏", "0510", "8", "wx"),
    City("昆明", "云南", "0871", "6", "km"),
    City("沈阳", "辽宁", "024", "2", "sy"),
    City("大连", "辽宁", "0411", "8", "dl"),
    City("长春", "吉林", "0431", "8", "cc"),
    City("海口", "海南", "0898", "6", "hk"),
)

# Brand characters with distinct romanisations that all start with a consonant, so that the
# romanisation of a two-character brand is unique (checked in `people`).
BRAND_CHARS: tuple[tuple[str, str], ...] = (
    ("华", "hua"), ("锐", "rui"), ("恒", "heng"), ("信", "xin"), ("达", "da"), ("泰", "tai"),
    ("鼎", "ding"), ("盛", "sheng"), ("宏", "hong"), ("远", "yuan"), ("博", "bo"), ("金", "jin"),
    ("嘉", "jia"), ("海", "hai"), ("天", "tian"), ("中", "zhong"), ("科", "ke"), ("创", "chuang"),
    ("龙", "long"), ("凯", "kai"), ("捷", "jie"), ("德", "de"), ("正", "zheng"), ("明", "ming"),
    ("光", "guang"), ("通", "tong"), ("联", "lian"), ("腾", "teng"), ("飞", "fei"), ("云", "yun"),
    ("峰", "feng"), ("启", "qi"), ("航", "hang"), ("朗", "lang"), ("茂", "mao"), ("诺", "nuo"),
    ("沃", "wo"), ("思", "si"), ("维", "wei"), ("卓", "zhuo"), ("越", "yue"), ("誉", "yu"),
    ("瀚", "han"), ("蓝", "lan"), ("星", "xing"), ("辰", "chen"), ("智", "zhi"), ("汇", "hui"),
    ("邦", "bang"), ("富", "fu"),
)  # fmt: skip

CORES: tuple[Core, ...] = (
    Core("精密制造", "制造业", "jm"),
    Core("智能装备", "制造业", "zb"),
    Core("汽车零部件", "制造业", "qp"),
    Core("电子科技", "制造业", "dz"),
    Core("新材料", "制造业", "xc"),
    Core("医疗器械", "医疗", "yl"),
    Core("生物医药", "医疗", "sw"),
    Core("健康管理", "医疗", "jk"),
    Core("教育科技", "教育", "jy"),
    Core("职业培训", "教育", "px"),
    Core("物流", "物流", "wl"),
    Core("供应链管理", "物流", "gy"),
    Core("国际货运", "物流", "hy"),
    Core("商贸", "零售", "sm"),
    Core("连锁超市", "零售", "cs"),
    Core("电子商务", "零售", "ds"),
    Core("金融服务", "金融", "jr"),
    Core("融资租赁", "金融", "zl"),
    Core("保险代理", "金融", "bx"),
    Core("软件", "软件", "rj"),
    Core("信息技术", "软件", "xx"),
    Core("网络科技", "软件", "wk"),
    Core("数据科技", "软件", "sj"),
    Core("新能源", "能源", "xn"),
    Core("环保科技", "环保", "hb"),
    Core("食品", "食品", "sp"),
    Core("建设工程", "建筑", "jz"),
    Core("化工", "化工", "hg"),
    Core("纺织", "纺织", "fz"),
    Core("文化传媒", "传媒", "cm"),
)

LEGAL_SUFFIXES: tuple[str, ...] = ("有限公司", "股份有限公司", "集团有限公司")
LEGAL_SUFFIX_WEIGHTS: tuple[int, ...] = (6, 3, 1)
DOMAIN_TLDS: tuple[str, ...] = ("com", "cn", "com.cn")

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"), ("潘", "pan"),
    ("蒋", "jiang"), ("蔡", "cai"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"),
    ("魏", "wei"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"),
    ("崔", "cui"), ("钟", "zhong"), ("谭", "tan"), ("范", "fan"), ("石", "shi"), ("廖", "liao"),
    ("贾", "jia"), ("夏", "xia"), ("方", "fang"), ("白", "bai"), ("孟", "meng"), ("秦", "qin"),
)  # fmt: skip

GIVEN_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("华", "hua"), ("建", "jian"), ("国", "guo"),
    ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("燕", "yan"), ("鹏", "peng"), ("斌", "bin"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("欣", "xin"), ("婷", "ting"), ("雪", "xue"),
    ("晨", "chen"), ("博", "bo"), ("佳", "jia"), ("琳", "lin"), ("俊", "jun"), ("峰", "feng"),
    ("波", "bo"), ("亮", "liang"), ("晶", "jing"), ("颖", "ying"), ("倩", "qian"), ("雯", "wen"),
    ("慧", "hui"), ("瑶", "yao"), ("悦", "yue"), ("子", "zi"), ("涵", "han"), ("睿", "rui"),
    ("泽", "ze"), ("思", "si"), ("琪", "qi"), ("昊", "hao"), ("然", "ran"), ("轩", "xuan"),
    ("铭", "ming"), ("宁", "ning"), ("阳", "yang"), ("飞", "fei"), ("春", "chun"), ("红", "hong"),
    ("兰", "lan"), ("梅", "mei"), ("晓", "xiao"), ("志", "zhi"), ("海", "hai"), ("东", "dong"),
)  # fmt: skip

EN_FIRST: tuple[str, ...] = (
    "David", "Michael", "Sarah", "Emma", "James", "Anna", "Lucas", "Sophie", "Thomas", "Laura",
)  # fmt: skip
EN_LAST: tuple[str, ...] = (
    "Smith", "Brown", "Wilson", "Miller", "Taylor", "Anderson", "Clark", "Walker", "Schmidt",
    "Martin",
)  # fmt: skip

TITLES_ZH: tuple[str, ...] = (
    "采购总监", "采购经理", "IT经理", "信息部总监", "总经理", "副总经理", "运营总监", "销售总监",
    "市场经理", "财务总监", "技术总监", "数字化负责人", "生产经理", "供应链经理", "行政主管",
    "董事长助理", "客服经理", "渠道经理",
)  # fmt: skip
TITLES_EN: tuple[str, ...] = (
    "Procurement Manager", "IT Director", "Operations Manager", "General Manager",
    "Sales Director", "Head of Digital",
)  # fmt: skip

# (size label, headcount low, headcount high, annual revenue text)
SIZES: tuple[tuple[str, int, int, str], ...] = (
    ("50人以下", 12, 49, "年营收约2000万元"),
    ("50-200人", 50, 199, "年营收约8000万元"),
    ("200-500人", 200, 499, "年营收约3亿元"),
    ("500-1000人", 500, 999, "年营收约8亿元"),
    ("1000人以上", 1000, 5000, "年营收超20亿元"),
)
SIZE_WEIGHTS: tuple[int, ...] = (20, 35, 25, 12, 8)

NEEDS_COMMON: tuple[str, ...] = (
    "采购CRM系统",
    "寻求年度合作",
    "采购ERP系统,需3个月内上线",
    "了解销售自动化方案",
    "需要线索管理工具，销售团队约{n}人",
    "希望试用SaaS版本",
    "咨询私有化部署报价",
    "替换现有Excel跟进流程",
    "需要与企业微信集成的客户管理系统",
    "寻找数据分析平台，统一销售报表",
)
NEEDS_BY_INDUSTRY: dict[str, tuple[str, ...]] = {
    "制造业": ("寻找MES系统供应商", "经销商订单管理系统选型"),
    "零售": ("门店会员管理系统升级", "全渠道订单与库存打通"),
    "物流": ("运输管理系统(TMS)采购", "客户询价与报价流程线上化"),
    "医疗": ("医院客户关系管理系统", "经销商与终端拜访管理"),
    "教育": ("招生线索管理系统", "学员续费提醒与回访工具"),
    "金融": ("合规的客户数据管理平台", "理财经理客户跟进工具"),
    "软件": ("渠道伙伴管理系统", "SaaS客户成功平台选型"),
}
NEED_TAILS: tuple[str, ...] = ("", "", "，预计{m}个月内上线", "，预算约{b}万", "，希望尽快安排演示")

WEB_MESSAGE_FRAMES: tuple[str, ...] = (
    "{need}",
    "您好，我们是一家{size}的{industry}企业，{need}，请尽快联系。",
    "{need}。方便时请电话联系我。",
)

UTM_CAMPAIGNS: tuple[tuple[str, str, str], ...] = (
    ("baidu", "cpc", "crm_search_{q}"),
    ("wechat", "social", "wechat_article_{q}"),
    ("linkedin", "social", "b2b_leads_{q}"),
    ("zhihu", "content", "whitepaper_{q}"),
    ("newsletter", "email", "monthly_news_{q}"),
    ("google", "cpc", "brand_{q}"),
)

BADGE_NOTES_ZH: tuple[str, ...] = (
    "对CRM感兴趣，希望下周电话沟通",
    "索取产品手册",
    "咨询私有化部署价格",
    "现场看了演示，关注报表功能",
    "想了解与ERP的集成",
    "",
    "",
)
BADGE_NOTES_ZH_COMMA: tuple[str, ...] = ("现场演示后有兴趣,约下周拜访", "关注价格,需要报价单")
BADGE_NOTES_ZH_NEWLINE: tuple[str, ...] = (
    "需要英文版资料\n展后发送报价",
    "老板也在现场\n可约高层会面",
)
BADGE_NOTES_EN: tuple[str, ...] = (
    "Interested in CRM demo",
    "Asked for brochure",
    "Wants pricing for 50 seats",
    "Visited with IT team",
    "",
    "",
)
BADGE_NOTES_EN_COMMA: tuple[str, ...] = (
    "Wants demo, pricing and references",
    "Budget approved, Q1",
)
BADGE_NOTES_EN_NEWLINE: tuple[str, ...] = ("Call back next week\nprefers WeChat",)

# Follow-up texts in the style of R7: specific, never "customer interested".
FEEDBACK_CONFIRM: tuple[str, ...] = (
    "确认需求：销售团队{n}人，需要线索分级与跟进提醒",
    "客户现有流程依赖Excel，线索经常遗漏，希望{m}个月内上线",
    "客户关注与企业微信、ERP的集成，要求提供接口文档",
    "对接人为{title}，最终决策需{boss}审批",
    "客户确认预算范围{b}万，对比中的供应商有3家",
)
FEEDBACK_QUOTE: tuple[str, ...] = (
    "已发送报价方案A和B，客户倾向方案A，希望增加售后培训",
    "客户认可方案A，希望增加售后培训",
    "客户要求报价拆分为软件授权与实施服务两部分",
    "客户要求提供3家同行业合作案例",
    "演示后IT部门认可产品功能，关注数据迁移方案",
)
FEEDBACK_NEGOTIATE: tuple[str, ...] = (
    "商务条款基本确认，客户要求付款方式改为3-3-4",
    "客户法务审核合同中，关注数据安全条款",
    "客户希望首年折扣15%，需请示销售总监",
    "高层会面顺利，客户同意进入采购流程",
    "客户要求在合同中明确上线时间和验收标准",
)
FEEDBACK_NO_ANSWER: dict[str, str] = {
    "电话": "电话未接通",
    "邮件": "邮件未回复",
    "微信": "微信消息未回复",
}
OBJECTIONS: tuple[str, ...] = (
    "预算需上级审批，周期约2周",
    "价格高于竞品约10%",
    "正在对比3家供应商，尚未确定方案",
    "担心实施周期过长影响业务",
    "需要私有化部署，担心数据安全",
    "决策人近期出差，需延后",
)
BOSSES: tuple[str, ...] = ("总经理", "财务总监", "董事长", "集团IT")

# (next action, days until the agreed follow-up date; None: next Tuesday)
NEXT_ACTIONS: tuple[tuple[str, int | None], ...] = (
    ("3日内提供培训细节补充说明", 3),
    ("下周二下午3点安排产品演示", None),
    ("5个工作日内提交正式报价", 7),
    ("本周内发送3家同行业合作案例", 4),
    ("安排技术顾问上门调研", 6),
    ("发送合同草稿给客户法务", 2),
    ("约客户决策人下周面谈", 7),
    ("2周后电话确认审批进度", 14),
)
NEXT_RETRY: tuple[tuple[str, int], ...] = (("明天上午10点再次致电", 1), ("3日后再次邮件跟进", 3))
NEXT_WON = ("推进合同签署，安排实施启动会", 2)

FEEDBACK_EN: tuple[str, ...] = (
    "Customer likes proposal A, wants after-sales training added",
    "Asked for 3 reference customers in the same industry",
    "IT team approved the demo, concerned about data migration",
    "Confirmed a sales team of {n} people, needs lead grading",
)
OBJECTIONS_EN: tuple[str, ...] = (
    "Budget needs approval, about 2 weeks",
    "Comparing 3 vendors",
    "Price about 10% above competitor",
)
NEXT_ACTIONS_EN: tuple[tuple[str, int | None], ...] = (
    ("Send training details within 3 days", 3),
    ("Demo next Tuesday 3pm", None),
    ("Send formal quote within 5 working days", 7),
)
NO_ANSWER_EN = "No answer"

# Lost reasons: the keyword categories of C8, a couple in English, and one that matches nothing.
LOST_REASONS: tuple[str, ...] = (
    "价格太高",
    "报价超出预算30%",
    "选择了竞品",
    "已与竞品签约",
    "预算取消",
    "长期无回应",
    "项目暂停",
    "Price too high",
    "Went with a competitor",
    "对接人调岗，暂无后续",
)
LOST_REASON_WEIGHTS: tuple[int, ...] = (14, 6, 14, 6, 10, 12, 8, 3, 3, 2)
CHURN_REASONS: tuple[str, ...] = ("续约价格太高", "切换到竞品", "预算取消", "项目暂停")

CARE_LABELS: dict[str, str] = {
    "survey": "满意度调研",
    "report": "季度报告",
    "greeting": "节日祝福",
    "material": "资料发送",
}
CARE_MATERIAL_NURTURE: tuple[str, ...] = (
    "发送{industry}数字化转型白皮书",
    "邀请参加线上研讨会：销售线索管理最佳实践",
    "发送同行业客户案例集",
    "发送定制化解决方案v2",
)
CARE_MATERIAL_ONBOARDING = "发送实施启动资料与培训手册"
CARE_SURVEY = "{m}月使用反馈问卷，满意度{score}/10"
CARE_REPORT = "发送{y}年Q{q}产品升级与行业趋势报告"

# Festival greetings (R9); lunar festivals from a small calendar.
FIXED_FESTIVALS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "元旦祝福"),
    (5, 1, "劳动节祝福"),
    (10, 1, "国庆节日祝福"),
)
ANNIVERSARY = "司庆祝福：成立{n}周年"
LUNAR_FESTIVALS: dict[int, tuple[tuple[int, int, str], ...]] = {
    2024: ((2, 10, "春节祝福"), (9, 17, "中秋节日祝福（寄送月饼礼盒）")),
    2025: ((1, 29, "春节祝福"), (10, 6, "中秋节日祝福（寄送月饼礼盒）")),
    2026: ((2, 17, "春节祝福"), (9, 25, "中秋节日祝福（寄送月饼礼盒）")),
    2027: ((2, 6, "春节祝福"), (9, 15, "中秋节日祝福（寄送月饼礼盒）")),
    2028: ((1, 26, "春节祝福"), (10, 3, "中秋节日祝福（寄送月饼礼盒）")),
    2029: ((2, 13, "春节祝福"), (9, 22, "中秋节日祝福（寄送月饼礼盒）")),
    2030: ((2, 3, "春节祝福"), (9, 12, "中秋节日祝福（寄送月饼礼盒）")),
}

PLANS: dict[str, str] = {
    "A": "每周1次电话+方案演示，每2周发送行业案例；目标：{goal}",
    "B": "每两周1次电话，每月1次邮件推送产品动态；目标：{goal}",
    "C": "每月1次轻互动（行业资讯分享）；目标：观察需求变化",
}
PLAN_GOALS: tuple[str, ...] = ("确认需求细节", "提供报价方案", "推动商务洽谈")
PAIN_POINTS: tuple[str, ...] = (
    "销售过程不透明，线索跟进靠Excel",
    "线索响应慢，展会线索大量流失",
    "多人跟进同一客户，信息不同步",
    "缺少成交周期和转化率分析",
)
COMPETITORS: tuple[str, ...] = ("Salesforce", "纷享销客", "销售易", "HubSpot", "金蝶", "用友")
REFERRAL_SOURCES: tuple[str, ...] = ("行业推荐", "行业推荐", "行业推荐", "老客户转介绍")
SPECIAL_NEEDS: tuple[str, ...] = ("需支持私有化部署", "需要英文界面", "要求本地化实施团队", "")
