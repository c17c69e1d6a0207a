"""Owners, companies and persons of the demo data, with identities unique by construction.

Streaming to a million leads rules out remembering which names, phones and e-mails were
already used, so identities come from affine bijections of the person / company index: a
company index maps to one (city, core, brand) triple and one domain, a person index to one
mobile tail and one free-mail local part. Within a company, names and e-mail local parts are
kept distinct explicitly (a company's persons are generated together).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from itertools import permutations

from tools.demo import vocab
from tools.demo.rand import Weighted

OWNER_DOMAIN = "leadflow-demo.example"


@dataclass(frozen=True)
class Owner:
    name: str
    email: str
    language: str
    manager: str
    active: bool


MANAGER = "陈静"
INACTIVE_REP = "周杰"
ENGLISH_REP = "Emily Carter"
UNKNOWN_REP = "赵六"  # planted: a rep name missing from the directory

OWNERS: tuple[Owner, ...] = (
    Owner(MANAGER, f"chen.jing@{OWNER_DOMAIN}", "zh", "", True),
    Owner("李娜", f"li.na@{OWNER_DOMAIN}", "zh", MANAGER, True),
    Owner("王强", f"wang.qiang@{OWNER_DOMAIN}", "zh", MANAGER, True),
    Owner("刘洋", f"liu.yang@{OWNER_DOMAIN}", "zh", MANAGER, True),
    Owner("张敏", f"zhang.min@{OWNER_DOMAIN}", "zh", MANAGER, True),
    Owner("黄磊", f"huang.lei@{OWNER_DOMAIN}", "zh", MANAGER, True),
    Owner(INACTIVE_REP, f"zhou.jie@{OWNER_DOMAIN}", "zh", MANAGER, False),
    Owner(ENGLISH_REP, f"emily.carter@{OWNER_DOMAIN}", "en", MANAGER, True),
    Owner("ops", f"ops@{OWNER_DOMAIN}", "zh", "", True),
)
ACTIVE_ZH_REPS: tuple[str, ...] = tuple(
    o.name for o in OWNERS if o.active and o.language == "zh" and o.name != "ops"
)
BOOTH_REPS_ZH: tuple[str, ...] = ("李娜", "王强", "刘洋", "张敏")
BOOTH_REPS_EN: tuple[str, ...] = (ENGLISH_REP, ENGLISH_REP, "李娜")

MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "199",
)  # fmt: skip

# Two-character brands (ordered pairs of distinct characters) and their romanisations.
BRANDS: tuple[tuple[str, str], ...] = tuple(
    (a[0] + b[0], a[1] + b[1]) for a, b in permutations(vocab.BRAND_CHARS, 2)
)
COMPANY_SPACE = len(vocab.CITIES) * len(vocab.CORES) * len(BRANDS)
assert len({py for _, py in BRANDS}) == len(BRANDS), "brand romanisations must be unique"
assert len({c.code for c in vocab.CORES}) == len(vocab.CORES)
assert len({c.code for c in vocab.CITIES}) == len(vocab.CITIES)
assert all(len(c.name) == 2 for c in vocab.CITIES), "company names parse as city + brand + core"

LEGAL_SUFFIXES = Weighted(vocab.LEGAL_SUFFIXES, vocab.LEGAL_SUFFIX_WEIGHTS)
SIZES = Weighted(vocab.SIZES, vocab.SIZE_WEIGHTS)
MOBILE_SPACE = 10**8
FREEMAIL_SPACE = 10**7
MAX_LEADS = min(COMPANY_SPACE, FREEMAIL_SPACE) - 2  # one spare index for the orphan reference


class AffinePermutation:
    """i -> (a*i + b) mod n: a bijection on range(n) that looks random."""

    def __init__(self, modulus: int, rng: random.Random) -> None:
        self.modulus = modulus
        a = rng.randrange(modulus // 3, modulus)
        while math.gcd(a, modulus) != 1:
            a += 1
        self.a = a % modulus
        self.b = rng.randrange(modulus)

    def __call__(self, i: int) -> int:
        return (self.a * i + self.b) % self.modulus


@dataclass(slots=True)
class Company:
    index: int
    name: str
    industry: str
    city: vocab.City
    domain: str
    switchboard: str  # shared by everyone who lists it: never links people (C3)
    size: str
    headcount: int
    revenue: str
    email_style: int
    shares_switchboard: bool  # staff give the switchboard instead of their mobile
    founded: date  # its anniversary is a care date (R9)
    names: set[str] = field(default_factory=set)
    locals: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Person:
    pid: str
    company: Company
    name: str
    title: str
    mobile: str | None  # 11 digits
    email: str | None
    alias_email: str | None = None  # second corporate address: links only by domain + name


class IdentityFactory:
    """Builds companies and persons whose linking keys never collide across persons."""

    def __init__(self, seed: int, leads: int) -> None:
        if not 1 <= leads <= MAX_LEADS:
            raise ValueError(f"leads must be between 1 and {MAX_LEADS}, got {leads}")
        rng = random.Random(f"leadflow-demo-identity-{seed}")
        self._company_perm = AffinePermutation(COMPANY_SPACE, rng)
        self._mobile_perm = AffinePermutation(MOBILE_SPACE, rng)
        self._freemail_perm = AffinePermutation(FREEMAIL_SPACE, rng)
        self._pid_width = max(6, len(str(leads)))

    def pid(self, index: int) -> str:
        return f"P{index + 1:0{self._pid_width}d}"

    def company(self, index: int, rng: random.Random) -> Company:
        k = self._company_perm(index)
        city = vocab.CITIES[k % len(vocab.CITIES)]
        k //= len(vocab.CITIES)
        core = vocab.CORES[k % len(vocab.CORES)]
        brand, brand_py = BRANDS[k // len(vocab.CORES)]
        suffix = LEGAL_SUFFIXES(rng)
        size, low, high, revenue = SIZES(rng)
        local = f"{city.landline_first}{rng.randrange(10**7):07d}"
        return Company(
            index=index,
            name=f"{city.name}{brand}{core.text}{suffix}",
            industry=core.industry,
            city=city,
            domain=f"{brand_py}{core.code}-{city.code}.{rng.choice(vocab.DOMAIN_TLDS)}",
            switchboard=f"{city.area_code}-{local}",
            size=size,
            headcount=rng.randint(low, high),
            revenue=revenue,
            email_style=rng.randrange(3),
            shares_switchboard=rng.random() < 0.15,
            founded=date(rng.randint(1995, 2021), rng.randint(1, 12), rng.randint(1, 28)),
        )

    def person(
        self,
        index: int,
        company: Company,
        rng: random.Random,
        *,
        alias: bool = False,
        need: str | None = None,
    ) -> Person:
        """A person at `company`; `need` (mobile / email / both) forces contact details."""
        english = not alias and rng.random() < 0.03
        name, local = self._unique_name(company, rng, english)
        title = rng.choice(vocab.TITLES_EN if english else vocab.TITLES_ZH)
        want_mobile = need in ("mobile", "both")
        want_email = alias or need in ("email", "both")
        mobile = None
        if want_mobile or (not company.shares_switchboard and rng.random() < 0.93):
            mobile = f"{rng.choice(MOBILE_PREFIXES)}{self._mobile_perm(index):08d}"
        email = None
        roll = rng.random()
        if mobile is None or want_email or roll < 0.72:
            email = f"{local}@{company.domain}"
        elif roll < 0.9:
            email = self._free_mail(index, local, rng)
        alias_email = None
        if alias:  # a branch-office mailbox beside the personal one, same name
            alias_local = self._claim(company, f"{local.replace('.', '')}.{company.city.code}")
            alias_email = f"{alias_local}@{company.domain}"
        return Person(
            pid=self.pid(index),
            company=company,
            name=name,
            title=title,
            mobile=mobile,
            email=email,
            alias_email=alias_email,
        )

    def orphan(self, leads: int, rng: random.Random) -> Person:
        """A person no intake record mentions: indexes >= leads are never used for real ones."""
        company = self.company(leads, rng)
        person = self.person(leads, company, rng, need="both")
        person.pid = ""
        return person

    def _unique_name(self, company: Company, rng: random.Random, english: bool) -> tuple[str, str]:
        for attempt in range(1000):
            if english:
                first, last = rng.choice(vocab.EN_FIRST), rng.choice(vocab.EN_LAST)
                name, local = f"{first} {last}", f"{first}.{last}".lower()
            else:
                surname, s_py = rng.choice(vocab.SURNAMES)
                chars = rng.sample(vocab.GIVEN_CHARS, 1 if rng.random() < 0.35 else 2)
                given, g_py = "".join(c for c, _ in chars), "".join(p for _, p in chars)
                name = surname + given
                local = (f"{s_py}{g_py}", f"{s_py}.{g_py}", f"{g_py}.{s_py}")[company.email_style]
            if name not in company.names:
                company.names.add(name)
                return name, self._claim(company, local)
            if attempt > 500:
                english = False
        raise RuntimeError(f"no free person name left at {company.name}")

    @staticmethod
    def _claim(company: Company, local: str) -> str:
        """Reserve an e-mail local part at the company, numbering it when already taken."""
        candidate, n = local, 1
        while candidate in company.locals:
            n += 1
            candidate = f"{local}{n}"
        company.locals.add(candidate)
        return candidate

    def _free_mail(self, index: int, local: str, rng: random.Random) -> str:
        tail = self._freemail_perm(index)
        if rng.random() < 0.5:
            return f"{10_000_000 + tail * 7}@qq.com"  # QQ numbers: digits only, unique per tail
        return f"{local.replace('.', '')}{tail:07d}@{rng.choice(('163.com', '126.com'))}"
