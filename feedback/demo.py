"""Demo survey history: campaigns with their rounds, invitations (sent, some skipped by the
throttling and consent rules), answers at a realistic rate, and the follow-ups of unhappy
answers, as the outbox and ``services.response_submit`` / ``follow_up_open`` would have left
them. Nothing is sent, enqueued or emitted: the rows are written with bulk inserts.

- "Quarterly NPS" (the manager's, every 3 months, reminders after 5 days): four rounds over
  the last ten months, the newest about two and a half weeks ago (its links still answer), and
  the next one scheduled;
- "Support CSAT" (triggered a day after a support touchpoint, to the contact touched), one
  round per month over the last year;
- "Onboarding effort (CES)" (triggered 14 days after onboarding completes, to the champion);
- "Decision makers: annual check-in" (the demo CSM's own, one NPS round, finished).

Scores follow the account's situation: accounts whose usage is decaying, that are at risk,
or that churned (in the months before the churn) answer low far more often; growing accounts
answer high. Throttling (one survey per contact per 30 days across campaigns, 14 for support
CSAT) and consent are applied in time order as the outbox would. Every unhappy answer has one
follow-up with a task for the account's owner: older ones closed with an outcome, most of the
last 30 days' still open.

Deterministic: the same rng seed, accounts and ``today`` give the same rows, except the
invitation tokens, which are secrets made as the outbox makes them. Above ``max_accounts``
accounts the history covers an even sample of that many accounts (seeding stays fast at scale).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    Account,
    Contact,
    ContactRole,
    LifecycleStage,
    Touchpoint,
    TouchpointKind,
    UsageEvent,
)

from .models import (
    Campaign,
    CampaignRound,
    CampaignStatus,
    FollowUp,
    FollowUpOutcome,
    Invitation,
    InvitationStatus,
    ReminderStatus,
    Response,
    RoundStatus,
    SkipReason,
    Survey,
    SurveyKind,
    Trigger,
    band_for,
)
from .services import FOLLOW_UP_DUE_DAYS
from .services_outbox import add_months, new_token

DEFAULT_MAX_ACCOUNTS = 2_000
BATCH = 2_000
NPS_NAME = "Quarterly NPS"
CSAT_NAME = "Support CSAT"
CES_NAME = "Onboarding effort (CES)"
CHECK_IN_NAME = "Decision makers: annual check-in"

# What contacts write, by survey kind, band and language (the follow-up question's answer).
_FOLLOW_UPS = {
    ("nps", "promoter"): {
        "en": [
            "The reporting saves us hours every week.",
            "Great product and an even better customer success team.",
            "Our sales team finally trusts the numbers.",
            "Onboarding was smooth and fast.",
            "The integrations just work.",
            "Support is quick and really knows the product.",
        ],
        "tr": ["Raporlama her hafta bize saatler kazandırıyor.", "Harika bir ürün ve çok ilgili bir ekip."],
        "zh-hant": ["報表功能每週幫我們節省好幾個小時。", "產品很好用，客戶成功團隊也很專業。"],
    },
    ("nps", "passive"): {
        "en": [
            "Good overall, but reports are slow at month end.",
            "Does what we need; the price went up a lot this year.",
            "We would like more flexible dashboards.",
            "Solid, though the mobile app needs work.",
            "Fine for now; we miss custom fields.",
        ],
        "tr": [
            "Genel olarak iyi ama ay sonunda raporlar yavaş.",
            "İhtiyacımızı karşılıyor; fiyat çok arttı.",
        ],
        "zh-hant": ["整體不錯，但月底報表很慢。", "符合需求，不過今年價格漲了不少。"],
    },
    ("nps", "detractor"): {
        "en": [
            "Too expensive for what we actually use.",
            "The CRM sync keeps failing and nobody fixed it.",
            "Our team stopped using it after the champion left.",
            "Reports take minutes to load.",
            "We are evaluating another tool.",
            "Support took a week to answer.",
            "Hard to get value without a lot of setup.",
        ],
        "tr": [
            "Kullandığımız kadarı için çok pahalı.",
            "CRM senkronizasyonu sürekli hata veriyor.",
            "Destek ekibi bir haftada yanıt verdi.",
        ],
        "zh-hant": [
            "以我們實際使用的功能來說太貴了。",
            "CRM 同步一直失敗，沒有人處理。",
            "客服一個星期才回覆。",
        ],
    },
    ("csat", "promoter"): {
        "en": [
            "Solved in one call, thank you!",
            "Quick and friendly help.",
            "Clear answer and a workaround.",
        ],
        "tr": ["Tek görüşmede çözüldü, teşekkürler!"],
        "zh-hant": ["一通電話就解決了，謝謝！"],
    },
    ("csat", "passive"): {
        "en": ["It got fixed, but it took a few days.", "OK, but I had to explain it twice."],
        "tr": ["Çözüldü ama birkaç gün sürdü."],
        "zh-hant": ["問題解決了，但花了好幾天。"],
    },
    ("csat", "detractor"): {
        "en": [
            "Still not fixed.",
            "I was bounced between three people.",
            "The workaround does not work for us.",
        ],
        "tr": ["Hâlâ çözülmedi."],
        "zh-hant": ["問題到現在還沒解決。"],
    },
    ("ces", "promoter"): {
        "en": ["The onboarding plan kept everyone on track.", "Setup was easier than expected."],
        "tr": ["Kurulum beklediğimizden kolaydı."],
        "zh-hant": ["導入比預期的容易。"],
    },
    ("ces", "passive"): {
        "en": ["SSO setup took longer than planned.", "Fine, with some help from our IT team."],
        "tr": ["SSO kurulumu planlanandan uzun sürdü."],
        "zh-hant": ["SSO 設定花的時間比預期長。"],
    },
    ("ces", "detractor"): {
        "en": ["The data import was painful.", "Too many steps before we saw any value."],
        "tr": ["Veri aktarımı çok zahmetliydi."],
        "zh-hant": ["資料匯入非常麻煩。"],
    },
}
_COMMENTS = {
    "en": [
        "Please add an export to our data warehouse.",
        "Keep the quarterly reviews coming.",
        "Would love a Slack integration.",
        "Thanks to Casey for the help this quarter.",
        "Training for new hires would help.",
    ],
    "tr": ["Lütfen veri ambarına dışa aktarma ekleyin.", "Yeni çalışanlar için eğitim faydalı olur."],
    "zh-hant": ["希望能匯出到我們的資料倉儲。", "新進同仁的教育訓練會很有幫助。"],
}
_OUTCOMES = (
    (FollowUpOutcome.RESOLVED, 0.34),
    (FollowUpOutcome.PLAN, 0.28),
    (FollowUpOutcome.EXPLAINED, 0.16),
    (FollowUpOutcome.NO_REPLY, 0.12),
    (FollowUpOutcome.CHURN_RISK, 0.07),
    (FollowUpOutcome.OTHER, 0.03),
)
_OUTCOME_NOTES = {
    FollowUpOutcome.RESOLVED: [
        "Fixed the sync settings on a call.",
        "Engineering shipped the fix; confirmed.",
    ],
    FollowUpOutcome.PLAN: ["Agreed a training plan for their team.", "Booked a QBR to review pricing."],
    FollowUpOutcome.EXPLAINED: ["Walked them through the roadmap.", "Explained how the report cache works."],
    FollowUpOutcome.NO_REPLY: ["Two emails and a call, no answer.", "Left a voicemail; no reply."],
    FollowUpOutcome.CHURN_RISK: ["Budget cut; escalated to the manager.", "They are trialling a competitor."],
    FollowUpOutcome.OTHER: ["Passed to the account executive."],
}
_ROLE_RESPONSE = {
    ContactRole.CHAMPION: 1.25,
    ContactRole.DECISION_MAKER: 0.9,
    ContactRole.USER: 1.0,
    ContactRole.BILLING: 0.5,
}


@dataclass
class FeedbackDemoReport:
    campaigns: int = 0
    rounds: int = 0
    invitations: int = 0
    responses: int = 0
    follow_ups: int = 0
    open_follow_ups: int = 0
    accounts: int = 0  # accounts in the history (a sample above max_accounts)
    response_ids: list[int] = field(default_factory=list, repr=False)


@dataclass
class _Account:
    pk: int
    owner_id: int | None
    contract_start: dt.date
    churned_at: dt.date | None
    stage: str
    mood: float  # the account's latent satisfaction, ~N(0, 1)
    decaying: bool


@dataclass
class _Send:
    when: dt.datetime
    order: int  # ties: campaign order, then contact
    campaign: str
    round_key: int
    contact: tuple
    source: str = ""


def _aware(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _chunks(items: list, size: int = 900) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sample(rows: list, limit: int) -> list:
    if len(rows) <= limit:
        return rows
    step = len(rows) / limit
    return [rows[int(i * step)] for i in range(limit)]


def _usage_decay(account_ids: list[int], now: dt.datetime, using: str) -> dict[int, float]:
    """Per account: daily usage in the last 30 days over the daily usage of the 60 before (one
    grouped query per chunk of accounts)."""
    recent, prior = now - dt.timedelta(days=30), now - dt.timedelta(days=90)
    ratios = {}
    for ids in _chunks(account_ids):
        rows = (
            UsageEvent.objects.using(using)
            .filter(account_id__in=ids, occurred_at__gte=prior, occurred_at__lt=now)
            .order_by()
            .values("account_id")
            .annotate(
                r=Count("pk", filter=Q(occurred_at__gte=recent)),
                p=Count("pk", filter=Q(occurred_at__lt=recent)),
            )
        )
        for row in rows:
            if row["p"] >= 10:
                ratios[row["account_id"]] = (row["r"] / 30) / (row["p"] / 60)
    return ratios


def demo_feedback_seed(
    *,
    rng: random.Random,
    accounts: QuerySet[Account],
    today: dt.date,
    created_by,
    csm=None,
    using: str = "default",
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
) -> FeedbackDemoReport:
    """The survey history of the given accounts up to the end of yesterday. ``created_by`` (a
    manager) owns the portfolio-wide campaigns, ``csm`` the check-in of their own accounts. A
    second run adds nothing (the campaigns exist)."""
    report = FeedbackDemoReport()
    surveys = {s.kind: s for s in Survey.objects.using(using).filter(is_active=True).order_by("pk")}
    if not all(kind in surveys for kind in ("nps", "csat", "ces")):
        return report
    if Campaign.objects.using(using).filter(name=NPS_NAME, created_by=created_by).exists():
        return report
    now = _aware(today)  # the history ends at the start of today
    rows = list(
        accounts.using(using)
        .filter(contract_start__lt=today)
        .order_by("pk")
        .values_list("pk", "owner_id", "contract_start", "churned_at", "lifecycle_stage")
    )
    rows = _sample(rows, max_accounts)
    if not rows:
        return report
    decay = _usage_decay([r[0] for r in rows], now, using)
    book: dict[int, _Account] = {}
    for pk, owner_id, start, churned_at, stage in rows:
        decaying = decay.get(pk, 1.0) < 0.65
        mood = rng.gauss(0.25, 0.8)
        if stage == LifecycleStage.GROWTH:
            mood += 0.6
        elif stage == LifecycleStage.AT_RISK:
            mood -= 1.0
        book[pk] = _Account(pk, owner_id, start, churned_at, stage, mood, decaying)
    report.accounts = len(book)
    contacts: dict[int, list[tuple]] = defaultdict(list)
    by_id: dict[int, tuple] = {}
    for ids in _chunks(list(book)):
        for row in (
            Contact.objects.using(using)
            .filter(account_id__in=ids)
            .order_by("pk")
            .values_list(
                "pk", "account_id", "name", "email", "language", "role", "accepts_surveys", "created_at"
            )
        ):
            contacts[row[1]].append(row)
            by_id[row[0]] = row

    def active_on(account: _Account, day: dt.date) -> bool:
        return account.contract_start <= day and (account.churned_at is None or account.churned_at > day)

    # ---- when each campaign sends, to whom (before throttling)
    sends: list[_Send] = []
    nps_last = _aware(today - dt.timedelta(days=18), 9, 30)
    nps_rounds = [add_months(nps_last, -3 * k) for k in (3, 2, 1, 0)]
    for number, when in enumerate(nps_rounds, start=1):
        for account in book.values():
            if active_on(account, when.date()):
                for contact in contacts[account.pk]:
                    if contact[7] <= when:
                        sends.append(_Send(when, 0, "nps", number, contact))
    check_in = _aware(today - dt.timedelta(days=41), 10)
    if csm is not None:
        for account in book.values():
            if account.owner_id == csm.pk and active_on(account, check_in.date()):
                for contact in contacts[account.pk]:
                    if contact[5] == ContactRole.DECISION_MAKER and contact[7] <= check_in:
                        sends.append(_Send(check_in, 1, "check_in", 1, contact))
    support_from = now - dt.timedelta(days=365)
    touches = []
    for ids in _chunks(list(book)):
        touches += list(
            Touchpoint.objects.using(using)
            .filter(
                account_id__in=ids,
                kind=TouchpointKind.SUPPORT,
                contact__isnull=False,
                occurred_at__gte=support_from,
                occurred_at__lt=now - dt.timedelta(days=1),
            )
            .values_list("pk", "contact_id", "occurred_at")
        )
    for pk, contact_id, occurred_at in sorted(touches, key=lambda t: (t[2], t[0])):
        contact = by_id.get(contact_id)
        when = occurred_at + dt.timedelta(days=1)
        if contact and active_on(book[contact[1]], when.date()):
            sends.append(_Send(when, 2, "csat", _month(when), contact, f"touchpoint:{pk}"))
    from onboarding.models import OnboardingPlan

    completed = []
    for ids in _chunks(list(book)):
        completed += list(
            OnboardingPlan.objects.using(using)
            .filter(
                account_id__in=ids, completed_at__isnull=False, completed_at__lt=now - dt.timedelta(days=14)
            )
            .values_list("account_id", "completed_at")
        )
    for account_id, completed_at in sorted(completed):
        when = completed_at + dt.timedelta(days=14)
        if not active_on(book[account_id], when.date()):
            continue
        for contact in contacts[account_id]:
            if contact[5] == ContactRole.CHAMPION:
                sends.append(_Send(when, 3, "ces", _month(when), contact, f"onboarding:{account_id}"))
    sends.sort(key=lambda s: (s.when, s.order, s.contact[0]))
    if not sends:
        return report

    # ---- campaigns and rounds
    first = {key: min(s.when for s in sends if s.campaign == key) for key in {s.campaign for s in sends}}
    nps_start = nps_rounds[0]
    specs = {
        "nps": {
            "name": NPS_NAME,
            "survey": surveys["nps"],
            "created_by": created_by,
            "recurrence_months": 3,
            "reminder_after_days": 5,
            "send_at": nps_start,
            "status": CampaignStatus.ACTIVE,
            "start": nps_start,
        },
        "check_in": {
            "name": CHECK_IN_NAME,
            "survey": surveys["nps"],
            "created_by": csm,
            "contact_role": ContactRole.DECISION_MAKER,
            "account_owner": csm,
            "send_at": check_in,
            "status": CampaignStatus.FINISHED,
            "start": check_in,
        },
        "csat": {
            "name": CSAT_NAME,
            "survey": surveys["csat"],
            "created_by": created_by,
            "trigger": Trigger.SUPPORT,
            "trigger_delay_days": 1,
            "throttle_days": 14,
            "status": CampaignStatus.ACTIVE,
            "start": support_from,
        },
        "ces": {
            "name": CES_NAME,
            "survey": surveys["ces"],
            "created_by": created_by,
            "trigger": Trigger.ONBOARDING,
            "trigger_delay_days": 14,
            "contact_role": ContactRole.CHAMPION,
            "status": CampaignStatus.ACTIVE,
            "start": min(first.get("ces", now), now - dt.timedelta(days=300)),
        },
    }
    campaigns: dict[str, Campaign] = {}
    for key, spec in specs.items():
        if key not in first and key != "nps":
            continue
        start = spec.pop("start")
        campaign = Campaign(
            **spec, created_at=start - dt.timedelta(days=2), launched_at=start - dt.timedelta(days=1)
        )
        campaign.save(using=using)
        campaigns[key] = campaign
    report.campaigns = len(campaigns)
    rounds: dict[tuple[str, int], CampaignRound] = {}
    current_month = _month(now - dt.timedelta(seconds=1))
    for send in sends:
        key = (send.campaign, send.round_key)
        if key in rounds:
            continue
        if send.campaign in ("nps", "check_in"):
            rnd = CampaignRound(
                campaign=campaigns[send.campaign],
                number=send.round_key,
                scheduled_at=send.when,
                status=RoundStatus.SENT,
                started_at=send.when,
                finished_at=send.when + dt.timedelta(minutes=12),
                heartbeat_at=send.when + dt.timedelta(minutes=12),
            )
        else:
            month_start = _aware(dt.date(send.round_key // 100, send.round_key % 100, 1))
            closed = send.round_key < current_month
            next_month = _aware(_first_of_next_month(month_start.date()), 0, 1)
            rnd = CampaignRound(
                campaign=campaigns[send.campaign],
                number=send.round_key,
                scheduled_at=month_start,
                status=RoundStatus.SENT if closed else RoundStatus.SENDING,
                started_at=send.when,
                finished_at=next_month if closed else None,
                heartbeat_at=next_month if closed else None,
            )
        rounds[key] = rnd
    # the recurring campaign's next round, as round_start schedules it
    rounds[("nps", len(nps_rounds) + 1)] = CampaignRound(
        campaign=campaigns["nps"], number=len(nps_rounds) + 1, scheduled_at=add_months(nps_last, 3)
    )
    CampaignRound.objects.using(using).bulk_create(list(rounds.values()))
    report.rounds = len(rounds)

    # ---- invitations, in time order under throttling and consent
    last_sent: dict[str, dt.datetime] = {}
    throttle = {key: dt.timedelta(days=c.throttle_days) for key, c in campaigns.items()}
    invited: set[tuple] = set()
    seen_address: set[tuple] = set()
    invitations: list[Invitation] = []
    plan: list[tuple[_Send, Invitation]] = []
    for index, send in enumerate(sends):
        contact = send.contact
        key = (send.campaign, send.round_key)
        if (key, contact[0]) in invited:
            continue  # one invitation per round and contact
        invited.add((key, contact[0]))
        address = contact[3].strip().lower()
        reason = ""
        if not contact[6]:
            reason = SkipReason.OPTED_OUT
        elif address in last_sent and last_sent[address] >= send.when - throttle[send.campaign]:
            reason = SkipReason.THROTTLED
        elif (key, address) in seen_address:
            reason = SkipReason.DUPLICATE
        campaign, rnd = campaigns[send.campaign], rounds[key]
        sent_at = None
        if not reason:
            seen_address.add((key, address))
            sent_at = send.when + dt.timedelta(seconds=(index % 400) // 4)
            last_sent[address] = sent_at
        invitation = Invitation(
            campaign=campaign,
            round=rnd,
            contact_id=contact[0],
            account_id=contact[1],
            email=address,
            language=contact[4],
            token=new_token(),
            status=InvitationStatus.SKIPPED if reason else InvitationStatus.SENT,
            skip_reason=reason,
            send_after=send.when,
            sent_at=sent_at,
            message_id=f"<demo.{send.campaign}.{send.round_key}.{contact[0]}@demo.example>"
            if sent_at
            else "",
            attempts=1 if sent_at else 0,
            source=send.source,
            created_at=send.when,
        )
        invitations.append(invitation)
        if sent_at:
            plan.append((send, invitation))

    # ---- who answers, when, and what
    responses: list[Response] = []
    for send, invitation in plan:
        account = book[invitation.account_id]
        contact = send.contact
        kind = campaigns[send.campaign].survey.kind
        mood = _mood_at(rng, account, invitation.sent_at, now)
        rate = 0.42 * _ROLE_RESPONSE.get(contact[5], 1.0) * (0.8 if mood < -0.8 else 1.0)
        answers = rng.random() < rate
        delay = dt.timedelta(hours=min(24 * 20, math.exp(rng.gauss(1.6, 1.5))))
        reminded = None
        if campaigns[send.campaign].reminder_after_days:
            due = invitation.sent_at + dt.timedelta(days=campaigns[send.campaign].reminder_after_days)
            if due < now and not (answers and invitation.sent_at + delay < due):
                reminded = due + dt.timedelta(minutes=rng.randint(1, 50))
                invitation.reminder_status = ReminderStatus.SENT
                invitation.reminded_at = reminded
                invitation.reminder_message_id = invitation.message_id.replace("<demo.", "<demo.reminder.")
                if answers and rng.random() < 0.5:
                    delay = (reminded - invitation.sent_at) + dt.timedelta(hours=rng.uniform(0.2, 30))
        answered_at = invitation.sent_at + delay
        if answers and answered_at >= now:
            answers = False
        if not answers:
            if rng.random() < 0.15 and invitation.sent_at + dt.timedelta(hours=2) < now:
                invitation.opened_at = invitation.sent_at + dt.timedelta(hours=rng.uniform(0.1, 2))
            continue
        invitation.opened_at = answered_at - dt.timedelta(seconds=rng.randint(20, 600))
        score = _score(rng, kind, mood)
        band = band_for(kind, score)
        language = invitation.language if invitation.language in ("en", "tr", "zh-hant") else "en"
        texts = _FOLLOW_UPS[(kind, band)]
        follow_up = rng.choice(texts.get(language) or texts["en"]) if rng.random() < 0.7 else ""
        comment = rng.choice(_COMMENTS.get(language) or _COMMENTS["en"]) if rng.random() < 0.12 else ""
        responses.append(
            Response(
                invitation=invitation,
                campaign_id=invitation.campaign.pk,
                round_id=invitation.round.pk,
                survey=campaigns[send.campaign].survey,
                account_id=invitation.account_id,
                contact_id=invitation.contact_id,
                kind=kind,
                score=score,
                band=band,
                follow_up=follow_up,
                comment=comment,
                language=language,
                answered_at=answered_at,
                updated_at=answered_at,
            )
        )
    for batch in _chunks(invitations, BATCH):
        Invitation.objects.using(using).bulk_create(batch)
    report.invitations = len(invitations)
    for response in responses:
        response.invitation_id = response.invitation.pk
    for batch in _chunks(responses, BATCH):
        Response.objects.using(using).bulk_create(batch)
    report.responses = len(responses)
    report.response_ids = [r.pk for r in responses]
    _follow_ups(rng, responses, book, by_id, now, using, report, created_by)
    return report


def _month(when: dt.datetime) -> int:
    local = timezone.localtime(when)
    return local.year * 100 + local.month


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _mood_at(rng: random.Random, account: _Account, when: dt.datetime, now: dt.datetime) -> float:
    """The account's satisfaction when it answers: lower while its usage decays (lately) and in
    the months before a churn."""
    mood = account.mood + rng.gauss(0, 0.55)
    if account.churned_at is not None:
        months_before = (account.churned_at - when.date()).days / 30.4
        mood -= 1.9 if months_before < 5 else 0.6
    elif account.decaying:
        mood -= 1.5 if (now - when).days < 120 else 0.4
    return mood


def _score(rng: random.Random, kind: str, mood: float) -> int:
    if kind == SurveyKind.NPS:
        return max(0, min(10, round(7.9 + 1.7 * mood + rng.gauss(0, 0.7))))
    if kind == SurveyKind.CSAT:
        return max(1, min(5, round(4.0 + 0.9 * mood + rng.gauss(0, 0.45))))
    return max(1, min(7, round(5.2 + 1.2 * mood + rng.gauss(0, 0.6))))


def _follow_ups(rng, responses, book, contacts, now, using, report, manager) -> None:
    """One follow-up per unhappy answer, with its task, as ``follow_up_open`` makes them; those
    older than 30 days closed by the owner with an outcome (most recent ones still open)."""
    from health.models import Task

    recent = now - dt.timedelta(days=30)
    follow_up_list = reverse("feedback:follow_up_list")
    pairs: list[tuple[Task, FollowUp]] = []
    for response in responses:
        if response.band == "detractor":  # Survey.is_unhappy: asks a score and the low band
            pairs.append(_follow_up(rng, response, book, contacts, now, recent, follow_up_list, manager))
    for batch in _chunks(pairs, BATCH):
        Task.objects.using(using).bulk_create([task for task, _f in batch])
        for task, follow_up in batch:
            follow_up.task_id = task.pk
            follow_up.response_id = follow_up.response.pk
        FollowUp.objects.using(using).bulk_create([f for _t, f in batch])
    report.follow_ups = len(pairs)
    report.open_follow_ups = sum(1 for _t, f in pairs if f.closed_at is None)


def _follow_up(rng, response, book, contacts, now, recent, follow_up_list, manager):
    """The task and follow-up ``follow_up_open`` makes for one unhappy answer, closed by the
    owner with an outcome when it is older than 30 days (and some recent ones)."""
    from health.models import Priority, Task, TaskStatus

    account = book[response.account_id]
    contact = contacts[response.contact_id]
    lines = [f"“{text}”" for text in (response.follow_up, response.comment) if text]
    lines.append(f"Record what came of it: {follow_up_list}?q={contact[3]}")
    # services._follow_up_title's wording, in English (the platform's language; no catalog to load)
    title = f"Follow up: {response.kind.upper()} {response.score} from {contact[2] or contact[3]}"
    opened = response.answered_at
    closed_at = opened + dt.timedelta(hours=min(24 * 14, math.exp(rng.gauss(3.2, 1.0))))
    closed = closed_at < now and (opened < recent or rng.random() < 0.25)
    closer = account.owner_id or manager.pk
    outcome = ""
    note = ""
    if closed:
        outcome = rng.choices([o for o, _w in _OUTCOMES], weights=[w for _o, w in _OUTCOMES])[0]
        if account.churned_at is not None and rng.random() < 0.5:
            outcome = FollowUpOutcome.CHURN_RISK
        note = rng.choice(_OUTCOME_NOTES[outcome])
    task = Task(
        account_id=account.pk,
        title=title[:200],
        due_date=timezone.localdate(opened) + dt.timedelta(days=FOLLOW_UP_DUE_DAYS),
        owner_id=account.owner_id,
        priority=Priority.HIGH,
        status=TaskStatus.DONE if closed else TaskStatus.OPEN,
        notes="\n".join(lines),
        created_at=opened,
        completed_at=closed_at if closed else None,
        completed_by_id=closer if closed else None,
    )
    follow_up = FollowUp(
        response=response,
        account_id=account.pk,
        owner_id=account.owner_id,
        opened_at=opened,
        closed_at=closed_at if closed else None,
        closed_by_id=closer if closed else None,
        outcome=outcome,
        note=note,
    )
    return task, follow_up
