"""One person's story: intake records in 1-3 channels, then follow-ups, status changes, care.

`StoryTeller.tell` returns every row the person contributes, already formatted as the export
would show it, each tagged with the person id and, for planted bad rows, a `Plant`. Times are
naive Asia/Shanghai wall-clock datetimes, all strictly before the cut-off (00:00 of as_of, C4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from tools.demo import vocab
from tools.demo.people import (
    ACTIVE_ZH_REPS,
    BOOTH_REPS_EN,
    BOOTH_REPS_ZH,
    ENGLISH_REP,
    INACTIVE_REP,
    MANAGER,
    UNKNOWN_REP,
    Company,
    IdentityFactory,
    Person,
)
from tools.demo.rand import Weighted

WINDOW_DAYS = 120
CADENCE_DAYS = {"A": 7, "B": 14, "C": 30}  # R5 contact cadence
BADGE_ZH, BADGE_EN, WEB, REFERRAL = "badge_zh", "badge_en", "web", "referral"


class Plant(NamedTuple):
    """A deliberately bad value; `check` uses the validation check names of docs/interfaces.md."""

    check: str
    field: str | None
    why: str


PLANTS: dict[str, Plant] = {
    "missing_contact": Plant(
        "missing_required", "phone|email", "web form with neither phone nor email"
    ),
    "unparseable_date": Plant("unparseable_value", "event_at", "scan time is not a real date"),
    "undecodable": Plant("undecodable", None, "bytes ff ff decode in neither GBK nor GB18030"),
    "invalid_email": Plant("invalid_email", "email", "malformed e-mail with a double @"),
    "masked_phone": Plant("masked_phone", "phone", "phone masked by hand (138****5678)"),
    "unknown_owner": Plant("unknown_owner", "owner_name", "rep name not in the owner directory"),
    "logged_before_contact": Plant(
        "logged_before_contact", "logged_at", "记录时间 is before 跟进时间"
    ),
    "duplicate_row": Plant("duplicate_row", None, "exact copy of the previous row"),
    "invalid_grade": Plant("invalid_grade", "grade", "grade X is not A/B/C"),
    "orphan_reference": Plant(
        "orphan_reference", "lead_ref", "names a person no intake record mentions"
    ),
}


@dataclass(frozen=True)
class Scenario:
    channels: tuple[str, ...]
    grade: str | None  # None: never graded, no grade facts either
    outcome: str  # untouched / open / won / lost / churned
    due: str | None = None  # today / overdue / none: the last follow-up's plan; None: natural
    start_days_ago: float | None = None
    alias: bool = False  # two corporate addresses: the records link only by domain + name
    won_recent: bool = False
    plants: tuple[str, ...] = ()
    need: str | None = None  # mobile / email / both: contact details the person must have
    fullwidth: bool = False  # the referral sheet's phone typed in full-width digits (C2)
    anniversary_days_ago: int | None = None  # the company's anniversary, for a care greeting


# The first persons cover every case the marts and checks must show, whatever the seed, so even a
# small demo has a due-today lead, a churned customer, a lead linked only by domain + name, and
# one host for each planted bad row.
FORCED: tuple[Scenario, ...] = (
    Scenario((WEB, REFERRAL), "A", "won", start_days_ago=32, won_recent=True),
    Scenario((WEB,), None, "untouched", start_days_ago=0.6),
    Scenario((BADGE_ZH, WEB), "B", "open", due="today"),
    Scenario((WEB, REFERRAL), "A", "open", due="overdue", start_days_ago=45),
    Scenario((REFERRAL,), "B", "churned", start_days_ago=110),
    Scenario((WEB, BADGE_ZH, REFERRAL), "C", "lost", start_days_ago=70),
    Scenario((WEB, BADGE_ZH), "B", "open", alias=True),
    Scenario((BADGE_EN,), None, "untouched"),
    Scenario((WEB,), "A", "open", due="none", start_days_ago=20),
    Scenario(
        (REFERRAL, WEB),
        "A",
        "won",
        start_days_ago=100,
        need="both",
        fullwidth=True,
        anniversary_days_ago=12,
    ),
    Scenario((WEB,), None, "untouched", plants=("missing_contact",)),
    Scenario((BADGE_ZH, WEB), "B", "open", plants=("unparseable_date",)),
    Scenario((BADGE_ZH, REFERRAL), "C", "open", plants=("undecodable",)),
    Scenario((BADGE_EN, WEB), "B", "open", plants=("invalid_email",), need="both"),
    Scenario(
        (WEB,), "A", "open", start_days_ago=60, plants=("unknown_owner", "logged_before_contact")
    ),
    Scenario(
        (REFERRAL,), "B", "open", start_days_ago=80, plants=("invalid_grade", "duplicate_row")
    ),
    Scenario((REFERRAL, WEB), "B", "open", plants=("masked_phone",), need="both"),
)

OUTCOMES: dict[str, Weighted[str]] = {
    "A": Weighted(("open", "won", "lost", "churned"), (42, 38, 12, 8)),
    "B": Weighted(("open", "won", "lost", "churned"), (55, 20, 20, 5)),
    "C": Weighted(("open", "won", "lost"), (62, 5, 33)),
}
GRADES = Weighted(("A", "B", "C"), (25, 45, 30))
CHANNEL_COUNT = Weighted((1, 2, 3), (60, 30, 10))
INTAKE_WEIGHTS = {WEB: 50, "badge": 35, REFERRAL: 25}
FOLLOW_UP_CHANNELS = Weighted(("电话", "微信", "邮件", "拜访", "演示"), (45, 20, 15, 10, 10))
LOST_REASONS = Weighted(vocab.LOST_REASONS, vocab.LOST_REASON_WEIGHTS)


class Clock:
    """The as-of cut-off and the windows events fall into."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.cutoff = datetime.combine(as_of, time.min)  # 00:00 Asia/Shanghai, naive local
        self.start = self.cutoff - timedelta(days=WINDOW_DAYS)
        self.last_event = self.cutoff - timedelta(hours=2)  # leaves room for 记录时间
        # Two shows within the badge channel's 30-day freshness window.
        self.shows = {
            BADGE_ZH: (as_of - timedelta(days=18), 3),
            BADGE_EN: (as_of - timedelta(days=9), 2),
        }
        self.rep_left_at = self.cutoff - timedelta(days=40)  # when the inactive rep left


@dataclass(slots=True)
class Row:
    at: datetime  # orders the export (its sort key)
    pid: str | None
    fields: Any  # list of cell texts, or a dict for JSON channels
    plant: Plant | None = None


@dataclass(slots=True)
class Story:
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, sink: str, row: Row) -> None:
        self.rows.setdefault(sink, []).append(row)


@dataclass(slots=True)
class Intake:
    """One intake record before formatting: which contact details it shows."""

    channel: str
    at: datetime | None
    phone: str  # display text, may be blank
    email: str
    keys: set[tuple[str, str]]  # linking keys it contributes when loaded cleanly
    plant: Plant | None = None


Facts = tuple[str, str, str, str, str]  # 预算已确认, 预算金额, 决策周期天数, 决策链清晰, 需求明确度
BLANK_FACTS: Facts = ("", "", "", "", "")


class Status(NamedTuple):
    at: datetime
    label: str  # 潜在 / 意向 / 成交 / 流失
    detail: str  # deal value when won, reason when lost
    rep: str


class Staffing(NamedTuple):
    owner: str | None  # booth rep or sheet 负责人: the assignment intake records carry (C5)
    since: datetime | None  # when the owner was assigned; None: from the start
    routed: str  # who works the lead before it has an owner, as routing would assign


class Care(NamedTuple):
    at: datetime
    kind: str  # survey / report / greeting / material
    note: str


@dataclass(slots=True)
class FollowUp:
    at: datetime
    channel: str
    responded: str
    feedback: str
    objection: str
    next_action: str
    due: date | None
    rep: str
    logged_at: datetime
    grade: str
    facts: Facts
    plant: Plant | None = None


class StoryTeller:
    def __init__(self, rng: random.Random, factory: IdentityFactory, clock: Clock) -> None:
        self.rng = rng
        self.factory = factory
        self.clock = clock
        self._notes_made = {True: 0, False: 0}  # badge notes written, per file (zh / en)

    # -- persons and scenarios -------------------------------------------------------------

    def scenario(self, index: int) -> Scenario:
        if index < len(FORCED):
            return FORCED[index]
        rng = self.rng
        pool, channels = dict(INTAKE_WEIGHTS), []
        for _ in range(CHANNEL_COUNT(rng)):  # weighted draws without replacement
            pick = Weighted(list(pool), list(pool.values()))(rng)
            del pool[pick]
            channels.append(pick)
        badge = BADGE_ZH if rng.random() < 0.72 else BADGE_EN
        chans = tuple(badge if c == "badge" else c for c in channels)
        ungraded = len(chans) == 1 and chans[0] != REFERRAL and rng.random() < 0.15
        if ungraded:
            return Scenario(chans, None, "untouched")
        grade = GRADES(rng)
        if rng.random() < 0.08:
            return Scenario(chans, grade, "untouched")
        return Scenario(chans, grade, OUTCOMES[grade](rng))

    def tell(self, index: int, company: Company) -> Story:
        sc = self.scenario(index)
        rng = self.rng
        person = self.factory.person(index, company, rng, alias=sc.alias, need=sc.need)
        if sc.anniversary_days_ago is not None:
            company.founded = anniversary(self.clock.as_of, sc.anniversary_days_ago, rng)
        owner = self._owner(sc)
        intakes = self._intakes(person, sc)
        timed = [i.at for i in intakes if i.at is not None]
        scans = [i.at for i in intakes if i.at is not None and i.channel != WEB]
        # A booth rep owns the lead from the scan on; a sheet's 负责人 has no time: all along.
        since = min(scans) if scans and REFERRAL not in sc.channels else None
        staff = Staffing(owner, since, rng.choice(ACTIVE_ZH_REPS))
        start = min(timed) if timed else self._referral_date(sc)
        # Activities may only name the lead by keys that a cleanly loaded record carries.
        loaded = [r for r in intakes if r.plant is None or r.plant.check != "undecodable"]
        keys = set().union(
            *(r.keys for r in loaded if r.plant is None or r.plant.check != "invalid_email")
        )

        ups: list[FollowUp] = []
        statuses: list[Status] = []
        cares: list[Care] = []
        grade = sc.grade
        if sc.outcome != "untouched" and sc.grade is not None:
            ups, statuses, grade = self._work(sc, start, staff)
            # The fixed scenarios skip no care action, so every care type shows in any demo.
            skip = 0.0 if index < len(FORCED) else 1.0
            cares = self._care(person, ups, statuses, grade, skip)
        final_status = statuses[-1].label if statuses else "潜在"

        story = Story()
        for rec in intakes:
            self._emit_intake(story, person, sc, rec, owner)
        if REFERRAL in sc.channels:
            rec = next(r for r in intakes if r.channel == REFERRAL)
            cells = self._referral_cells(person, sc, rec, ups, cares, grade, final_status, owner)
            story.add(REFERRAL, Row(start, person.pid, cells, rec.plant))
        ref = Referrer(person, keys, rng, named=bool(loaded))
        for up in ups:
            cells = [f"{up.at:%Y-%m-%d %H:%M}", *ref.cells(), *self._follow_up_cells(up)]
            if up.plant is not None and up.plant.check == "duplicate_row":
                story.add("follow_up", Row(up.at, person.pid, cells, None))
            story.add("follow_up", Row(up.at, person.pid, cells, up.plant))
        for st in statuses:
            lost = st.detail if st.label == "流失" else ""
            value = st.detail if st.label == "成交" else ""
            cells = [f"{st.at:%Y-%m-%d %H:%M}", *ref.cells(), st.label, lost, value, st.rep]
            story.add("status", Row(st.at, person.pid, cells, None))
        for care in cares:
            rep = self._rep(staff, care.at)
            label = vocab.CARE_LABELS[care.kind]
            cells = [f"{care.at:%Y-%m-%d %H:%M}", *ref.cells(), label, care.note, rep]
            story.add("care", Row(care.at, person.pid, cells, None))
        return story

    def orphan_follow_up(self, leads: int) -> Row:
        """A follow-up about someone no intake record mentions (planted orphan_reference)."""
        rng = self.rng
        person = self.factory.orphan(leads, rng)
        at = self._work_hours(self.clock.start + timedelta(days=rng.uniform(20, 100)))
        ref = Referrer(person, {("email", person.email or "")}, rng)
        up = self._follow_up(0, at, "", BLANK_FACTS, rng.choice(ACTIVE_ZH_REPS))
        cells = [f"{at:%Y-%m-%d %H:%M}", *ref.cells(mode="email"), *self._follow_up_cells(up)]
        return Row(at, None, cells, PLANTS["orphan_reference"])

    def _owner(self, sc: Scenario) -> str | None:
        """Booth rep or sheet 负责人: an owner assignment (C5); web forms arrive unassigned."""
        rng = self.rng
        if BADGE_EN in sc.channels:
            return rng.choice(BOOTH_REPS_EN)
        if BADGE_ZH in sc.channels:
            return rng.choice(BOOTH_REPS_ZH)
        if REFERRAL in sc.channels:
            return INACTIVE_REP if rng.random() < 0.08 else rng.choice(ACTIVE_ZH_REPS)
        return None

    def _rep(self, staff: Staffing, at: datetime) -> str:
        """Who did it: the owner once assigned (else the routed rep), a stand-in after the
        inactive rep left, sometimes a colleague (C5: the doer, not necessarily the owner)."""
        owned = staff.owner and (staff.since is None or at >= staff.since)
        rep = staff.owner if owned and staff.owner else staff.routed
        if rep == INACTIVE_REP and at >= self.clock.rep_left_at:
            rep = MANAGER
        if rep != ENGLISH_REP and self.rng.random() < 0.08:
            rep = self.rng.choice(ACTIVE_ZH_REPS)
        return rep

    # -- intake ----------------------------------------------------------------------------

    def _intakes(self, person: Person, sc: Scenario) -> list[Intake]:
        rng, clock = self.rng, self.clock
        channels = list(sc.channels)
        for badge in (BADGE_ZH, BADGE_EN):
            if badge in channels and not sc.plants and rng.random() < 0.04:
                channels.append(badge)  # scanned again on another day of the show
        contacts = self._contacts(person, sc, len(channels))
        upper = rng.randrange(len(channels)) if len(channels) > 1 and rng.random() < 0.2 else -1
        out = []
        for i, (chan, (phone, email, keys)) in enumerate(zip(channels, contacts, strict=True)):
            if i == upper and email:
                email = email.upper() if rng.random() < 0.5 else email.title()
            at = None
            if chan == WEB:
                at = self._web_time(sc)
            elif chan in (BADGE_ZH, BADGE_EN):
                first_day, days = clock.shows[chan]
                day = first_day + timedelta(days=rng.randrange(days))
                at = datetime.combine(day, time(9)) + timedelta(seconds=rng.randrange(510 * 60))
            out.append(Intake(chan, at, phone, email, keys))
        self._plant_intake(out, sc, person)
        return out

    def _plant_intake(self, records: list[Intake], sc: Scenario, person: Person) -> None:
        targets = {
            "missing_contact": WEB,
            "unparseable_date": BADGE_ZH,
            "undecodable": BADGE_ZH,
            "invalid_email": BADGE_EN,
            "masked_phone": REFERRAL,
        }
        for name in sc.plants:
            if name not in targets:
                continue
            rec = next(r for r in records if r.channel == targets[name])
            rec.plant = PLANTS[name]
            if name == "missing_contact":
                rec.phone, rec.email, rec.keys = "", "", set()
            elif name == "invalid_email":
                rec.email = f"{rec.email.split('@')[0]}@@example"
            elif name == "masked_phone":  # masked by hand; the record still links by e-mail
                m = person.mobile or "13800000000"
                rec.phone = f"{m[:3]}****{m[7:]}"
                rec.keys = {k for k in rec.keys if k[0] != "mobile"}

    def _contacts(
        self, person: Person, sc: Scenario, n: int
    ) -> list[tuple[str, str, set[tuple[str, str]]]]:
        """Phone / e-mail shown by each record: every record carries the person's anchor key."""
        rng, p = self.rng, person
        if p.alias_email:  # records share only the corporate domain + the person's name
            emails = [p.email or ""] + [p.alias_email] * (n - 1)
            return [(self._show_landline(p.company.switchboard), e, {("email", e)}) for e in emails]
        if "invalid_email" in sc.plants:  # mobile links; every record shows an e-mail to spoil
            anchor, email_rate = "mobile", 1.0
        elif "masked_phone" in sc.plants:  # e-mail links; the sheet's phone gets masked
            anchor, email_rate = "email", 1.0
        else:
            mobile_first = p.mobile and (not p.email or rng.random() < 0.6)
            anchor, email_rate = ("mobile" if mobile_first else "email"), 0.55
        out = []
        for _ in range(n):
            phone, email, keys = "", "", set()
            if p.mobile and (anchor == "mobile" or rng.random() < 0.4):
                phone = self._show_mobile(p.mobile)
                keys.add(("mobile", p.mobile))
            elif (p.company.shares_switchboard or not p.mobile) and rng.random() < 0.7:
                phone = self._show_landline(p.company.switchboard)
            if p.email and (anchor == "email" or rng.random() < email_rate):
                email = p.email
                keys.add(("email", p.email))
            out.append((phone, email, keys))
        return out

    def _show_mobile(self, m: str) -> str:
        r = self.rng.random()
        if r < 0.6:
            return m
        if r < 0.75:
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        if r < 0.88:
            return f"{m[:3]} {m[3:7]} {m[7:]}"
        return f"+86 {m}"

    def _show_landline(self, number: str) -> str:
        area, local = number.split("-")
        return f"({area}){local}" if self.rng.random() < 0.2 else number

    def _web_time(self, sc: Scenario) -> datetime:
        rng, clock = self.rng, self.clock
        if sc.start_days_ago is not None:
            return clock.cutoff - timedelta(days=sc.start_days_ago, seconds=rng.randrange(600))
        x = rng.random() ** (1 / 1.3)  # denser towards the cut-off: a growing funnel
        day = clock.start.date() + timedelta(days=int(x * WINDOW_DAYS))
        if rng.random() < 0.75:
            secs = 9 * 3600 + rng.randrange(9 * 3600)
        else:
            secs = rng.randrange(24 * 3600)
        return datetime.combine(day, time.min) + timedelta(seconds=secs)

    def _referral_date(self, sc: Scenario) -> datetime:
        """When a referral-only lead arrived: the sheet has no such column, so it is hidden."""
        clock = self.clock
        days = sc.start_days_ago if sc.start_days_ago is not None else self.rng.uniform(1, 115)
        return self._work_hours(clock.cutoff - timedelta(days=days))

    def _emit_intake(
        self, story: Story, p: Person, sc: Scenario, rec: Intake, owner: str | None
    ) -> None:
        if rec.channel == WEB:
            story.add(WEB, Row(rec.at, p.pid, self._web_fields(p, sc, rec), rec.plant))
        elif rec.channel in (BADGE_ZH, BADGE_EN):
            story.add(
                rec.channel, Row(rec.at, p.pid, self._badge_cells(p, sc, rec, owner), rec.plant)
            )

    def _web_fields(self, p: Person, sc: Scenario, rec: Intake) -> dict[str, Any]:
        rng, c = self.rng, p.company
        source, medium, campaign = rng.choice(vocab.UTM_CAMPAIGNS)
        quarter = f"{rec.at.year}q{(rec.at.month - 1) // 3 + 1}"
        utm: dict[str, str | None] = {"source": source, "medium": medium}
        utm["campaign"] = campaign.format(q=quarter)
        if rng.random() < 0.25:  # typed the address directly: no UTM parameters
            utm = {"source": None, "medium": None, "campaign": None}
        frame = rng.choice(vocab.WEB_MESSAGE_FRAMES)
        message = frame.format(need=self._need(c), size=c.size, industry=c.industry)
        return {
            "submitted_at": rec.at.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "contact": {
                "name": p.name,
                "title": p.title if rng.random() < 0.8 else "",
                "phone": rec.phone,
                "email": rec.email,
            },
            "company": {
                "name": c.name,
                "industry": c.industry,
                "city": c.city.name,
                "size": c.size,
            },
            "message": message,
            "utm": utm,
        }

    def _badge_cells(self, p: Person, sc: Scenario, rec: Intake, owner: str | None) -> list[str]:
        rng, c = self.rng, p.company
        zh = rec.channel == BADGE_ZH
        if rec.plant is not None and rec.plant.check == "unparseable_value":
            when = f"{rec.at.year}-13-45 25:61"
        else:
            when = rec.at.strftime("%Y-%m-%d %H:%M:%S" if zh else "%Y-%m-%d %H:%M")
        notes = self._badge_note(zh, single_line=rec.plant is not None)
        if rec.plant is not None and rec.plant.check == "undecodable":
            notes = "展台咨询" + UNDECODABLE_MARK
        rep = owner or rng.choice(BOOTH_REPS_ZH if zh else BOOTH_REPS_EN)
        cells = [when, p.name, p.title, c.name, c.industry, rec.phone, rec.email, c.city.name, rep]
        cells.append(notes)
        if zh:  # booth staff grade on the spot, sometimes (R2)
            cells.append(sc.grade if sc.grade and rng.random() < 0.5 else "")
        return cells

    def _badge_note(self, zh: bool, *, single_line: bool) -> str:
        """Booth notes; the first two of each file surely need CSV quoting (newline, comma)."""
        made = self._notes_made[zh]
        self._notes_made[zh] += 0 if single_line else 1
        r = self.rng.random()
        if made == 0 and not single_line:
            r = 0.0
        elif made == 1 and not single_line:
            r = 0.2
        if r < 0.12 and not single_line:
            return self.rng.choice(
                vocab.BADGE_NOTES_ZH_NEWLINE if zh else vocab.BADGE_NOTES_EN_NEWLINE
            )
        if r < 0.3:
            return self.rng.choice(vocab.BADGE_NOTES_ZH_COMMA if zh else vocab.BADGE_NOTES_EN_COMMA)
        return self.rng.choice(vocab.BADGE_NOTES_ZH if zh else vocab.BADGE_NOTES_EN)

    def _need(self, c: Company) -> str:
        rng = self.rng
        pool = vocab.NEEDS_BY_INDUSTRY.get(c.industry, ())
        need = rng.choice(pool) if pool and rng.random() < 0.35 else rng.choice(vocab.NEEDS_COMMON)
        tail = rng.choice(vocab.NEED_TAILS) if "," not in need else ""
        return self._fill(need + tail)

    # -- follow-ups and status -------------------------------------------------------------

    def _work(
        self, sc: Scenario, start: datetime, staff: Staffing
    ) -> tuple[list[FollowUp], list[Status], str]:
        """Follow-ups at the grade's cadence, then the status changes they lead to."""
        rng, grade = self.rng, sc.grade or "C"
        low, high = {"won": (4, 8), "lost": (3, 6), "churned": (4, 7)}.get(sc.outcome, (3, 7))
        if sc.plants:
            low = max(low, 3)  # room for the planted rows
        times = self._contact_times(start, grade, rng.randint(low, high))
        if not times:
            return [], [], grade
        outcome = sc.outcome
        if outcome in ("won", "churned") and len(times) < 3:
            outcome = "open"
        grades = self._grades(grade, outcome, len(times))
        ups = []
        for k, at in enumerate(times):
            graded, facts = self._grade_fields(k, grades, sc)
            ups.append(self._follow_up(k, at, graded, facts, self._rep(staff, at)))
        statuses = self._statuses(ups, outcome, sc, grades[-1])
        self._close_plan(ups, sc, statuses[-1].label if statuses else "潜在")
        self._plant_follow_ups(ups, sc)  # after statuses copied reps: plants stay on their row
        return ups, statuses, grades[-1]

    def _contact_times(self, start: datetime, grade: str, n: int) -> list[datetime]:
        rng, limit = self.rng, self.clock.last_event
        first = rng.uniform(0.3, 20) if rng.random() < 0.8 else rng.uniform(26, 96)  # R3: 24 h
        at = self._work_hours(start + timedelta(hours=first))
        times = []
        while len(times) < n and at < limit:
            times.append(at)
            if len(times) < 3:  # quick early touches (material, a call back), then R5 cadence
                gap = rng.uniform(1, 4)
            else:
                gap = CADENCE_DAYS[grade] * rng.uniform(0.6, 1.2)
            at = self._work_hours(at + timedelta(days=gap))
        return times

    def _work_hours(self, at: datetime) -> datetime:
        """Move a time into office hours, mostly on a working day."""
        rng = self.rng
        if at.hour < 9:
            at = at.replace(hour=9, minute=rng.randrange(60))
        elif at.hour >= 19:
            at = (at + timedelta(days=1)).replace(hour=9, minute=rng.randrange(60))
        if at.weekday() >= 5 and rng.random() < 0.8:
            at += timedelta(days=7 - at.weekday())
        return at.replace(second=0, microsecond=0)

    @staticmethod
    def _grades(initial: str, outcome: str, n: int) -> list[str]:
        """Grade in force at each follow-up: won leads end as A, lost A leads drop (R8)."""
        grades = [initial] * n
        if outcome in ("won", "churned") and initial != "A":
            for k in range(min(2, n - 1), n):
                grades[k] = "A"
        elif outcome == "lost" and initial == "A":
            grades[-1] = "B"
        return grades

    def _grade_fields(self, k: int, grades: list[str], sc: Scenario) -> tuple[str, Facts]:
        """A manual grade and/or grade facts (C7): mostly on the first follow-up and on changes."""
        rng, grade = self.rng, grades[k]
        if k == 0:
            r = rng.random()
            if r < 0.65 or "invalid_grade" in sc.plants:
                return grade, self._facts(grade) if rng.random() < 0.7 else BLANK_FACTS
            return ("", self._facts(grade)) if r < 0.9 else ("", BLANK_FACTS)
        if grades[k] != grades[k - 1]:
            return grade, self._facts(grade)
        return ("", self._facts(grade)) if rng.random() < 0.12 else ("", BLANK_FACTS)

    def _facts(self, grade: str) -> Facts:
        """Grade facts consistent with R2: budget, amount, decision days, chain, need clarity."""
        rng = self.rng
        if grade == "A":
            amount = str(rng.randrange(200, 1000, 10) * 1000)
            return "是", amount, str(rng.randint(15, 45)), "是", "clear"
        if grade == "B":
            confirmed = rng.random() < 0.5
            amount = str(rng.randrange(50, 300, 10) * 1000) if confirmed else ""
            return ("是" if confirmed else "否"), amount, str(rng.randint(45, 120)), "否", "partial"
        days = str(rng.choice((180, 270, 365))) if rng.random() < 0.4 else ""
        return "否", "", days, "否", "vague"

    def _follow_up(self, k: int, at: datetime, grade: str, facts: Facts, rep: str) -> FollowUp:
        """One contact in R7 style; the k-th contact's goal follows R6 (needs, quote, deal)."""
        rng = self.rng
        channel = FOLLOW_UP_CHANNELS(rng)
        if k == 0 and channel in ("拜访", "演示"):
            channel = "电话"  # a first contact is a call, not a visit
        responded = self._responded(channel)
        english = rep == ENGLISH_REP
        objection = ""
        days: int | None
        if responded == "否":
            no_answer = vocab.FEEDBACK_NO_ANSWER.get(channel, "未回复")
            feedback = vocab.NO_ANSWER_EN if english else no_answer
            action, days = rng.choice(vocab.NEXT_RETRY)
        elif responded == "":
            feedback, action, days = "已发送产品资料和报价单", "3日后电话确认是否收到", 3
        elif english:
            feedback = self._fill(rng.choice(vocab.FEEDBACK_EN))
            objection = rng.choice(vocab.OBJECTIONS_EN) if rng.random() < 0.5 else ""
            action, days = rng.choice(vocab.NEXT_ACTIONS_EN)
        else:
            stages = (vocab.FEEDBACK_CONFIRM, vocab.FEEDBACK_QUOTE, vocab.FEEDBACK_NEGOTIATE)
            feedback = self._fill(rng.choice(stages[min(k, 2)]))
            objection = rng.choice(vocab.OBJECTIONS) if rng.random() < 0.5 else ""
            action, days = rng.choice(vocab.NEXT_ACTIONS)
        if days is None:  # "next Tuesday"
            days = (1 - at.weekday()) % 7 or 7
        due = at.date() + timedelta(days=days) if rng.random() < 0.9 else None
        logged = self._logged(at)
        return FollowUp(
            at, channel, responded, feedback, objection, action, due, rep, logged, grade, facts
        )

    def _fill(self, template: str) -> str:
        """Fill a text template's slots; draws only for templates that have any."""
        if "{" not in template:
            return template
        rng = self.rng
        return template.format(
            n=rng.randrange(10, 200, 5),
            m=rng.randint(1, 6),
            b=rng.randrange(20, 100, 5),
            title=rng.choice(vocab.TITLES_ZH),
            boss=rng.choice(vocab.BOSSES),
        )

    def _responded(self, channel: str) -> str:
        r = self.rng.random()
        if channel in ("拜访", "演示"):
            return "是"
        if channel == "邮件":
            return "是" if r < 0.45 else ("否" if r < 0.65 else "")
        if channel == "微信":
            return "是" if r < 0.7 else ("否" if r < 0.85 else "")
        return "是" if r < 0.8 else "否"

    def _logged(self, at: datetime) -> datetime:
        """R7: mostly logged within the hour, some late; never after the cut-off."""
        rng = self.rng
        late = rng.random() < 0.15
        logged = at + timedelta(minutes=rng.randint(65, 26 * 60) if late else rng.randint(2, 55))
        if logged >= self.clock.cutoff:
            logged = at + timedelta(minutes=rng.randint(2, 55))
        return logged

    def _statuses(
        self, ups: list[FollowUp], outcome: str, sc: Scenario, grade: str
    ) -> list[Status]:
        """Status changes (R8): potential -> intent -> won, some lost, a few churned."""
        rng, clock = self.rng, self.clock
        last = ups[-1]
        out: list[Status] = []
        reaches_intent = outcome != "open" or rng.random() < 0.6
        if len(ups) >= 2 and reaches_intent and not (outcome == "lost" and rng.random() < 0.3):
            out.append(
                Status(ups[1].at + timedelta(minutes=rng.randint(10, 120)), "意向", "", ups[1].rep)
            )
        if outcome in ("won", "churned"):
            won_at = self._after(last.at, rng.uniform(4, 72))
            if won_at is None:
                return out
            if sc.won_recent:  # inside the status channel's 7-day freshness window
                won_at = max(won_at, datetime.combine(clock.as_of - timedelta(days=4), time(15)))
            low, high = {"A": (200, 1000), "B": (50, 300), "C": (20, 100)}[grade]
            out.append(Status(won_at, "成交", str(rng.randrange(low, high, 5) * 1000), last.rep))
            churn_at = self._after(won_at, rng.uniform(20, 60) * 24)
            if outcome == "churned" and churn_at is not None:
                out.append(Status(churn_at, "流失", rng.choice(vocab.CHURN_REASONS), last.rep))
        elif outcome == "lost":
            lost_at = self._after(last.at, rng.uniform(24, 25 * 24))
            if lost_at is not None:
                reason = LOST_REASONS(rng)
                out.append(Status(lost_at, "流失", reason, last.rep))
        return out

    def _after(self, at: datetime, hours: float) -> datetime | None:
        """`hours` after `at` in office hours, pulled back before the cut-off; None if no room."""
        limit = self.clock.last_event
        later = self._work_hours(at + timedelta(hours=hours))
        if later >= limit:
            later = at + (limit - at) / 2
        if later - at < timedelta(hours=1):
            return None
        return later.replace(second=0, microsecond=0)

    def _close_plan(self, ups: list[FollowUp], sc: Scenario, status: str) -> None:
        """The last follow-up's next action: what makes a lead due, overdue or planless (C8)."""
        rng, last, as_of = self.rng, ups[-1], self.clock.as_of
        if status == "成交":
            last.next_action, days = vocab.NEXT_WON
            last.due = last.at.date() + timedelta(days=days)
        elif status == "流失" or sc.due == "none" or (sc.due is None and rng.random() < 0.08):
            last.next_action, last.due = "", None
        elif sc.due == "today":
            last.next_action, last.due = "按约定时间电话确认报价审批结果", as_of
        elif sc.due == "overdue":
            last.due = max(last.at.date() + timedelta(days=1), as_of - timedelta(days=5))
            last.due = min(last.due, as_of - timedelta(days=1))
            last.next_action = last.next_action or "5个工作日内提交正式报价"

    def _plant_follow_ups(self, ups: list[FollowUp], sc: Scenario) -> None:
        """Spoil distinct follow-ups of a host: the graded first one gets the bad grade."""
        free = list(range(len(ups)))
        for name in sc.plants:
            if name not in FOLLOW_UP_PLANTS:
                continue
            k = 0 if name == "invalid_grade" else next((i for i in free if i > 0), None)
            if k is None or k not in free:
                continue
            free.remove(k)
            up = ups[k]
            up.plant = PLANTS[name]
            if name == "unknown_owner":
                up.rep = UNKNOWN_REP
            elif name == "logged_before_contact":
                up.logged_at = up.at - timedelta(minutes=self.rng.randint(30, 180))
            elif name == "invalid_grade":
                up.grade = "X"

    @staticmethod
    def _follow_up_cells(up: FollowUp) -> list[str]:
        due = up.due.isoformat() if up.due else ""
        return [
            up.channel,
            up.responded,
            up.feedback,
            up.objection,
            up.next_action,
            due,
            up.rep,
            f"{up.logged_at:%Y-%m-%d %H:%M}",
            up.grade,
            *up.facts,
        ]

    # -- care ------------------------------------------------------------------------------

    def _care(
        self, p: Person, ups: list[FollowUp], statuses: list[Status], grade: str, skip: float
    ) -> list[Care]:
        """R9 care for won customers until they churn; R10 nurture material for open A leads."""
        rng, clock = self.rng, self.clock
        labels = [s.label for s in statuses]
        out: list[Care] = []
        if "成交" in labels:
            won_at = statuses[labels.index("成交")].at
            end = statuses[-1].at if labels[-1] == "流失" else clock.last_event
            onboarding = self._after(won_at, rng.uniform(4, 48))
            if onboarding is not None and onboarding < end:
                out.append(Care(onboarding, "material", vocab.CARE_MATERIAL_ONBOARDING))
            for k in range(1, 5):
                at = self._work_hours(won_at + timedelta(days=30 * k + rng.uniform(-3, 3)))
                if at < end and rng.random() * skip < 0.85:  # a skipped month is care due
                    note = vocab.CARE_SURVEY.format(m=at.month, score=rng.randint(6, 10))
                    out.append(Care(at, "survey", note))
            for start in quarter_starts(won_at.date(), end.date()):  # last quarter's report
                at = self._work_hours(
                    datetime.combine(start, time(10)) + timedelta(days=rng.uniform(2, 12))
                )
                last = start - timedelta(days=1)
                if won_at < at < end and rng.random() * skip < 0.9:
                    note = vocab.CARE_REPORT.format(y=last.year, q=(last.month - 1) // 3 + 1)
                    out.append(Care(at, "report", note))
            for day, note in festivals(won_at.date(), end.date()):
                at = datetime.combine(day, time(9)) + timedelta(minutes=rng.randint(0, 120))
                if rng.random() * skip < 0.8 and won_at < at < end:
                    out.append(Care(at, "greeting", note))
            founded = p.company.founded
            for year in range(won_at.year, end.year + 1):
                day = date(year, founded.month, founded.day)
                at = datetime.combine(day, time(9, 30))
                if won_at < at < end:  # planned long before: never skipped
                    note = vocab.ANNIVERSARY.format(n=year - founded.year)
                    out.append(Care(at, "greeting", note))
        elif grade == "A" and ups and "流失" not in labels:
            at = ups[0].at + timedelta(days=7)
            while at < clock.last_event:
                when = self._work_hours(at)
                if rng.random() < 0.7 and when < clock.last_event:
                    note = rng.choice(vocab.CARE_MATERIAL_NURTURE).format(
                        industry=p.company.industry
                    )
                    out.append(Care(when, "material", note))
                at += timedelta(days=14 + rng.uniform(-3, 3))
        out.sort(key=lambda c: c.at)
        return out

    # -- referral sheet --------------------------------------------------------------------

    def _referral_cells(
        self,
        p: Person,
        sc: Scenario,
        rec: Intake,
        ups: list[FollowUp],
        cares: list[Care],
        grade: str | None,
        status: str,
        owner: str | None,
    ) -> list[str]:
        """The cells after 序号: the R12 template's 13, then first responder and tags."""
        rng, c = self.rng, p.company
        contact = p.name if rng.random() < 0.25 else f"{p.name}/{p.title}"
        phone = rec.phone.translate(FULLWIDTH) if sc.fullwidth else rec.phone
        details = " / ".join(x for x in (phone, rec.email) if x)
        s1, s2 = rng.sample(vocab.SURNAMES, 2)
        background = (
            f"{c.headcount}人企业，{c.revenue}；决策链：采购部{s1[0]}经理、IT部{s2[0]}总监；"
            f"痛点：{rng.choice(vocab.PAIN_POINTS)}"
        )
        final = grade or "C"
        plan = vocab.PLANS[final].format(goal=vocab.PLAN_GOALS[min(len(ups), 2)])
        records = "\n".join(
            f"{u.at:%Y-%m-%d} {u.channel}：{u.feedback}"
            + (f"；下一步：{u.next_action}" if u.next_action else "")
            for u in ups[-3:]
        )
        care = "；".join(f"{x.at:%Y-%m-%d} {x.note}" for x in cares[-2:])
        competitors = "、".join(rng.sample(vocab.COMPETITORS, 2))
        notes = "；".join(x for x in (f"竞品：{competitors}", rng.choice(vocab.SPECIAL_NEEDS)) if x)
        return [
            rng.choice(vocab.REFERRAL_SOURCES),
            f"{c.name}/{c.industry}",
            contact,
            details,
            self._need(c),
            final,
            background,
            plan,
            records,
            care,
            status,
            owner or "",
            notes,
            ups[0].rep if ups else (owner or ""),
            referral_tags(p, final),
        ]


# R4's tags as reps type them: separators and spellings vary from row to row (full-width,
# case), chosen from the person's number so the rest of the demo's random draws stay the same.
TAG_SEPARATORS = (",", "，", "、", ";", "/", " / ", "；")


def referral_tags(p: Person, grade: str) -> str:
    """The 客户标签 cell of a sheet row: industry, size, decision chain, price, sometimes VIP."""
    n = int(p.pid[1:])
    c = p.company
    tags = [c.industry, "中小企业" if c.headcount < 500 else "大型企业"]
    if grade != "A":
        tags.append("决策链复杂")
    if n % 3 == 0:
        tags.append("关注性价比")
    if n % 4 == 1:
        tags.append(("VIP", "vip", "ＶＩＰ", "Vip")[n % 4 + (n // 4) % 3])
    return TAG_SEPARATORS[n % len(TAG_SEPARATORS)].join(tags)


class Referrer:
    """How an activity row names its lead (C3): by e-mail, phone, or company + person name."""

    def __init__(
        self,
        person: Person,
        keys: set[tuple[str, str]],
        rng: random.Random,
        *,
        named: bool = True,
    ) -> None:
        self.person = person
        self.emails = sorted(v for k, v in keys if k == "email" and v)
        self.mobiles = sorted(v for k, v in keys if k == "mobile" and v)
        self.rng = rng
        modes = [m for m, ok in (("email", self.emails), ("phone", self.mobiles)) if ok]
        if named:
            modes.append("name")
        self.pick_mode = Weighted(modes, [REF_WEIGHTS[m] for m in modes])

    def cells(self, mode: str | None = None) -> list[str]:
        """客户名称, 联系人, 联系电话, 邮箱 of one activity row."""
        rng, p = self.rng, self.person
        mode = mode or self.pick_mode(rng)
        company = p.company.name if mode == "name" or rng.random() < 0.5 else ""
        if mode == "email":
            return [company, p.name, "", rng.choice(self.emails)]
        if mode == "phone":
            return [company, p.name, rng.choice(self.mobiles), ""]
        return [company, p.name, "", ""]


REF_WEIGHTS = {"email": 40, "phone": 35, "name": 25}
FOLLOW_UP_PLANTS = ("invalid_grade", "unknown_owner", "logged_before_contact", "duplicate_row")
UNDECODABLE_MARK = "@@UNDECODABLE@@"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def festivals(first: date, last: date) -> list[tuple[date, str]]:
    """Greeting dates (R9) strictly between two dates, from the fixed and lunar calendars."""
    out = []
    for year in range(first.year, last.year + 1):
        days = [(date(year, m, d), note) for m, d, note in vocab.FIXED_FESTIVALS]
        days += [(date(year, m, d), note) for m, d, note in vocab.LUNAR_FESTIVALS.get(year, ())]
        out += [(d, note) for d, note in days if first < d < last]
    return sorted(out)


def quarter_starts(first: date, last: date) -> list[date]:
    """First days of calendar quarters strictly between two dates."""
    out, year, month = [], first.year, (first.month - 1) // 3 * 3 + 1
    while True:
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
        start = date(year, month, 1)
        if start >= last:
            return out
        out.append(start)


def anniversary(as_of: date, days_ago: int, rng: random.Random) -> date:
    """A founding date whose anniversary falls `days_ago` days before as_of."""
    day = as_of - timedelta(days=days_ago)
    return date(day.year - rng.randint(5, 25), day.month, min(day.day, 28))
