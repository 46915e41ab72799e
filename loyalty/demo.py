"""Demo loyalty programme: a reward catalog, the points the accounts earned over the last
eleven months through the earn rules (survey answers, onboarding milestones, renewals,
webinars, advocacy, referrals), redemptions in every state, referrals (one flagged by the fraud
rules) and advocacy asks of promoters.

The ledger is written as ``services`` would have written it, event by event in time order:
the same idempotency keys, sources and reasons as the receivers and services use, the earn
rules' caps per day, month and year, ``balance_after`` the running balance, expiry dates for
credits, ``PointsBalance`` equal to the ledger's sums, and a tier raised (with its
``TierChange``) the moment an earn qualifies the account for a higher one. Holds are taken only
from a balance that covers them, and rejected redemptions have their refund entry.

The programme starts ``PROGRAMME_DAYS`` ago, so no point is due to expire (or to be warned
about) for weeks: the nightly jobs have nothing to catch up on. Nothing is emailed, enqueued or
emitted. Deterministic for a seed, accounts and ``today``, except the member links' tokens
(secrets). Above ``max_accounts`` accounts, an even sample of that many accounts takes part.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account, Contact, ContactRole, Tier

from . import conf
from .models import (
    AdvocacyAsk,
    AskKind,
    AskStatus,
    EarnEvent,
    EarnRule,
    EntryKind,
    FraudFlag,
    LedgerEntry,
    LinkKind,
    MemberLink,
    PointsBalance,
    Redemption,
    RedemptionChannel,
    RedemptionStatus,
    Referral,
    ReferralStatus,
    Reward,
    RewardKind,
    TierChange,
    TierRule,
)
from .services import TIER_ORDER, add_months, tier_target

PROGRAMME_DAYS = 330
DEFAULT_MAX_ACCOUNTS = 2_000
BATCH = 2_000

REWARDS = [
    # name, kind, cost, stock, per account, description
    ("Donation to Code.org", RewardKind.DONATION, 250, None, None, "We give $25 in your team's name."),
    ("Branded hoodie", RewardKind.SWAG, 400, 150, 3, "Soft, warm and shipped to your office."),
    ("$50 gift card", RewardKind.GIFT_CARD, 600, None, None, "An Amazon or local gift card, by email."),
    (
        "VIP ticket: Customer Summit",
        RewardKind.VIP_TICKET,
        2500,
        25,
        2,
        "Front row, speaker dinner included.",
    ),
    ("One month of account credit", RewardKind.CREDIT, 3000, None, None, "Credited on the next invoice."),
    ("10% off the renewal", RewardKind.DISCOUNT, 5000, None, 1, "Applied by finance at the next renewal."),
]
WEBINARS = [
    "Building your first board report",
    "Automating the weekly pipeline review",
    "Admin office hours: SSO and roles",
    "What's new this quarter",
    "Forecasting with usage data",
]
REFERRED = [
    ("Brightpath Analytics", "brightpath-analytics.example", "Jordan Blake"),
    ("Ocean Crest Logistics", "oceancrest-logistics.example", "Mina Park"),
    ("Kite & Key Studios", "kiteandkey.example", "Leo Martins"),
    ("Tandem Health Partners", "tandemhealth.example", "Ruth Adeyemi"),
    ("Northfield Robotics", "northfield-robotics.example", "Sam Ortega"),
]
FULFIL_NOTES = [
    "Sent by email.",
    "Shipped with tracking.",
    "Applied to the next invoice.",
    "Confirmed by finance.",
]


@dataclass
class LoyaltyDemoReport:
    rewards: int = 0
    members: int = 0
    entries: int = 0
    redemptions: int = 0
    referrals: int = 0
    asks: int = 0
    tier_changes: int = 0


@dataclass
class _Event:
    when: dt.datetime
    account_id: int
    event: str
    key: str
    source: str
    reason: str
    contact_id: int | None = None


def _aware(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _chunks(items: list, size: int = 900) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rank(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else 0


def demo_loyalty_seed(
    *,
    rng: random.Random,
    accounts: QuerySet[Account],
    today: dt.date,
    manager,
    csm=None,
    using: str = "default",
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
) -> LoyaltyDemoReport:
    """The programme's history for the given accounts, up to the end of yesterday. A second run
    adds nothing (the catalog exists)."""
    from feedback.demo import _sample

    report = LoyaltyDemoReport()
    if Reward.objects.using(using).exists() or LedgerEntry.objects.using(using).exists():
        return report
    now = _aware(today, 0)
    launch = now - dt.timedelta(days=PROGRAMME_DAYS)
    rows = list(
        accounts.using(using)
        .filter(contract_start__lt=today)
        .order_by("pk")
        .values_list("pk", "name", "domain", "owner_id", "contract_start", "churned_at", "tier", "created_at")
    )
    rows = _sample(rows, max_accounts)
    if not rows:
        return report
    book = {row[0]: row for row in rows}
    ids = list(book)
    contacts: dict[int, list[tuple]] = defaultdict(list)
    for chunk in _chunks(ids):
        for row in (
            Contact.objects.using(using)
            .filter(account_id__in=chunk)
            .order_by("pk")
            .values_list("pk", "account_id", "name", "email", "role")
        ):
            contacts[row[1]].append(row)

    def champion(account_id: int) -> tuple | None:
        found = [c for c in contacts[account_id] if c[4] == ContactRole.CHAMPION]
        return (found or contacts[account_id] or [None])[0]

    rewards = [
        Reward(name=name, kind=kind, cost=cost, stock=stock, per_account_limit=limit, description=text)
        for name, kind, cost, stock, limit, text in REWARDS
    ]
    Reward.objects.using(using).bulk_create(rewards)
    report.rewards = len(rewards)

    events: list[_Event] = []
    events += _survey_events(ids, launch, now, using)
    events += _onboarding_events(ids, launch, now, using)
    for pk, _name, _domain, _owner, start, churned_at, _tier, _created in rows:
        years = 1
        while (day := add_months(start, 12 * years)) < today:
            when = _aware(day, 6)
            if when >= launch and (churned_at is None or churned_at > day):
                events.append(
                    _Event(
                        when,
                        pk,
                        EarnEvent.RENEWAL,
                        f"renewal:{pk}:{day.isoformat()}",
                        "crm",
                        f"Renewal {day.year}",
                    )
                )
            years += 1
    # Monthly webinars, on the second Thursday; a few contacts of some accounts attend.
    webinar_days = []
    month = launch.date().replace(day=1)
    while month < today:
        thursday = month + dt.timedelta(days=(3 - month.weekday()) % 7 + 7)
        if launch.date() <= thursday < today:
            webinar_days.append(thursday)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    for pk in ids:
        if rng.random() < 0.3 and book[pk][5] is None:
            for number, day in enumerate(webinar_days):
                for contact in contacts[pk]:
                    if rng.random() < 0.18:
                        title = WEBINARS[number % len(WEBINARS)]
                        events.append(
                            _Event(
                                _aware(day, 16),
                                pk,
                                EarnEvent.WEBINAR_ATTENDED,
                                f"webinar:{day.isoformat()}:{contact[0]}",
                                "webinar",
                                f"Webinar attended: {title}",
                                contact[0],
                            )
                        )

    promoters = _promoters(ids, launch, now, using)
    referrals, links = _referrals(rng, rows, book, contacts, champion, promoters, launch, now, manager, csm)
    MemberLink.objects.using(using).bulk_create(links)
    for referral in referrals:
        referral.link_id = referral.link.pk if referral.link else None
    Referral.objects.using(using).bulk_create(referrals)
    report.referrals = len(referrals)
    for referral in referrals:
        if referral.status == ReferralStatus.CONVERTED:
            converted = book[referral.converted_account_id]
            events.append(
                _Event(
                    referral.converted_at,
                    referral.referrer_account_id,
                    EarnEvent.REFERRAL_CONVERTED,
                    f"referral:{referral.pk}:converted",
                    f"loyalty.referral:{referral.pk}",
                    f"Referred {converted[1]}, now a customer",
                    referral.referrer_contact_id,
                )
            )
            events.append(
                _Event(
                    referral.converted_at,
                    converted[0],
                    EarnEvent.WELCOME_CREDIT,
                    f"referral:{referral.pk}:welcome",
                    f"loyalty.referral:{referral.pk}",
                    f"Welcome: referred by {book[referral.referrer_account_id][1]}",
                )
            )
    asks = _asks(rng, promoters, book, contacts, now, manager)
    AdvocacyAsk.objects.using(using).bulk_create(asks)
    report.asks = len(asks)
    kinds = dict(AskKind.choices)
    names = {c[0]: c[2] for cs in contacts.values() for c in cs}
    for ask in asks:
        if ask.status == AskStatus.DONE:
            events.append(
                _Event(
                    ask.done_at,
                    promoters[ask.contact_id][0],
                    _ASK_EVENTS[ask.kind],
                    f"advocacy:{ask.pk}:done",
                    f"loyalty.advocacyask:{ask.pk}",
                    f"{kinds[ask.kind]} by {names[ask.contact_id]}",
                    ask.contact_id,
                )
            )

    # ---- the earn history, event by event, under the caps; tiers raised as services do
    rules = {r.event: r for r in EarnRule.objects.using(using).filter(is_active=True)}
    tier_rules = list(TierRule.objects.using(using).all())
    labels = dict(EarnEvent.choices)
    by_account: dict[int, list[_Event]] = defaultdict(list)
    for event in events:
        by_account[event.account_id].append(event)
    ledger: dict[int, list[dict]] = {}
    tier_changes: list[TierChange] = []
    new_tier: dict[int, str] = {}
    for account_id in sorted(by_account):
        account = book[account_id]
        earned: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
        lifetime, tier, entries = 0, account[6], []
        for event in sorted(by_account[account_id], key=lambda e: (e.when, e.key)):
            rule = rules.get(event.event)
            if rule is None:
                continue
            points = _cap_room(rule, earned[event.event], event.when)
            if points <= 0:
                continue
            earned[event.event].append((event.when, points))
            lifetime += points
            entries.append(
                {
                    "when": event.when,
                    "kind": EntryKind.EARN,
                    "event": event.event,
                    "points": points,
                    "reason": event.reason or str(labels[event.event]),
                    "source": event.source,
                    "key": event.key,
                    "contact_id": event.contact_id,
                    "by": None,
                }
            )
            target = tier_target(
                lifetime=lifetime,
                contract_start=account[4],
                rules=tier_rules,
                today=timezone.localdate(event.when),
            )
            if _rank(target) > _rank(tier):
                tier_changes.append(
                    TierChange(
                        account_id=account_id,
                        from_tier=tier,
                        to_tier=target,
                        reason=f"Reached {lifetime:,} lifetime points"[:300],
                        changed_at=event.when,
                    )
                )
                tier = target
        if entries:
            ledger[account_id] = entries
            if tier != account[6]:
                new_tier[account_id] = tier
    report.members = len(ledger)

    # ---- redemptions: from balances that cover them, in every state
    redemptions = _redemptions(rng, ledger, rewards, book, champion, now, manager)
    # A rejected one needs its refund entry, which names it: written as pending, then closed.
    final = {id(r): r.status for r, _e in redemptions}
    for redemption, _entries in redemptions:
        if redemption.status == RedemptionStatus.REJECTED:
            redemption.status = RedemptionStatus.PENDING
    Redemption.objects.using(using).bulk_create([r for r, _e in redemptions])
    for redemption, _entries in redemptions:
        redemption.status = final[id(redemption)]
    report.redemptions = len(redemptions)
    for redemption, entries in redemptions:
        for entry in entries:
            entry["key"] = entry["key"].format(pk=redemption.pk)
            entry["source"] = f"loyalty.redemption:{redemption.pk}"
            entry["redemption"] = redemption

    # ---- the ledger rows, balances and tiers
    months = conf.expire_months()
    rows_out: list[LedgerEntry] = []
    balances: list[PointsBalance] = []
    links_back: list[tuple[Redemption, str, LedgerEntry]] = []
    for account_id in sorted(ledger):
        balance = lifetime = 0
        for item in sorted(ledger[account_id], key=lambda e: (e["when"], e["key"])):
            balance += item["points"]
            if balance < 0:  # never: holds are taken from a balance that covers them
                raise AssertionError(f"demo ledger below zero for account {account_id}")
            credit = item["kind"] == EntryKind.EARN
            if credit:
                lifetime += item["points"]
            entry = LedgerEntry(
                account_id=account_id,
                contact_id=item["contact_id"],
                kind=item["kind"],
                event=item["event"],
                points=item["points"],
                balance_after=balance,
                reason=item["reason"][:500],
                source=item["source"][:200],
                idempotency_key=item["key"],
                created_at=item["when"],
                expires_on=add_months(timezone.localdate(item["when"]), months)
                if credit and months
                else None,
                created_by_id=item["by"],
            )
            rows_out.append(entry)
            if "redemption" in item:
                links_back.append((item["redemption"], item["kind"], entry))
        balances.append(PointsBalance(account_id=account_id, balance=balance, lifetime=max(0, lifetime)))
    for batch in _chunks(rows_out, BATCH):
        LedgerEntry.objects.using(using).bulk_create(batch)
    report.entries = len(rows_out)
    PointsBalance.objects.using(using).bulk_create(balances, batch_size=BATCH)
    for redemption, kind, entry in links_back:
        if kind == EntryKind.REDEEM:
            redemption.hold_entry_id = entry.pk
        else:
            redemption.refund_entry_id = entry.pk
    Redemption.objects.using(using).bulk_update(
        [r for r, _e in redemptions], ["status", "hold_entry", "refund_entry"], batch_size=BATCH
    )
    held = defaultdict(int)
    for redemption, _entries in redemptions:
        if redemption.status not in (RedemptionStatus.REJECTED, RedemptionStatus.RETURNED):
            held[redemption.reward_id] += 1
    for reward in rewards:
        if reward.stock is not None and held[reward.pk]:
            reward.stock -= held[reward.pk]
            reward.save(update_fields=["stock"], using=using)
    TierChange.objects.using(using).bulk_create(tier_changes, batch_size=BATCH)
    report.tier_changes = len(tier_changes)
    for tier in Tier.values:
        changed = [pk for pk, t in new_tier.items() if t == tier]
        for chunk in _chunks(changed):
            Account.objects.using(using).filter(pk__in=chunk).update(tier=tier)
    return report


_ASK_EVENTS = {
    AskKind.REVIEW: EarnEvent.REVIEW_PUBLISHED,
    AskKind.CASE_STUDY: EarnEvent.CASE_STUDY,
    AskKind.REFERENCE_CALL: EarnEvent.REFERENCE_CALL,
    AskKind.TESTIMONIAL: EarnEvent.TESTIMONIAL,
    AskKind.TALK: EarnEvent.TALK,
}


def _cap_room(rule: EarnRule, earned: list[tuple[dt.datetime, int]], when: dt.datetime) -> int:
    """``services._cap_room`` over the account's earlier entries for the event."""
    local = timezone.localtime(when)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    room = rule.points
    for cap, start in (
        (rule.cap_per_day, day_start),
        (rule.cap_per_month, day_start.replace(day=1)),
        (rule.cap_per_year, day_start.replace(month=1, day=1)),
    ):
        if cap is not None:
            room = min(room, max(0, cap - sum(p for t, p in earned if t >= start)))
    return room


def _survey_events(ids: list[int], launch, now, using: str) -> list[_Event]:
    from django.apps import apps

    if not apps.is_installed("feedback"):
        return []
    from feedback.models import Response

    events = []
    for chunk in _chunks(ids):
        for pk, account_id, contact_id, answered_at in (
            Response.objects.using(using)
            .filter(account_id__in=chunk, answered_at__gte=launch, answered_at__lt=now)
            .values_list("pk", "account_id", "contact_id", "answered_at")
        ):
            events.append(
                _Event(
                    answered_at,
                    account_id,
                    EarnEvent.SURVEY_ANSWERED,
                    f"survey-response:{pk}",
                    f"feedback.response:{pk}",
                    "",
                    contact_id,
                )
            )
    return events


def _onboarding_events(ids: list[int], launch, now, using: str) -> list[_Event]:
    from django.apps import apps

    if not apps.is_installed("onboarding"):
        return []
    from onboarding.models import Milestone, MilestoneStatus, OnboardingPlan

    events = []
    for chunk in _chunks(ids):
        for pk, account_id, name, done_at in (
            Milestone.objects.using(using)
            .filter(
                plan__account_id__in=chunk,
                status=MilestoneStatus.DONE,
                first_done_at__gte=launch,
                first_done_at__lt=now,
            )
            .values_list("pk", "plan__account_id", "name", "first_done_at")
        ):
            events.append(
                _Event(
                    done_at,
                    account_id,
                    EarnEvent.MILESTONE_COMPLETED,
                    f"milestone:{pk}:completed",
                    f"onboarding.milestone:{pk}",
                    f"Milestone completed: {name}",
                )
            )
        for pk, account_id, completed_at in (
            OnboardingPlan.objects.using(using)
            .filter(account_id__in=chunk, completed_at__gte=launch, completed_at__lt=now)
            .values_list("pk", "account_id", "completed_at")
        ):
            events.append(
                _Event(
                    completed_at + dt.timedelta(seconds=1),
                    account_id,
                    EarnEvent.ONBOARDING_COMPLETED,
                    f"onboarding:{pk}:completed",
                    f"onboarding.plan:{pk}",
                    "",
                )
            )
    return events


def _promoters(ids: list[int], launch, now, using: str) -> dict[int, tuple[int, dt.datetime]]:
    """{contact id: (account id, when)} for contacts whose latest NPS answer is 9 or 10."""
    from django.apps import apps

    if not apps.is_installed("feedback"):
        return {}
    from feedback.models import Response

    latest: dict[int, tuple] = {}
    for chunk in _chunks(ids):
        for contact_id, account_id, score, answered_at in (
            Response.objects.using(using)
            .filter(account_id__in=chunk, kind="nps", score__isnull=False, answered_at__lt=now)
            .order_by("answered_at", "pk")
            .values_list("contact_id", "account_id", "score", "answered_at")
        ):
            latest[contact_id] = (account_id, score, answered_at)
    return {c: (a, when) for c, (a, score, when) in sorted(latest.items()) if score >= 9 and when >= launch}


def _referrals(rng, rows, book, contacts, champion, promoters, launch, now, manager, csm):
    """Referrals from promoters' accounts: two converted into demo accounts that started after
    them, qualified, submitted, one rejected and one flagged by the fraud rules."""
    referrers = sorted({a for a, _w in promoters.values() if book[a][5] is None})
    if not referrers:
        return [], []
    rng.shuffle(referrers)
    links: dict[int, MemberLink] = {}

    def link_for(account_id: int) -> MemberLink:
        if account_id not in links:
            contact = champion(account_id)
            links[account_id] = MemberLink(
                kind=LinkKind.REFERRAL,
                account_id=account_id,
                contact_id=contact[0] if contact else None,
                created_at=launch + dt.timedelta(days=rng.randint(5, 60)),
            )
        return links[account_id]

    referrals: list[Referral] = []
    newcomers = [
        row
        for row in rows
        if launch.date() + dt.timedelta(days=45) < row[4] < now.date() - dt.timedelta(days=20)
    ]
    used = set()
    for index in range(min(2, len(newcomers))):
        new = newcomers[rng.randrange(len(newcomers))]
        referrer = next((a for a in referrers if a != new[0] and book[a][4] < new[4]), None)
        if referrer is None or new[0] in used:
            continue
        used.add(new[0])
        link = link_for(referrer)
        link.created_at = min(link.created_at, new[7] - dt.timedelta(days=40))
        submitted = new[7] - dt.timedelta(days=rng.randint(20, 35), hours=rng.randint(0, 8))
        referrals.append(
            Referral(
                link=link,
                referrer_account_id=referrer,
                referrer_contact_id=link.contact_id,
                company_name=new[1],
                domain=new[2],
                contact_name=["Dana Kim", "Ali Vural"][index],
                contact_email=f"{['dana.kim', 'ali.vural'][index]}@{new[2]}",
                note="They asked how we report on usage.",
                status=ReferralStatus.CONVERTED,
                submitted_at=submitted,
                converted_account_id=new[0],
                converted_at=new[7] + dt.timedelta(minutes=2),
                reviewed_by=manager,
                reviewed_at=submitted + dt.timedelta(days=2),
                review_note="Warm intro; good fit.",
            )
        )
    plan = [
        (ReferralStatus.QUALIFIED, 40),
        (ReferralStatus.QUALIFIED, 18),
        (ReferralStatus.SUBMITTED, 6),
        (ReferralStatus.SUBMITTED, 2),
        (ReferralStatus.REJECTED, 70),
    ]
    for index, (status, days_ago) in enumerate(plan):
        referrer = referrers[(index + 1) % len(referrers)]
        link = link_for(referrer)
        company, domain, person = REFERRED[index]
        submitted = now - dt.timedelta(days=days_ago, hours=rng.randint(1, 9))
        link.created_at = min(link.created_at, submitted - dt.timedelta(days=3))
        reviewer = book[referrer][3]
        referral = Referral(
            link=link,
            referrer_account_id=referrer,
            referrer_contact_id=link.contact_id,
            company_name=company,
            domain=domain,
            contact_name=person,
            contact_email=f"{person.split()[0].lower()}@{domain}",
            status=status,
            submitted_at=submitted,
        )
        if status in (ReferralStatus.QUALIFIED, ReferralStatus.REJECTED):
            referral.reviewed_by_id = reviewer or manager.pk
            referral.reviewed_at = submitted + dt.timedelta(days=1)
            referral.review_note = (
                "Budget approved on their side." if status == "qualified" else "Not a fit: 3 users."
            )
        referrals.append(referral)
    # One the fraud rules flag: the referrer's own company, an existing customer.
    referrer = referrers[0]
    link = link_for(referrer)
    own = book[referrer]
    submitted = now - dt.timedelta(days=3, hours=4)
    flags = [FraudFlag.SELF_REFERRAL, FraudFlag.ALREADY_CUSTOMER]
    referrals.append(
        Referral(
            link=link,
            referrer_account_id=referrer,
            referrer_contact_id=link.contact_id,
            company_name=own[1],
            domain=own[2],
            contact_name="Chris Doe",
            contact_email=f"chris.doe@{own[2]}",
            status=ReferralStatus.FLAGGED,
            flags=[str(f) for f in flags],
            submitted_at=submitted,
            submitted_ip="203.0.113.7",
        )
    )
    return referrals, list(links.values())


def _asks(rng, promoters, book, contacts, now, manager) -> list[AdvocacyAsk]:
    """Asks of promoters (latest NPS 9-10): done (earning points), accepted, asked, declined."""
    candidates = [c for c, (a, _w) in promoters.items() if book[a][5] is None]
    rng.shuffle(candidates)
    plan = [
        (AskKind.REVIEW, AskStatus.DONE),
        (AskKind.TESTIMONIAL, AskStatus.DONE),
        (AskKind.REFERENCE_CALL, AskStatus.DONE),
        (AskKind.CASE_STUDY, AskStatus.DONE),
        (AskKind.REVIEW, AskStatus.DONE),
        (AskKind.CASE_STUDY, AskStatus.ACCEPTED),
        (AskKind.REFERENCE_CALL, AskStatus.ACCEPTED),
        (AskKind.TALK, AskStatus.ACCEPTED),
        (AskKind.REVIEW, AskStatus.ASKED),
        (AskKind.TESTIMONIAL, AskStatus.ASKED),
        (AskKind.REVIEW, AskStatus.ASKED),
        (AskKind.CASE_STUDY, AskStatus.DECLINED),
        (AskKind.TALK, AskStatus.DECLINED),
    ]
    asks = []
    for contact_id, (kind, status) in zip(candidates, plan, strict=False):
        account_id, promoted_at = promoters[contact_id]
        asked = promoted_at + dt.timedelta(days=rng.randint(2, 10), hours=rng.randint(0, 6))
        if asked >= now - dt.timedelta(days=1):
            asked = now - dt.timedelta(days=1, hours=3)
        done = None
        if status == AskStatus.DONE:
            done = min(asked + dt.timedelta(days=rng.randint(5, 30)), now - dt.timedelta(hours=2))
        asks.append(
            AdvocacyAsk(
                contact_id=contact_id,
                kind=kind,
                status=status,
                asked_by_id=book[account_id][3] or manager.pk,
                asked_at=asked,
                done_at=done,
                notes="Happy to help after their great NPS answer."
                if status != AskStatus.DECLINED
                else "Too busy this quarter.",
                link="https://reviews.example/acme"
                if status == AskStatus.DONE and kind == AskKind.REVIEW
                else "",
            )
        )
    return asks


def _redemptions(rng, ledger, rewards, book, champion, now, manager):
    """Requests from balances that cover them; the newest wait for the manager, a few are
    approved, one is rejected (refunded) and the rest are fulfilled."""
    by_cost = sorted(rewards, key=lambda r: r.cost)
    wanted = []
    for account_id in sorted(ledger):
        entries = sorted(ledger[account_id], key=lambda e: (e["when"], e["key"]))
        total = sum(e["points"] for e in entries)
        if total < by_cost[0].cost or rng.random() > 0.3:
            continue
        wanted.append((account_id, entries))
    plans = []
    remaining = {r.pk: r.stock for r in rewards}
    for account_id, entries in wanted:
        # any moment after enough was earned for the cheapest reward: the balance then covers it
        running, ready = 0, None
        for entry in entries:
            running += entry["points"]
            if running >= by_cost[0].cost:
                ready = entry["when"]
                break
        end = now - dt.timedelta(hours=2)
        when = ready + (end - ready) * rng.random() ** 0.8 + dt.timedelta(seconds=1)
        balance = sum(e["points"] for e in entries if e["when"] <= when)
        affordable = [r for r in by_cost if r.cost <= balance and remaining[r.pk] != 0]
        if not affordable:
            continue
        reward = affordable[-1] if rng.random() < 0.5 else rng.choice(affordable)
        if remaining[reward.pk] is not None:
            remaining[reward.pk] -= 1  # never more requests than stock: it never goes below zero
        plans.append((when, account_id, reward))
    plans.sort(key=lambda p: (p[0], p[1]))
    count = len(plans)
    out = []
    taken: dict[tuple[int, int], int] = defaultdict(int)
    for rank, (when, account_id, reward) in enumerate(plans):
        if (
            reward.per_account_limit is not None
            and taken[(account_id, reward.pk)] >= reward.per_account_limit
        ):
            continue
        taken[(account_id, reward.pk)] += 1
        newest = count - 1 - rank  # 0: the newest request
        contact = champion(account_id)
        owner = book[account_id][3]
        staff = owner is not None and rng.random() < 0.6
        redemption = Redemption(
            account_id=account_id,
            contact_id=contact[0] if contact else None,
            reward=reward,
            points=reward.cost,
            channel=RedemptionChannel.STAFF if staff else RedemptionChannel.CUSTOMER,
            requested_by_id=owner if staff else None,
            requested_at=when,
        )
        hold = {
            "when": when,
            "kind": EntryKind.REDEEM,
            "event": "",
            "points": -reward.cost,
            "reason": f"Held for {reward.name}",
            "key": "redemption:{pk}:hold",
            "source": "",
            "contact_id": redemption.contact_id,
            "by": redemption.requested_by_id,
        }
        entries = [hold]
        decided = min(when + dt.timedelta(hours=rng.uniform(3, 40)), now - dt.timedelta(minutes=30))
        if newest < 4 and when > now - dt.timedelta(days=14):
            redemption.status = RedemptionStatus.PENDING
        elif newest < 7:
            redemption.status = RedemptionStatus.APPROVED
            redemption.decided_by, redemption.decided_at = manager, decided
        elif newest == 8:
            redemption.status = RedemptionStatus.REJECTED
            redemption.decided_by, redemption.decided_at = manager, decided
            redemption.decision_note = "This reward is for active customers only; points returned."
            entries.append(
                {
                    "when": decided,
                    "kind": EntryKind.REFUND,
                    "event": "",
                    "points": reward.cost,
                    "reason": f"Returned: {reward.name}",
                    "key": "redemption:{pk}:refund",
                    "source": "",
                    "contact_id": redemption.contact_id,
                    "by": manager.pk,
                }
            )
        else:
            redemption.status = RedemptionStatus.FULFILLED
            redemption.decided_by, redemption.decided_at = manager, decided
            redemption.fulfilled_at = min(
                decided + dt.timedelta(days=rng.uniform(0.5, 6)), now - dt.timedelta(minutes=5)
            )
            redemption.fulfilment_code = (
                f"RW-{rng.randrange(16**8):08X}" if reward.kind == RewardKind.GIFT_CARD else ""
            )
            redemption.fulfilment_notes = rng.choice(FULFIL_NOTES)
        ledger[account_id].extend(entries)
        out.append((redemption, entries))
    return out
