"""Deterministic demo data: staff logins and a realistic portfolio of customer accounts.

``seed_demo()`` builds, from one integer seed and a fixed "today", the same rows and values
on every run: accounts with their segment, tier, plan, lifecycle stage and renewal dates,
contacts, MRR movements (new, expansion, contraction, churn, reactivation, in several
currencies), touchpoints and product usage events with a weekly rhythm.

It is built for size. Every account draws from its own random stream (seeded from the seed
and the account's number), so accounts are generated one chunk at a time with bounded memory,
and the rows go in with bulk statements: ``executemany`` on SQLite, ``COPY`` on PostgreSQL
(100,000 accounts and 10 million usage events in a few minutes).

The movements obey the rules of ``services.mrr_movement_record`` (new first, never below
zero, a churn removes all MRR, reactivation only after a churn, the sign matches the kind)
and the cached ``Account.mrr`` and ``Account.last_touch_at`` are set exactly as the
services would set them.

Usage carries signal for a health score: about one account in six either churned during the
usage window after its usage decayed for weeks (and its active users dwindled), or is still
paying but decaying now ("at risk").
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import queue
import random
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connections, transaction
from django.utils import timezone

from team.models import Role, User

from .models import (
    Account,
    ChurnReason,
    Contact,
    ContactRole,
    ExchangeRate,
    Language,
    LifecycleStage,
    MovementKind,
    MrrMovement,
    Segment,
    Tier,
    Touchpoint,
    TouchpointKind,
    UsageEvent,
)

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the published demo password
DEMO_CSM_EMAIL = "csm@demo.example"
DEMO_MANAGER_EMAIL = "manager@demo.example"
DEMO_ADMIN_EMAIL = "admin@demo.example"

DEFAULT_ACCOUNTS = 300
DEFAULT_EVENTS_PER_ACCOUNT = 130
DEFAULT_SEED = 2026
USAGE_DAYS = 182  # 26 weeks of usage, ending yesterday
CHUNK_ACCOUNTS = 1000
DEFAULT_HISTORY_ACCOUNTS = 2000  # surveys and loyalty: at most this many accounts (an even sample)
ONBOARDING_SHARE = 10  # onboarding plans: for at most this many times as many accounts
BULK_LOAD_ROWS = 100_000  # PostgreSQL: rebuild a table's indexes after loading at least this many rows

CENT = Decimal("0.01")
ZERO = Decimal("0")


def default_extra_csms(accounts: int) -> int:
    """How many CSMs besides the demo CSM: about 2,000 accounts each at scale, 4 at least."""
    return max(4, min(200, round(accounts / 2000)))


# ---------------------------------------------------------------- vocabulary


def _words(text: str) -> list[str]:
    return text.split()


_EN_FIRST = _words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony "
    "Betty Mark Sandra Paul Ashley Steven Emily Andrew Donna Joshua Michelle Kevin Carol Brian "
    "Amanda Priya Omar Sofia Lucas Hannah Noah Chloe Liam Grace Ethan Zoe Mateo Aisha"
)
_EN_LAST = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
    "Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill Campbell "
    "Mitchell Roberts Carter Phillips Evans Turner Patel Nguyen Okafor Schmidt Rossi Dubois"
)
_TR_FIRST = _words(
    "Ayşe Mehmet Elif Mustafa Zeynep Emre Fatma Can Deniz Burak Selin Hakan Ece Murat Merve "
    "Oğuz Gökhan Büşra Serkan Nur Kerem İrem Barış Damla Çağla Onur Şule Tolga Pınar Uğur"
)
_TR_LAST = _words(
    "Yılmaz Kaya Demir Şahin Çelik Yıldız Aydın Öztürk Arslan Doğan Kılıç Aslan Çetin Koç Kurt "
    "Özdemir Polat Erdoğan Güneş Aksoy Tekin Karaca Ünal Bulut"
)
_ZH_SURNAMES = (
    ("陳", "chen"), ("林", "lin"), ("黃", "huang"), ("張", "zhang"), ("李", "li"), ("王", "wang"),
    ("吳", "wu"), ("劉", "liu"), ("蔡", "cai"), ("楊", "yang"), ("許", "xu"), ("鄭", "zheng"),
    ("謝", "xie"), ("郭", "guo"), ("洪", "hong"), ("曾", "zeng"),
)  # fmt: skip
_ZH_GIVEN = (
    ("怡君", "yijun"), ("志明", "zhiming"), ("淑芬", "shufen"), ("建宏", "jianhong"),
    ("美玲", "meiling"), ("俊傑", "junjie"), ("雅婷", "yating"), ("家豪", "jiahao"),
    ("宗翰", "zonghan"), ("佩珊", "peishan"), ("文彬", "wenbin"), ("惠如", "huiru"),
    ("冠宇", "guanyu"), ("詩涵", "shihan"), ("承恩", "chengen"), ("欣怡", "xinyi"),
)  # fmt: skip
_ASCII = str.maketrans("çğıİöşüÇĞÖŞÜâîû", "cgiiosucgosuaiu")

_PREFIXES = _words(
    "Northwind Bluebird Summit Acme Brightline Cedar Ironclad Lumen Harbor Keystone Evergreen "
    "Silverline Redwood Granite Polar Quantum Meridian Pioneer Atlas Orbit Vertex Nimbus "
    "Crescent Falcon Horizon Juniper Beacon Copper Sterling Tidewater Maple Aurora Cobalt "
    "Driftwood Emerald Foxglove Highland Indigo Kestrel Lakeside Magnolia Nova Oakridge "
    "Prairie Riverbend Sapphire Trident Upland Velvet Willow Zenith Amber Basalt Clearwater "
    "Daybreak Everest Fjord Glacier Hawthorn Ivory Jetstream Kingfisher Lighthouse"
)
_CORES = _words(
    "Labs Logistics Analytics Health Foods Robotics Media Energy Capital Systems Software "
    "Retail Studios Networks Bio Freight Textiles Learning Security Cloud Motors Pharma Travel "
    "Legal Realty Dynamics Works Partners Solutions Supply Insurance Payments Hospitality "
    "Manufacturing Devices Marine Agritech Mobility Data Telecom"
)
_SUFFIXES = ("", "", "", "Inc.", "LLC", "Ltd", "Group", "GmbH", "SA", "BV", "Co.")
_TR_PREFIXES = _words("Anadolu Boğaziçi Ege Karadeniz Marmara Toros Kapadokya Efes Galata Kuzey Yeşil Mavi")
_TR_CORES = _words("Lojistik Yazılım Gıda Enerji Tekstil Sağlık Teknoloji İnşaat Turizm Otomotiv Kimya")
_TR_SUFFIXES = ("A.Ş.", "Ltd. Şti.", "A.Ş.")
_TW_PREFIXES = (
    ("Formosa", "formosa"), ("Taipei", "taipei"), ("Jade Mountain", "jade-mountain"),
    ("Kaohsiung", "kaohsiung"), ("Sun Moon", "sun-moon"), ("Tamsui", "tamsui"),
    ("Hsinchu", "hsinchu"), ("Alishan", "alishan"), ("台北", "taipei"), ("新竹", "hsinchu"),
    ("高雄", "kaohsiung"), ("玉山", "yushan"),
)  # fmt: skip
_TW_CORES_EN = _words("Precision Semiconductor Electronics Trading Optics Biotech Logistics Software")
_TW_CORES_ZH = (
    ("精密科技", "precision"), ("數位科技", "digital"), ("光電", "optics"), ("生技", "biotech"),
    ("物流", "logistics"), ("電子", "electronics"),
)  # fmt: skip

# Contract currencies other than the reporting one: (code, share of accounts, rate in USD, monthly drift).
_CURRENCIES = (
    ("EUR", 0.05, 1.08, 0.000),
    ("GBP", 0.04, 1.27, 0.000),
    ("TRY", 0.03, 0.055, -0.022),
    ("TWD", 0.03, 0.031, 0.000),
)
_SEGMENTS = (Segment.ENTERPRISE, Segment.MID_MARKET, Segment.SMB)
_SEGMENT_WEIGHTS = (0.10, 0.30, 0.60)
# median MRR (reporting currency), log-normal sigma, rounding step
_MRR_SCALE = {
    Segment.ENTERPRISE: (9000.0, 0.55, 100),
    Segment.MID_MARKET: (1800.0, 0.50, 10),
    Segment.SMB: (280.0, 0.60, 5),
}
# monthly hazards: churn, expansion, contraction
_HAZARDS = {
    Segment.ENTERPRISE: (0.010, 0.060, 0.012),
    Segment.MID_MARKET: (0.018, 0.045, 0.012),
    Segment.SMB: (0.028, 0.025, 0.010),
}
_REACTIVATION_HAZARD = 0.02
_PLANS = {
    Segment.ENTERPRISE: (("Enterprise", 0.8), ("Business", 0.2)),
    Segment.MID_MARKET: (("Business", 0.6), ("Growth", 0.4)),
    Segment.SMB: (("Growth", 0.45), ("Starter", 0.55)),
}
_CHURN_REASONS = (
    (ChurnReason.PRICE, 0.18),
    (ChurnReason.PRODUCT_FIT, 0.14),
    (ChurnReason.SUPPORT, 0.08),
    (ChurnReason.COMPETITOR, 0.16),
    (ChurnReason.BUDGET, 0.18),
    (ChurnReason.BUSINESS_CLOSED, 0.08),
    (ChurnReason.LOW_ADOPTION, 0.14),
    (ChurnReason.OTHER, 0.04),
)
_SUDDEN_REASONS = {ChurnReason.BUDGET, ChurnReason.BUSINESS_CLOSED, ChurnReason.OTHER}
# Relative usage per segment (events per account), normalised over the whole portfolio.
_USAGE_SIZE = {Segment.ENTERPRISE: 3.2, Segment.MID_MARKET: 1.3, Segment.SMB: 0.6}

# Weekly rhythm: Monday .. Sunday; hours of the day in the platform's time zone.
_WEEKDAY_WEIGHTS = (1.0, 1.08, 1.1, 1.05, 0.85, 0.22, 0.14)
_HOUR_WEIGHTS = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.06, 0.15, 0.4, 0.9, 1.0, 1.0, 0.95,
    0.65, 0.85, 1.0, 0.95, 0.85, 0.6, 0.35, 0.25, 0.2, 0.15, 0.1, 0.07,
)  # fmt: skip
_HOUR_CUM = list(itertools.accumulate(_HOUR_WEIGHTS))
_EVENTS = (
    # (name, properties as JSON text, weight)
    ("login", '{"method": "sso"}', 0.14),
    ("login", '{"method": "password"}', 0.12),
    ("report.viewed", '{"report": "pipeline"}', 0.09),
    ("report.viewed", '{"report": "revenue"}', 0.08),
    ("report.viewed", '{"report": "usage"}', 0.06),
    ("dashboard.viewed", "{}", 0.15),
    ("export.created", '{"format": "csv"}', 0.05),
    ("export.created", '{"format": "xlsx"}', 0.03),
    ("integration.synced", '{"integration": "salesforce"}', 0.07),
    ("integration.synced", '{"integration": "hubspot"}', 0.05),
    ("workflow.run", '{"trigger": "schedule"}', 0.05),
    ("workflow.run", '{"trigger": "manual"}', 0.04),
    ("user.invited", "{}", 0.02),
    ("api.called", '{"endpoint": "/v1/records"}', 0.05),
)
_EVENT_CHOICES = [(name, props) for name, props, _w in _EVENTS]
_EVENT_CUM = list(itertools.accumulate(w for _n, _p, w in _EVENTS))
_NO_CONTACT_SHARE = 0.12  # system events (syncs, API calls) without a person behind them

_ROLE_ACTIVITY = {
    ContactRole.CHAMPION: 3.0,
    ContactRole.USER: 2.0,
    ContactRole.DECISION_MAKER: 0.8,
    ContactRole.BILLING: 0.3,
}
_TOUCH_KINDS = (
    (TouchpointKind.EMAIL, 0.30),
    (TouchpointKind.CALL, 0.24),
    (TouchpointKind.MEETING, 0.15),
    (TouchpointKind.NOTE, 0.15),
    (TouchpointKind.SUPPORT, 0.11),
    (TouchpointKind.QBR, 0.05),
)
_TOUCH_RATE = {Segment.ENTERPRISE: 2.2, Segment.MID_MARKET: 0.9, Segment.SMB: 0.3}  # per month
_TOPICS = (
    "the rollout to the sales team", "SSO and user provisioning", "the Salesforce integration",
    "reporting needs for the board", "their renewal timeline", "adding seats for the new office",
    "API rate limits", "the onboarding plan", "data export to their warehouse",
    "workflow automation", "the new dashboard", "training for new hires", "pricing for next year",
    "a feature request for custom fields", "security review questions",
)  # fmt: skip
_OUTCOMES = (
    "Agreed next steps and sent a recap.", "They are happy with progress.",
    "Follow-up booked for next week.", "Shared two help articles.", "Will loop in their admin.",
    "Asked product for an estimate.", "No blockers for now.", "Sent the recording and slides.",
)  # fmt: skip
_RISK_OUTCOMES = (
    "Usage is down; they mentioned budget pressure.", "Champion is leaving; need a new sponsor.",
    "They are evaluating a competitor.", "Adoption is stalling in two teams.",
)  # fmt: skip
_ISSUES = (
    "sync errors with the CRM", "slow report loading", "a failed CSV import",
    "login problems after SSO change", "missing data in the usage dashboard",
    "webhook retries", "permissions for a new role",
)  # fmt: skip
_RESOLUTIONS = (
    "Resolved the same day.",
    "Fixed in the next release.",
    "Workaround shared.",
    "Escalated to engineering.",
)
_NOTES = (
    "Customer is expanding into a new region next quarter.", "Budget owner changed; update the account plan.",
    "Strong advocate; ask for a case study.", "Procurement requires a security questionnaire before renewal.",
    "Interested in the analytics add-on.", "Low logins from the support team; suggest a training.",
)  # fmt: skip


# ---------------------------------------------------------------- small helpers


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _next_anniversary(start: dt.date, today: dt.date) -> dt.date:
    """The first yearly anniversary of ``start`` on or after ``today`` (never ``start`` itself)."""
    years = max(1, today.year - start.year)
    renewal = _add_months(start, 12 * years)
    while renewal < today:
        years += 1
        renewal = _add_months(start, 12 * years)
    return renewal


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if not number:
            return out


def _slug(text: str) -> str:
    text = text.translate(_ASCII).lower()
    return "-".join("".join(ch if ch.isalnum() and ch.isascii() else " " for ch in text).split())


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)


class _Clock:
    """Local calendar days to UTC timestamps and back to database text, without datetime objects.

    Times are epoch seconds; ``text()`` gives ``YYYY-MM-DD HH:MM:SS`` in UTC, which both
    backends store (SQLite as is, PostgreSQL with ``+00`` appended).
    """

    def __init__(self, first: dt.date, last: dt.date) -> None:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.first = first
        self.midnights = []  # epoch of local midnight for each day first..last
        day = first
        while day <= last:
            self.midnights.append(int(dt.datetime.combine(day, dt.time(0), tzinfo=zone).timestamp()))
            day += dt.timedelta(days=1)
        self.first_utc_day = self.midnights[0] // 86400 - 1
        utc_days = (self.midnights[-1] // 86400 + 2) - self.first_utc_day
        base = dt.date(1970, 1, 1)
        self.dates = [(base + dt.timedelta(days=self.first_utc_day + i)).isoformat() for i in range(utc_days)]
        self.hms = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]

    def midnight(self, day: dt.date) -> int:
        return self.midnights[(day - self.first).days]

    def text(self, epoch: int) -> str:
        utc_day, sec = divmod(epoch, 86400)
        return f"{self.dates[utc_day - self.first_utc_day]} {self.hms[sec]}"


# ---------------------------------------------------------------- one account's plan


@dataclass(slots=True)
class _Movement:
    kind: str
    date: dt.date
    amount: Decimal  # signed, reporting currency
    original: Decimal
    currency: str
    rate: Decimal
    note: str


@dataclass(slots=True)
class _Plan:
    """Everything about one account that does not need other accounts or the database."""

    number: int
    segment: str
    currency: str
    contract_start: dt.date
    name: str
    domain: str
    movements: list[_Movement]
    tier: str
    plan: str
    stage: str
    renewal_date: dt.date | None
    churned_at: dt.date | None
    churn_reason: str
    acquisition_cost: Decimal | None
    mrr: Decimal
    language: str
    at_risk: bool
    # usage: relative intensity per usage day (None: the standard full-window profile)
    usage: list[float] | None
    usage_weight: float
    decaying: list[float] | None = field(default=None)  # per usage day: share of users still active


class _Rates:
    """Exchange rates as stored in the database, looked up as services.fx_rate_for does."""

    def __init__(self, rows: Iterable[tuple[str, dt.date, Decimal]]) -> None:
        self._by_currency: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
        for currency, valid_from, rate in sorted(rows):
            days, rates = self._by_currency.setdefault(currency, ([], []))
            days.append(valid_from)
            rates.append(rate)

    def on(self, currency: str, day: dt.date) -> Decimal:
        if currency == settings.REPORTING_CURRENCY:
            return Decimal("1")
        days, rates = self._by_currency[currency]
        index = bisect.bisect_right(days, day) - 1
        if index < 0:
            raise ValueError(f"no {currency} rate on {day}")
        return rates[index]


class _Planner:
    def __init__(self, *, seed: int, today: dt.date, rates: _Rates, currencies: list[tuple[str, float]]):
        self.seed = seed
        self.today = today
        self.rates = rates
        self.currencies = currencies
        self.usage_first = today - dt.timedelta(days=USAGE_DAYS)
        self.usage_last = today - dt.timedelta(days=1)
        self.weekday = [
            _WEEKDAY_WEIGHTS[(self.usage_first + dt.timedelta(days=i)).weekday()] for i in range(USAGE_DAYS)
        ]
        self.standard_weight = sum(self.weekday)

    def rng(self, number: int, stream: str = "") -> random.Random:
        return random.Random(f"{self.seed}/{number}{stream}")

    def plan(self, number: int) -> _Plan:
        rng = self.rng(number)
        today = self.today
        segment = rng.choices(_SEGMENTS, weights=_SEGMENT_WEIGHTS)[0]
        # Contract starts over three years, more of them recent (the business grows).
        days_ago = int(1095 * rng.random() ** 1.35)
        contract_start = today - dt.timedelta(days=days_ago)
        currency = settings.REPORTING_CURRENCY
        pick = rng.random()
        for code, share in self.currencies:
            if pick < share:
                currency = code
                break
            pick -= share
        name, domain, language = self._name(rng, number, currency)

        median, sigma, step = _MRR_SCALE[segment]
        start_mrr = max(step, round(rng.lognormvariate(math.log(median), sigma) / step) * step)
        movements: list[_Movement] = []
        total = ZERO  # MRR in the reporting currency after the movements so far
        local = Decimal(start_mrr)  # contract value in the account's currency, for sizing changes
        rate = self.rates.on(currency, contract_start)
        if currency != settings.REPORTING_CURRENCY:
            local = max(Decimal(1), (Decimal(start_mrr) / rate).quantize(Decimal(step)))
        plan_name = _weighted(rng, _PLANS[segment])

        def record(kind: str, day: dt.date, original: Decimal | None, note: str) -> None:
            nonlocal total
            fx = self.rates.on(currency, day)
            if original is None:  # churn: everything the account has
                signed = -total
                original = (total / fx).quantize(CENT)
            else:
                magnitude = (original * fx).quantize(CENT)
                signed = -magnitude if kind in (MovementKind.CONTRACTION, MovementKind.CHURN) else magnitude
            movements.append(_Movement(kind, day, signed, original, currency, fx, note))
            total += signed

        record(MovementKind.NEW, contract_start, local.quantize(CENT), f"New business: {plan_name} plan")
        churn_p, expansion_p, contraction_p = _HAZARDS[segment]
        active = True
        churned_at: dt.date | None = None
        churn_reason = ""
        last_expansion: dt.date | None = None
        last_reactivation: dt.date | None = None
        month = 1
        while True:
            day = _add_months(contract_start, month) + dt.timedelta(days=rng.randint(0, 20))
            if day > today:
                break
            month += 1
            roll = rng.random()
            if active:
                if roll < churn_p:
                    churn_reason = _weighted(rng, _CHURN_REASONS)
                    record(MovementKind.CHURN, day, None, f"Churned: {ChurnReason(churn_reason).label}")
                    active, churned_at = False, day
                elif roll < churn_p + expansion_p:
                    grow = (local * Decimal(rng.uniform(0.05, 0.4))).quantize(Decimal(1)) or Decimal(1)
                    seats = max(1, int(rng.uniform(1, 40)))
                    record(MovementKind.EXPANSION, day, grow, f"Upsell: {seats} more seats")
                    local += grow
                    last_expansion = day
                elif roll < churn_p + expansion_p + contraction_p:
                    shrink = (local * Decimal(rng.uniform(0.05, 0.3))).quantize(Decimal(1))
                    if shrink > 0 and total - (shrink * self.rates.on(currency, day)).quantize(CENT) > 0:
                        record(MovementKind.CONTRACTION, day, shrink, "Downgrade: fewer seats")
                        local -= shrink
            elif roll < _REACTIVATION_HAZARD:
                back = (local * Decimal(rng.uniform(0.6, 1.0))).quantize(Decimal(1)) or Decimal(1)
                record(MovementKind.REACTIVATION, day, back, "Came back after churning")
                local = back
                active, churned_at, churn_reason = True, None, ""
                last_reactivation = day

        tier = (
            Tier.PLATINUM
            if start_mrr >= 12000
            else Tier.GOLD
            if start_mrr >= 3000
            else Tier.SILVER
            if start_mrr >= 700
            else Tier.BRONZE
        )
        acquisition_cost = None
        if rng.random() < 0.85:
            acquisition_cost = (Decimal(start_mrr) * Decimal(rng.uniform(3, 14))).quantize(CENT)
        at_risk = active and days_ago >= 120 and rng.random() < 0.14
        renewal_date = _next_anniversary(contract_start, today) if active else None
        if not active:
            stage = LifecycleStage.CHURNED
        elif at_risk and rng.random() < 0.7:  # the CSM has noticed (the rest is for the health score)
            stage = LifecycleStage.AT_RISK
        elif last_reactivation and (today - last_reactivation).days < 120:
            stage = LifecycleStage.ADOPTION
        elif days_ago < 90:
            stage = LifecycleStage.ONBOARDING
        elif renewal_date and (renewal_date - today).days <= 60:
            stage = LifecycleStage.RENEWAL
        elif last_expansion and (today - last_expansion).days <= 180:
            stage = LifecycleStage.GROWTH
        else:
            stage = LifecycleStage.ADOPTION

        usage, decaying = self._usage_profile(
            rng, movements, at_risk, churn_reason, growing=stage == LifecycleStage.GROWTH
        )
        size = _USAGE_SIZE[segment] * rng.lognormvariate(-0.32, 0.8)  # mean of the noise ≈ 1
        weight = size * (self.standard_weight if usage is None else sum(usage))
        return _Plan(
            number=number,
            segment=segment,
            currency=currency,
            contract_start=contract_start,
            name=name,
            domain=domain,
            movements=movements,
            tier=tier,
            plan=plan_name,
            stage=stage,
            renewal_date=renewal_date,
            churned_at=churned_at,
            churn_reason=churn_reason,
            acquisition_cost=acquisition_cost,
            mrr=total,
            language=language,
            at_risk=at_risk,
            usage=usage,
            usage_weight=weight,
            decaying=decaying,
        )

    def _name(self, rng: random.Random, number: int, currency: str) -> tuple[str, str, str]:
        tag = _base36(number)
        if currency == "TRY":
            prefix, core = rng.choice(_TR_PREFIXES), rng.choice(_TR_CORES)
            name = f"{prefix} {core} {rng.choice(_TR_SUFFIXES)}"
            return name, f"{_slug(prefix + ' ' + core)}-{tag}.example", Language.TR
        if currency == "TWD":
            prefix, prefix_slug = rng.choice(_TW_PREFIXES)
            if prefix.isascii():
                core = rng.choice(_TW_CORES_EN)
                name, slug = f"{prefix} {core} Co., Ltd.", f"{prefix_slug}-{_slug(core)}"
            else:
                core, core_slug = rng.choice(_TW_CORES_ZH)
                name, slug = f"{prefix}{core}股份有限公司", f"{prefix_slug}-{core_slug}"
            return name, f"{slug}-{tag}.example", Language.ZH_HANT
        prefix, core, suffix = rng.choice(_PREFIXES), rng.choice(_CORES), rng.choice(_SUFFIXES)
        name = f"{prefix} {core}" + (f" {suffix}" if suffix else "")
        return name, f"{_slug(prefix + ' ' + core)}-{tag}.example", Language.EN

    def _usage_profile(
        self, rng: random.Random, movements: list[_Movement], at_risk: bool, churn_reason: str, growing: bool
    ) -> tuple[list[float] | None, list[float] | None]:
        """Relative usage on each day of the window (None: the standard profile, active throughout),
        and, for decaying accounts, the share of their users still active on each day."""
        first = self.usage_first
        active = False
        for movement in movements:
            if movement.date >= first:
                break
            active = movement.kind != MovementKind.CHURN
        in_window = [m for m in movements if m.date >= first]
        if not in_window and not at_risk and not growing:
            return (None, None) if active else ([0.0] * USAGE_DAYS, None)
        # Periods of the window with MRR: (start, end, started in the window, ended by a churn)
        periods: list[tuple[int, int, bool, bool]] = []
        start, started_here = 0, False
        for movement in in_window:
            index = (movement.date - first).days
            if movement.kind in (MovementKind.NEW, MovementKind.REACTIVATION) and not active:
                active, start, started_here = True, index, True
            elif movement.kind == MovementKind.CHURN and active:
                periods.append((start, index, started_here, True))
                active = False
        if active:
            periods.append((start, USAGE_DAYS, started_here, False))
        profile = [0.0] * USAGE_DAYS
        share: list[float] | None = None
        slope = rng.uniform(0.2, 0.6) if growing else 0.0
        for start, end, started_here, churned in periods:
            ramp = rng.randint(14, 40) if started_here else 0  # onboarding: usage builds up
            for i in range(start, end):
                level = 0.3 + 0.7 * (i - start) / ramp if i - start < ramp else 1.0
                profile[i] = level * (1 + slope * i / USAGE_DAYS)
            decays = (churned and (churn_reason not in _SUDDEN_REASONS or rng.random() < 0.6)) or (
                at_risk and not churned
            )
            if decays and end > start:
                share = share or [1.0] * USAGE_DAYS
                weeks = rng.randint(4, 10)
                floor = rng.uniform(0.05, 0.3)
                fade_start = max(start, end - weeks * 7)
                for i in range(fade_start, end):
                    fade = 1 - (1 - floor) * (i - fade_start + 1) / (end - fade_start)
                    profile[i] *= fade
                    share[i] = fade
        return profile, share


# ---------------------------------------------------------------- writing rows


class _Writer:
    """Bulk inserts: COPY on PostgreSQL, executemany on anything else."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.tz = "+00" if self.postgres else ""  # suffix of timestamp text (both are UTC)

    @staticmethod
    def _columns(model, fields: Sequence[str]) -> list[str]:
        return [model._meta.get_field(name).column for name in fields]

    def rows(self, model, fields: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        columns = self._columns(model, fields)
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            if self.postgres:
                sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'  # noqa: S608 - our names
                cursor.executemany(sql, rows)

    def lines(self, model, fields: Sequence[str], text: str) -> None:
        """Rows already in COPY text format (PostgreSQL only)."""
        columns = self._columns(model, fields)
        with self.connection.cursor() as cursor:
            sql = f'COPY "{model._meta.db_table}" ({", ".join(columns)}) FROM STDIN'
            with cursor.cursor.copy(sql) as copy:
                copy.write(text)


class _BulkLoad:
    """PostgreSQL loads many rows far faster into a table without its secondary indexes and
    outgoing foreign keys: they are dropped before and rebuilt after, from their own definitions,
    inside the seed's transaction (so a failure leaves them as they were). Rebuilding a foreign
    key checks every row with one join instead of one lookup per row."""

    def __init__(self, connection, models: Sequence[type], expected: dict[type, int]) -> None:
        self.connection = connection
        self.indexes: list[tuple[str, str]] = []  # (name, CREATE INDEX ...)
        self.foreign_keys: list[tuple[str, str, str]] = []  # (table, name, definition)
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                present = max(0, cursor.fetchone()[0])
                if expected.get(model, 0) < max(BULK_LOAD_ROWS, present):
                    continue  # a small load, or a big table already: maintain the indexes as usual
                cursor.execute(
                    """
                    SELECT index_class.relname, pg_get_indexdef(index_class.oid)
                    FROM pg_index JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
                    WHERE pg_index.indrelid = %s::regclass
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid)
                    ORDER BY 1
                    """,
                    [table],
                )
                self.indexes.extend(cursor.fetchall())
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
                    [table],
                )
                self.foreign_keys.extend((table, name, definition) for name, definition in cursor.fetchall())

    def __enter__(self) -> _BulkLoad:
        with self.connection.cursor() as cursor:
            for table, name, _definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _definition in self.indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            return  # the transaction rolls back, indexes and constraints included
        with self.connection.cursor() as cursor:
            for _name, definition in self.indexes:
                cursor.execute(definition)
            for table, name, definition in self.foreign_keys:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


# ---------------------------------------------------------------- the seed


@dataclass
class SeedReport:
    accounts: int = 0
    contacts: int = 0
    movements: int = 0
    touchpoints: int = 0
    events: int = 0
    exchange_rates: int = 0
    seconds: float = 0.0
    skipped: bool = False
    demo_csm_accounts: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)  # (role, email)
    onboarding: Any = None  # onboarding.demo.OnboardingDemoReport
    feedback: Any = None  # feedback.demo.FeedbackDemoReport
    loyalty: Any = None  # loyalty.demo.LoyaltyDemoReport
    timings: dict[str, float] = field(default_factory=dict)


_ACCOUNT_FIELDS = (
    "id", "name", "domain", "external_id", "segment", "tier", "plan", "lifecycle_stage", "owner",
    "contract_start", "renewal_date", "churned_at", "churn_reason", "acquisition_cost", "currency",
    "parent", "mrr", "last_touch_at", "created_at", "updated_at",
)  # fmt: skip
_CONTACT_FIELDS = ("id", "account", "name", "email", "role", "language", "accepts_surveys", "created_at")
_MOVEMENT_FIELDS = (
    "account", "kind", "date", "amount", "original_amount", "original_currency", "fx_rate", "note",
    "created_at",
)  # fmt: skip
_TOUCHPOINT_FIELDS = ("account", "author", "kind", "occurred_at", "summary", "contact", "created_at")
_EVENT_FIELDS = ("account", "contact", "name", "occurred_at", "properties")


def _ensure_staff(using: str, extra_csms: int, seed: int) -> tuple[list[User], User, User]:
    """The demo logins (created once, with the published password) and the extra CSMs."""
    manager = User.objects.db_manager(using)
    hashed = None

    def get_or_create(email: str, full_name: str, role: str, **extra) -> User:
        nonlocal hashed
        user = manager.filter(email__iexact=email).first()
        if user is None:
            hashed = hashed or make_password(DEMO_PASSWORD)
            create = manager.create_superuser if extra.pop("superuser", False) else manager.create_user
            user = create(email, None, full_name=full_name, role=role, **extra)
            user.password = hashed  # the validators do not apply to the published demo password
            user.save(update_fields=["password"], using=using)
        return user

    rng = random.Random(f"{seed}/staff")
    csms = [get_or_create(DEMO_CSM_EMAIL, "Casey Morgan", Role.CSM)]
    for number in range(2, extra_csms + 2):
        name = f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"
        csms.append(get_or_create(f"csm{number}@demo.example", name, Role.CSM))
    boss = get_or_create(DEMO_MANAGER_EMAIL, "Morgan Reyes", Role.MANAGER)
    admin = get_or_create(DEMO_ADMIN_EMAIL, "Alex Admin", Role.ADMIN, superuser=True)
    return csms, boss, admin


def _ensure_rates(using: str, seed: int, today: dt.date, currencies: list[str]) -> _Rates:
    """Monthly exchange rates for the demo currencies over the whole history (kept if present)."""
    first = (today - dt.timedelta(days=1095 + 40)).replace(day=1)
    rows = []
    for code, _share, base, drift in _CURRENCIES:
        if code not in currencies:
            continue
        rng = random.Random(f"{seed}/fx/{code}")
        month, index = first, 0
        while month <= today:
            rate = base * (1 + drift) ** index * (1 + rng.gauss(0, 0.012))
            rows.append(ExchangeRate(currency=code, valid_from=month, rate=Decimal(f"{rate:.8f}")))
            month, index = _add_months(month, 1), index + 1
    ExchangeRate.objects.using(using).bulk_create(rows, ignore_conflicts=True)
    stored = ExchangeRate.objects.using(using).filter(currency__in=currencies)
    return _Rates(stored.values_list("currency", "valid_from", "rate"))


def _contacts(x: random.Random, plan: _Plan, account_id: int, next_id: int, clock: _Clock, tz: str, today):
    size = {Segment.ENTERPRISE: (4, 8), Segment.MID_MARKET: (3, 6), Segment.SMB: (2, 4)}[plan.segment]
    count = x.randint(*size)
    rows, emails = [], set()
    domain = plan.domain
    tenure = (today - plan.contract_start).days
    for index in range(count):
        if index == 0:
            role = ContactRole.CHAMPION
        elif index == 1:
            role = ContactRole.DECISION_MAKER
        elif index == count - 1 and count >= 3:
            role = ContactRole.BILLING
        else:
            role = ContactRole.USER
        language = plan.language
        if x.random() < (0.05 if language == Language.EN else 0.15):
            language = x.choice([lang for lang in Language.values if lang != language])
        if language == Language.ZH_HANT:
            (surname, sur), (given, giv) = x.choice(_ZH_SURNAMES), x.choice(_ZH_GIVEN)
            name, local = f"{surname}{given}", f"{giv}.{sur}"
        else:
            first_names, last_names = (
                (_TR_FIRST, _TR_LAST) if language == Language.TR else (_EN_FIRST, _EN_LAST)
            )
            first, last = x.choice(first_names), x.choice(last_names)
            name, local = f"{first} {last}", f"{first}.{last}".translate(_ASCII).lower()
        if role == ContactRole.BILLING and x.random() < 0.5:
            local = "billing" if language == Language.EN else "finance"
        email = f"{local}@{domain}"
        suffix = 2
        while email in emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        emails.add(email)
        joined = clock.midnight(
            plan.contract_start + dt.timedelta(days=x.randint(0, max(0, min(60, tenure))))
        )
        rows.append(
            (
                next_id + index,
                account_id,
                name,
                email,
                role,
                language,
                x.random() >= 0.07,
                clock.text(joined + 36000 + x.randrange(3600)) + tz,
            )
        )
    return rows


def _touchpoints(
    x, plan: _Plan, account_id, owner_id, contacts, clock: _Clock, tz: str, today
) -> tuple[list, int]:
    """Touchpoints from the contract start until shortly after a churn (or yesterday)."""
    last_day = today - dt.timedelta(days=1)
    if plan.churned_at:
        last_day = min(last_day, plan.churned_at + dt.timedelta(days=14))
    span = (last_day - plan.contract_start).days
    if span < 0:
        return [], 0
    expected = _TOUCH_RATE[plan.segment] * (span + 1) / 30.4 * x.lognormvariate(0, 0.4)
    count = min(400, int(expected + x.random()))
    if count == 0 and span > 45:
        count = 1  # every established account has been touched at least once
    rows, newest = [], 0
    kinds = [kind for kind, _w in _TOUCH_KINDS]
    weights = [w for _k, w in _TOUCH_KINDS]
    risky_from = today - dt.timedelta(days=75)
    for _index in range(count):
        day = plan.contract_start + dt.timedelta(days=x.randint(0, span))
        kind = x.choices(kinds, weights=weights)[0]
        if kind == TouchpointKind.QBR and plan.segment == Segment.SMB:
            kind = TouchpointKind.CALL
        contact = x.choice(contacts) if contacts and x.random() < 0.75 else None
        first = contact[2].split(" ")[0] if contact else "the team"
        risky = (plan.at_risk or plan.churned_at) and day >= risky_from
        outcome = x.choice(_RISK_OUTCOMES if risky and x.random() < 0.6 else _OUTCOMES)
        if kind == TouchpointKind.CALL:
            summary = f"Call with {first} about {x.choice(_TOPICS)}. {outcome}"
        elif kind == TouchpointKind.MEETING:
            summary = f"Meeting with {first} on {x.choice(_TOPICS)}. {outcome}"
        elif kind == TouchpointKind.EMAIL:
            summary = f"Emailed {first} about {x.choice(_TOPICS)}."
        elif kind == TouchpointKind.QBR:
            summary = (
                f"Quarterly business review with {first}: adoption, goals and {x.choice(_TOPICS)}. {outcome}"
            )
        elif kind == TouchpointKind.SUPPORT:
            summary = (
                f"Support ticket #{x.randint(10000, 99999)}: {x.choice(_ISSUES)}. {x.choice(_RESOLUTIONS)}"
            )
        else:
            summary = x.choice(_RISK_OUTCOMES) if risky else x.choice(_NOTES)
        epoch = clock.midnight(day) + x.randint(8 * 3600, 18 * 3600)
        newest = max(newest, epoch)
        when = clock.text(epoch) + tz
        rows.append((account_id, owner_id, kind, when, summary, contact[0] if contact else None, when))
    return rows, newest


class _Usage:
    """Usage events for one account at a time, as COPY text (PostgreSQL) or tuples (SQLite)."""

    def __init__(self, planner: _Planner, clock: _Clock) -> None:
        self.days = list(range(USAGE_DAYS))
        self.midnights = [clock.midnight(planner.usage_first + dt.timedelta(days=i)) for i in self.days]
        self.weekday = planner.weekday
        self.standard_cum = list(itertools.accumulate(planner.weekday))
        self.clock = clock

    def generate(
        self, x: random.Random, plan: _Plan, account_id: int, contacts: list[tuple], count: int, out, copy
    ):
        if count <= 0:
            return 0
        if plan.usage is None:
            cum = self.standard_cum
        else:
            cum = list(itertools.accumulate(w * u for w, u in zip(self.weekday, plan.usage, strict=True)))
            if cum[-1] <= 0:
                return 0
        # Contacts, most active first; decaying accounts keep only their most active users.
        pool = sorted(contacts, key=lambda row: -_ROLE_ACTIVITY[row[4]])
        pool_cum = list(itertools.accumulate(_ROLE_ACTIVITY[row[4]] for row in pool))
        ids = [str(row[0]) for row in pool] if copy else [row[0] for row in pool]
        if plan.decaying:
            size = len(pool)
            limits = [pool_cum[max(1, math.ceil(size * share)) - 1] for share in plan.decaying]
        else:
            limits = [pool_cum[-1]] * USAGE_DAYS
        days = x.choices(self.days, cum_weights=cum, k=count)
        hours = x.choices(range(24), cum_weights=_HOUR_CUM, k=count)
        kinds = x.choices(_EVENT_CHOICES, cum_weights=_EVENT_CUM, k=count)
        rnd = x.random
        midnights, dates, hms, first_utc = (
            self.midnights,
            self.clock.dates,
            self.clock.hms,
            self.clock.first_utc_day,
        )
        none = "\\N" if copy else None
        no_contact = _NO_CONTACT_SHARE
        bisect_right = bisect.bisect_right
        aid = str(account_id) if copy else account_id
        for day, hour, (name, props) in zip(days, hours, kinds, strict=True):
            utc_day, sec = divmod(midnights[day] + hour * 3600 + int(rnd() * 3600), 86400)
            roll = rnd()
            if roll < no_contact:
                contact = none
            else:
                contact = ids[bisect_right(pool_cum, (roll - no_contact) / (1 - no_contact) * limits[day])]
            when = f"{dates[utc_day - first_utc]} {hms[sec]}"
            if copy:
                out.append(f"{aid}\t{contact}\t{name}\t{when}+00\t{props}\n")
            else:
                out.append((aid, contact, name, when, props))
        return count


def _max_id(connection, model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT MAX("{model._meta.pk.column}") FROM "{model._meta.db_table}"')  # noqa: S608
        return cursor.fetchone()[0] or 0


@dataclass
class _Chunk:
    accounts: list[tuple]
    contacts: list[tuple]
    movements: list[tuple]
    touchpoints: list[tuple]
    events: list  # COPY text lines (PostgreSQL) or tuples
    event_count: int
    demo_csm_accounts: int


class _Rows:
    """Turns account plans into rows for every table, one chunk of accounts at a time."""

    def __init__(
        self, *, planner, usage, clock, numbers, scale, csm_ids, account_id, contact_id, taken, copy, tz
    ):
        self.planner, self.usage, self.clock = planner, usage, clock
        self.numbers, self.scale, self.csm_ids = numbers, scale, csm_ids
        self.account_id, self.contact_id, self.taken = account_id, contact_id, taken
        self.copy, self.tz = copy, tz
        self.enterprise_ids: list[int] = []
        self.now_text = timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") + tz

    def chunks(self, size: int = CHUNK_ACCOUNTS):
        for start in range(0, len(self.numbers), size):
            yield self.chunk(self.numbers[start : start + size])

    def chunk(self, numbers: Iterable[int]) -> _Chunk:
        planner, clock, tz, today = self.planner, self.clock, self.tz, self.planner.today
        chunk = _Chunk([], [], [], [], [], 0, 0)
        for number in numbers:
            plan = planner.plan(number)
            x = planner.rng(number, "/x")
            account_id = self.account_id
            self.account_id += 1
            owner_id = None if x.random() < 0.01 else self.csm_ids[x.randrange(len(self.csm_ids))]
            chunk.demo_csm_accounts += owner_id == self.csm_ids[0]
            parent_id = None
            if plan.segment != Segment.ENTERPRISE and self.enterprise_ids and x.random() < 0.05:
                parent_id = self.enterprise_ids[x.randrange(len(self.enterprise_ids))]
            elif plan.segment == Segment.ENTERPRISE:
                self.enterprise_ids.append(account_id)
            while plan.domain in self.taken:
                plan.domain = "x" + plan.domain
            contacts = _contacts(x, plan, account_id, self.contact_id, clock, tz, today)
            self.contact_id += len(contacts)
            chunk.contacts.extend(contacts)
            touches, newest = _touchpoints(x, plan, account_id, owner_id, contacts, clock, tz, today)
            chunk.touchpoints.extend(touches)
            for m in plan.movements:
                recorded = clock.text(clock.midnight(m.date) + 43200) + tz
                chunk.movements.append(
                    (account_id, m.kind, m.date, m.amount, m.original, m.currency, m.rate, m.note, recorded)
                )
            count = int(self.scale * plan.usage_weight + x.random())
            chunk.event_count += self.usage.generate(
                x, plan, account_id, contacts, count, chunk.events, self.copy
            )
            chunk.accounts.append(
                (
                    account_id,
                    plan.name,
                    plan.domain,
                    f"CRM-{number + 1:07d}" if x.random() < 0.9 else None,
                    plan.segment,
                    plan.tier,
                    plan.plan,
                    plan.stage,
                    owner_id,
                    plan.contract_start,
                    plan.renewal_date,
                    plan.churned_at,
                    plan.churn_reason,
                    plan.acquisition_cost,
                    plan.currency,
                    parent_id,
                    plan.mrr,  # Σ movements up to today, as services keep it
                    clock.text(newest) + tz if newest else None,  # the newest touchpoint
                    clock.text(clock.midnight(plan.contract_start) + 32400) + tz,
                    self.now_text,
                )
            )
        return chunk


def _write(writer: _Writer, chunk: _Chunk) -> None:
    writer.rows(Account, _ACCOUNT_FIELDS, chunk.accounts)
    writer.rows(Contact, _CONTACT_FIELDS, chunk.contacts)
    writer.rows(MrrMovement, _MOVEMENT_FIELDS, chunk.movements)
    writer.rows(Touchpoint, _TOUCHPOINT_FIELDS, chunk.touchpoints)
    if writer.postgres:
        writer.lines(UsageEvent, _EVENT_FIELDS, "".join(chunk.events))
    else:
        writer.rows(UsageEvent, _EVENT_FIELDS, chunk.events)


def _pipeline(
    connection,
    chunks: Iterable[_Chunk],
    write: Callable[[_Chunk], None],
    done: Callable[[_Chunk], None],
) -> None:
    """Generate the next chunk while the database stores the previous one (the two use two cores).

    The writing thread is the only one touching the connection while this runs.
    """
    pending: queue.Queue[_Chunk | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def consume() -> None:
        while (chunk := pending.get()) is not None:
            if failure:
                continue  # drain after an error
            try:
                write(chunk)
                done(chunk)
            except BaseException as exc:  # handed to the main thread
                failure.append(exc)

    worker = threading.Thread(target=consume, name="seed-demo-writer", daemon=True)
    connection.inc_thread_sharing()
    worker.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        worker.join()
        connection.dec_thread_sharing()
    if failure:
        raise failure[0]


def seed_demo(
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    events_per_account: float = DEFAULT_EVENTS_PER_ACCOUNT,
    seed: int = DEFAULT_SEED,
    extra_csms: int | None = None,
    today: dt.date | None = None,
    if_empty: bool = False,
    progress: bool = False,
    using: str = "default",
    log: Callable[[str], None] | None = None,
    history_accounts: int = DEFAULT_HISTORY_ACCOUNTS,
) -> SeedReport:
    """Generate the demo portfolio. Same arguments (and the same database content before), same rows.

    When the database already has accounts, the new ones are added after them (their numbers,
    domains and external ids continue from the count), unless ``if_empty`` makes it a no-op.
    Everything is written in one transaction.

    The new accounts also get their history in the other parts of the product (see
    ``_seed_history``): onboarding plans, survey campaigns and answers with their follow-ups,
    and the loyalty programme. Surveys and loyalty cover at most ``history_accounts`` of them
    and onboarding ten times as many (even samples), so a portfolio of 100,000 accounts still
    seeds in minutes.
    """
    started = time.monotonic()
    log = log or (lambda message: None)
    report = SeedReport()
    connection = connections[using]
    existing = Account.objects.using(using).count()
    if if_empty and existing:
        report.skipped = True
        return report
    today = today or timezone.localdate()
    extra_csms = default_extra_csms(accounts) if extra_csms is None else extra_csms
    currencies = [(code, share) for code, share, _b, _d in _CURRENCIES if code != settings.REPORTING_CURRENCY]
    writer = _Writer(connection)
    clock = _Clock(today - dt.timedelta(days=1100), today + dt.timedelta(days=1))

    with transaction.atomic(using=using):
        if writer.postgres:
            with connection.cursor() as cursor:
                # Nobody else adds accounts or contacts while their ids are handed out here.
                cursor.execute("LOCK TABLE accounts_account, accounts_contact IN EXCLUSIVE MODE")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                # Check foreign keys statement by statement (and anything pending from an enclosing
                # transaction now), so no trigger events are pending when tables are altered below.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        csms, boss, admin = _ensure_staff(using, extra_csms, seed)
        rates = _ensure_rates(using, seed, today, [code for code, _s in currencies])
        report.exchange_rates = sum(len(days) for days, _r in rates._by_currency.values())
        planner = _Planner(seed=seed, today=today, rates=rates, currencies=currencies)
        numbers = range(existing, existing + accounts)

        # Pass 1: the usage weight of every account, so the events add up to what was asked.
        tick = time.monotonic()
        total_weight = 0.0
        for number in _progress(numbers, progress, "Planning"):
            total_weight += planner.plan(number).usage_weight
        report.timings["plan"] = time.monotonic() - tick

        # Pass 2: rows, one chunk of accounts at a time.
        tick = time.monotonic()
        first_account_id = _max_id(connection, Account) + 1
        rows = _Rows(
            planner=planner,
            usage=_Usage(planner, clock),
            clock=clock,
            numbers=numbers,
            scale=accounts * events_per_account / total_weight if total_weight else 0.0,
            csm_ids=[user.pk for user in csms],
            account_id=first_account_id,
            contact_id=_max_id(connection, Contact) + 1,
            taken={d.lower() for d in Account.objects.using(using).values_list("domain", flat=True)}
            if existing
            else set(),
            copy=writer.postgres,
            tz=writer.tz,
        )
        bar = _progress(None, progress, "Seeding", total=accounts)

        def written(chunk: _Chunk) -> None:
            report.accounts += len(chunk.accounts)
            report.contacts += len(chunk.contacts)
            report.movements += len(chunk.movements)
            report.touchpoints += len(chunk.touchpoints)
            report.events += chunk.event_count
            report.demo_csm_accounts += chunk.demo_csm_accounts
            bar.update(len(chunk.accounts))
            bar.set_postfix(events=f"{report.events:,}", refresh=False)

        if writer.postgres:
            expected = {
                UsageEvent: int(accounts * events_per_account),
                Touchpoint: accounts * 8,
                Contact: accounts * 3,
                MrrMovement: accounts * 2,
            }
            with _BulkLoad(connection, list(expected), expected) as bulk:
                _pipeline(connection, rows.chunks(), partial(_write, writer), written)
                bar.close()
                report.timings["insert"] = time.monotonic() - tick
                tick = time.monotonic()
                log(f"Rebuilding {len(bulk.indexes)} indexes and {len(bulk.foreign_keys)} foreign keys…")
            report.timings["indexes"] = time.monotonic() - tick
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Account, Contact]):
                    cursor.execute(sql)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default
        else:
            for chunk in rows.chunks():
                _write(writer, chunk)
                written(chunk)
            bar.close()
            report.timings["insert"] = time.monotonic() - tick
        tick = time.monotonic()
        _seed_history(
            report=report,
            seed=seed,
            today=today,
            accounts=Account.objects.using(using).filter(pk__gte=first_account_id),
            csm=csms[0],
            manager=boss,
            using=using,
            history_accounts=history_accounts,
        )
        report.timings["history"] = time.monotonic() - tick
        tick = time.monotonic()
    report.timings["commit"] = time.monotonic() - tick

    if writer.postgres:
        tick = time.monotonic()
        # Statistics for the planner; VACUUM also sets the visibility map, so index-only scans
        # work from the start (it cannot run inside a transaction, e.g. a test's).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        log(f"Updating the planner's statistics ({command})…")
        with connection.cursor() as cursor:
            for model in (Account, Contact, MrrMovement, Touchpoint, UsageEvent, ExchangeRate):
                cursor.execute(f'{command} "{model._meta.db_table}"')
        report.timings["analyze"] = time.monotonic() - tick
    report.logins = [("CSM", csms[0].email), ("manager", boss.email), ("admin", admin.email)]
    report.seconds = time.monotonic() - started
    return report


def _seed_history(
    *,
    report: SeedReport,
    seed: int,
    today: dt.date,
    accounts,
    csm,
    manager,
    using: str,
    history_accounts: int,
) -> None:
    """Onboarding plans, survey history and the loyalty programme of the new accounts, in this
    order (answers follow onboarding; points follow answers and milestones)."""
    from django.db.models import F
    from django.db.models.functions import Mod

    from feedback.demo import demo_feedback_seed
    from loyalty.demo import demo_loyalty_seed
    from onboarding.demo import demo_onboarding_seed

    # Onboarding plans for every account of the last year, or for an even sample of at most
    # ONBOARDING_SHARE x history_accounts accounts (bench_onboarding --seed plans the rest).
    onboarding_accounts = accounts
    count, first = accounts.count(), accounts.order_by("pk").values_list("pk", flat=True).first()
    limit = ONBOARDING_SHARE * history_accounts
    if count > limit:
        stride = math.ceil(count / limit)
        onboarding_accounts = accounts.annotate(_offset=Mod(F("pk") - first, stride)).filter(_offset=0)
    report.onboarding = demo_onboarding_seed(
        rng=random.Random(f"{seed}/onboarding"), accounts=onboarding_accounts, today=today, using=using
    )
    report.feedback = demo_feedback_seed(
        rng=random.Random(f"{seed}/feedback"),
        accounts=accounts,
        today=today,
        created_by=manager,
        csm=csm,
        using=using,
        max_accounts=history_accounts,
    )
    report.loyalty = demo_loyalty_seed(
        rng=random.Random(f"{seed}/loyalty"),
        accounts=accounts,
        today=today,
        manager=manager,
        csm=csm,
        using=using,
        max_accounts=history_accounts,
    )


def _progress(iterable, enabled: bool, description: str, total: int | None = None):
    from tqdm import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=description,
        unit=" accounts",
        unit_scale=True,
        disable=not enabled,
        file=sys.stderr,
        leave=False,
        smoothing=0.1,
    )
