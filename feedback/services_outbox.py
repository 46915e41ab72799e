"""The outbox: writing invitation rows for an audience, and sending them exactly once.

1. ``round_start`` writes one invitation per contact of the round's audience in one
   transaction (queued, or skipped with the reason: opted out, suppressed, throttled,
   duplicate address). The database allows one invitation per round and contact.
2. Chunk senders (Celery tasks, any number, on any machine) each claim up to ``CHUNK_SIZE``
   queued rows with ``SELECT … FOR UPDATE SKIP LOCKED`` and mark them ``sending`` with a claim
   token; they check the suppression list, consent and throttling again, render the emails
   (each language once per chunk: ``emails.MessageRenderer``), send them in groups of
   ``GROUP_SIZE`` over as many SMTP connections and mark each invitation ``sent`` with its
   Message-ID — one commit per group, conditionally on still holding the claim, before any
   message of the group is handed over (see ``mailer``). A claim older than the lease (a
   killed worker) is taken back by ``invitations_recover`` and sent by someone else, once.
3. Reminders go through the same rows and the same senders (``reminder_status``).
4. ``feedback_tick`` (Celery beat, every minute) starts due rounds, queues due reminders,
   takes back stale claims, restarts stalled senders and closes finished rounds. Future sends
   are rows with a time, not countdowns held by a broker.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, Contact

from .emails import MessageRenderer
from .mailer import ChunkConnection, PermanentSendError, TransientSendError, UnconfirmedSendError
from .models import (
    Campaign,
    CampaignRound,
    CampaignStatus,
    Invitation,
    InvitationStatus,
    ReminderStatus,
    Response,
    RoundStatus,
    SkipReason,
    Suppression,
)

log = logging.getLogger(__name__)

CHUNK_SIZE = 200  # invitations per claim, sent over the chunk's SMTP connections
GROUP_SIZE = 20  # messages sent at once (one SMTP connection each), recorded as sent in one commit
PARALLEL_SENDERS = 4  # chains of chunk tasks started per round
CLAIM_LEASE = dt.timedelta(minutes=5)  # a claim older than this belongs to a dead sender
STALL_AFTER = dt.timedelta(minutes=2)  # no progress on a round with work left: restart its senders
MAX_ATTEMPTS = 5  # transient failures of one invitation before it is recorded as failed
LINK_VALID_DAYS = 60  # a survey link answers this long after it was sent
INSERT_BATCH = 2000
THROTTLE_LOCK = 0x5EED_F00D  # PostgreSQL advisory lock: audience writes decide throttling one at a time

INVITE, REMINDER = "invite", "reminder"
LIVE = (InvitationStatus.QUEUED, InvitationStatus.SENDING, InvitationStatus.SENT)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _throttle_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [THROTTLE_LOCK])


# ---------------------------------------------------------------- audience


def audience_accounts(campaign: Campaign) -> QuerySet[Account]:
    """The accounts a campaign reaches: those its creator may see, narrowed by its filters."""
    accounts = Account.objects.visible_to(campaign.created_by)
    if campaign.segment:
        accounts = accounts.filter(segment=campaign.segment)
    if campaign.tier:
        accounts = accounts.filter(tier=campaign.tier)
    if campaign.lifecycle_stage:
        accounts = accounts.filter(lifecycle_stage=campaign.lifecycle_stage)
    if campaign.account_owner_id:
        accounts = accounts.filter(owner_id=campaign.account_owner_id)
    if campaign.pk and campaign.accounts.exists():
        accounts = accounts.filter(pk__in=campaign.accounts.values("pk"))
    return accounts


def audience_contacts(campaign: Campaign) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(account__in=audience_accounts(campaign).values("pk"))
    if campaign.contact_role:
        contacts = contacts.filter(role=campaign.contact_role)
    return contacts


def recently_surveyed(*, since: dt.datetime, exclude_round_id: int | None = None) -> QuerySet[Invitation]:
    """Invitations that count against throttling: sent since ``since``, or waiting to be sent."""
    qs = Invitation.objects.filter(status__in=LIVE).filter(
        Q(sent_at__gte=since) | Q(sent_at__isnull=True, send_after__gte=since)
    )
    if exclude_round_id is not None:
        qs = qs.exclude(round_id=exclude_round_id)
    return qs


def classify(contacts: QuerySet[Contact], *, throttle_days: int, now: dt.datetime) -> QuerySet[Contact]:
    """Annotate each contact with ``is_throttled`` and ``is_suppressed`` (one query in all)."""
    if throttle_days:
        since = now - dt.timedelta(days=throttle_days)
        # By address: the same person may be a contact of two accounts.
        throttled = Exists(recently_surveyed(since=since).filter(email=Lower(OuterRef("email"))))
    else:
        throttled = Value(False)
    suppressed = Exists(Suppression.objects.filter(email=Lower(OuterRef("email"))))
    return contacts.annotate(is_throttled=throttled, is_suppressed=suppressed)


def skip_reason(*, accepts_surveys: bool, suppressed: bool, throttled: bool, duplicate: bool) -> str:
    if not accepts_surveys:
        return SkipReason.OPTED_OUT
    if suppressed:
        return SkipReason.SUPPRESSED
    if throttled:
        return SkipReason.THROTTLED
    if duplicate:
        return SkipReason.DUPLICATE
    return ""


# ---------------------------------------------------------------- writing the outbox


@dataclass
class RoundStartReport:
    started: bool = False
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def round_start(*, round_id: int, now: dt.datetime | None = None) -> RoundStartReport:
    """Write the round's invitations (the outbox) and hand them to the senders after commit.

    Idempotent: a round that is no longer scheduled is left alone, and a contact already
    invited in this round is not invited again (the unique constraint).
    """
    now = now or timezone.now()
    report = RoundStartReport()
    try:
        rnd = (
            CampaignRound.objects.select_for_update(of=("self",))
            .select_related("campaign__created_by", "campaign__survey")
            .get(pk=round_id)
        )
    except CampaignRound.DoesNotExist:
        return report
    campaign = rnd.campaign
    if rnd.status != RoundStatus.SCHEDULED or campaign.status != CampaignStatus.ACTIVE:
        return report
    _throttle_lock()
    rows = (
        classify(audience_contacts(campaign), throttle_days=campaign.throttle_days, now=now)
        .order_by("pk")
        .values_list(
            "pk", "account_id", "email", "language", "accepts_surveys", "is_throttled", "is_suppressed"
        )
    )
    seen: set[str] = set()
    batch: list[Invitation] = []
    for contact_id, account_id, email, language, accepts, throttled, suppressed in rows.iterator(
        chunk_size=5000
    ):
        address = email.strip().lower()
        reason = skip_reason(
            accepts_surveys=accepts, suppressed=suppressed, throttled=throttled, duplicate=address in seen
        )
        if reason:
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
        else:
            seen.add(address)
            report.queued += 1
        batch.append(
            Invitation(
                campaign_id=campaign.pk,
                round_id=rnd.pk,
                contact_id=contact_id,
                account_id=account_id,
                email=address,
                language=language,
                token=new_token(),
                status=InvitationStatus.SKIPPED if reason else InvitationStatus.QUEUED,
                skip_reason=reason,
                send_after=now,
                created_at=now,
            )
        )
        if len(batch) >= INSERT_BATCH:
            Invitation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        Invitation.objects.bulk_create(batch, ignore_conflicts=True)
    rnd.status, rnd.started_at, rnd.heartbeat_at = RoundStatus.SENDING, now, now
    rnd.save(update_fields=["status", "started_at", "heartbeat_at"])
    if campaign.recurrence_months:
        CampaignRound.objects.get_or_create(
            campaign=campaign,
            number=rnd.number + 1,
            defaults={"scheduled_at": add_months(rnd.scheduled_at, campaign.recurrence_months)},
        )
    report.started = True
    _dispatch_on_commit(rnd.pk, INVITE)
    return report


def _dispatch_on_commit(round_id: int, lane: str) -> None:
    from .tasks import enqueue, round_dispatch_task

    transaction.on_commit(lambda: enqueue(round_dispatch_task, round_id=round_id, lane=lane))


def _month_round(campaign: Campaign, when: dt.datetime, now: dt.datetime) -> CampaignRound:
    local = timezone.localtime(when)
    number = local.year * 100 + local.month
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rnd, _created = CampaignRound.objects.get_or_create(
        campaign=campaign,
        number=number,
        defaults={
            "scheduled_at": start,
            "status": RoundStatus.SENDING,
            "started_at": now,
            "heartbeat_at": now,
        },
    )
    return rnd


@transaction.atomic
def invitation_trigger(
    *,
    campaign: Campaign,
    contact: Contact,
    send_after: dt.datetime,
    source: str,
    now: dt.datetime | None = None,
) -> Invitation | None:
    """One invitation from an event (a support touchpoint, onboarding completed), in the round of
    the month it is sent, under the same consent, suppression and throttling rules. Returns the
    invitation (possibly skipped), or None when the contact is outside the campaign's audience."""
    now = now or timezone.now()
    _throttle_lock()
    row = (
        classify(
            audience_contacts(campaign).filter(pk=contact.pk), throttle_days=campaign.throttle_days, now=now
        )
        .values_list("accepts_surveys", "is_throttled", "is_suppressed")
        .first()
    )
    if row is None:
        return None
    accepts, throttled, suppressed = row
    rnd = _month_round(campaign, send_after, now)
    reason = skip_reason(accepts_surveys=accepts, suppressed=suppressed, throttled=throttled, duplicate=False)
    invitation, created = Invitation.objects.get_or_create(
        round=rnd,
        contact=contact,
        defaults={
            "campaign": campaign,
            "account_id": contact.account_id,
            "email": contact.email.strip().lower(),
            "language": contact.language,
            "token": new_token(),
            "status": InvitationStatus.SKIPPED if reason else InvitationStatus.QUEUED,
            "skip_reason": reason,
            "send_after": send_after,
            "source": source[:60],
            "created_at": now,
        },
    )
    if not created and invitation.status != InvitationStatus.SKIPPED and invitation.pk:
        return invitation  # already invited this month by this campaign
    if created and not reason and send_after <= now:
        _dispatch_on_commit(rnd.pk, INVITE)
    return invitation


# ---------------------------------------------------------------- claiming and sending


@dataclass
class ChunkReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0  # claims taken over by another sender meanwhile (not sent by us)
    more: bool = False  # a full chunk was claimed: there may be more to send


def _claimable(round_id: int, lane: str, now: dt.datetime) -> QuerySet[Invitation]:
    if lane == INVITE:
        return Invitation.objects.filter(
            round_id=round_id, status=InvitationStatus.QUEUED, send_after__lte=now
        )
    return Invitation.objects.filter(round_id=round_id, reminder_status=ReminderStatus.QUEUED)


@transaction.atomic
def invitations_claim(
    *, round_id: int, lane: str = INVITE, limit: int = CHUNK_SIZE, now: dt.datetime | None = None
) -> tuple[str, list[int], int]:
    """Claim up to ``limit`` rows for one sender. Rows locked by another sender are skipped, not
    waited for. Suppressed, opted-out and (for first sends) throttled rows are skipped here, at
    send time; for reminders, rows answered meanwhile too. Returns (claim token, claimed ids,
    rows skipped)."""
    now = now or timezone.now()
    ids = list(
        _claimable(round_id, lane, now)
        .select_for_update(skip_locked=True)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    claim = uuid.uuid4().hex
    if not ids:
        return claim, [], 0
    rows = Invitation.objects.filter(pk__in=ids)
    skip: dict[str, list[int]] = {}
    suppressed = set(
        rows.filter(Exists(Suppression.objects.filter(email=Lower(OuterRef("email"))))).values_list(
            "pk", flat=True
        )
    )
    opted_out = set(rows.filter(contact__accepts_surveys=False).values_list("pk", flat=True))
    for pk in ids:
        if pk in opted_out:
            skip.setdefault(SkipReason.OPTED_OUT, []).append(pk)
        elif pk in suppressed:
            skip.setdefault(SkipReason.SUPPRESSED, []).append(pk)
    skipped_ids = {pk for pks in skip.values() for pk in pks}
    if lane == INVITE:
        throttle_days = (
            Campaign.objects.filter(rounds=round_id).values_list("throttle_days", flat=True).first()
        )
        if throttle_days:
            since = now - dt.timedelta(days=throttle_days)
            recent = Invitation.objects.filter(
                email=OuterRef("email"), status=InvitationStatus.SENT, sent_at__gte=since
            ).exclude(round_id=round_id)
            throttled = set(rows.filter(Exists(recent)).values_list("pk", flat=True)) - skipped_ids
            if throttled:
                skip[SkipReason.THROTTLED] = sorted(throttled)
                skipped_ids |= throttled
        for reason, pks in skip.items():
            Invitation.objects.filter(pk__in=pks).update(status=InvitationStatus.SKIPPED, skip_reason=reason)
    else:
        answered = set(Response.objects.filter(invitation_id__in=ids).values_list("invitation_id", flat=True))
        skipped_ids |= answered
        if skipped_ids:
            Invitation.objects.filter(pk__in=skipped_ids).update(reminder_status=ReminderStatus.SKIPPED)
    claimed = [pk for pk in ids if pk not in skipped_ids]
    status_field = "status" if lane == INVITE else "reminder_status"
    if claimed:
        Invitation.objects.filter(pk__in=claimed).update(
            **{status_field: InvitationStatus.SENDING}, claimed_at=now, claim_token=claim
        )
    return claim, claimed, len(skipped_ids)


def _record_sent(pk: int, claim: str, lane: str, message_id: str) -> bool:
    """Committed on its own (the sender runs outside any transaction): True if we held the claim."""
    now = timezone.now()
    if lane == INVITE:
        updated = Invitation.objects.filter(pk=pk, status=InvitationStatus.SENDING, claim_token=claim).update(
            status=InvitationStatus.SENT, sent_at=now, message_id=message_id, last_error=""
        )
    else:
        updated = Invitation.objects.filter(
            pk=pk, reminder_status=ReminderStatus.SENDING, claim_token=claim
        ).update(reminder_status=ReminderStatus.SENT, reminded_at=now, reminder_message_id=message_id)
    return updated == 1


def _undo_sent(pk: int, lane: str, message_id: str, *, failed: bool, error: str) -> None:
    """The server refused the message at its end after we recorded it as sent."""
    if lane == INVITE:
        qs = Invitation.objects.filter(pk=pk, status=InvitationStatus.SENT, message_id=message_id)
        if failed:
            qs.update(
                status=InvitationStatus.FAILED, sent_at=None, message_id="", claim_token="", last_error=error
            )
        else:
            _requeue_after_error(qs, lane, error, sent=True)
    else:
        qs = Invitation.objects.filter(
            pk=pk, reminder_status=ReminderStatus.SENT, reminder_message_id=message_id
        )
        if failed:
            qs.update(
                reminder_status=ReminderStatus.FAILED,
                reminded_at=None,
                reminder_message_id="",
                last_error=error,
            )
        else:
            _requeue_after_error(qs, lane, error, sent=True)


def _requeue_after_error(qs: QuerySet[Invitation], lane: str, error: str, *, sent: bool = False) -> None:
    """A transient failure of one message: back in the queue, or failed after MAX_ATTEMPTS."""
    row = qs.values_list("pk", "attempts").first()
    if row is None:
        return
    pk, attempts = row
    attempts += 1
    give_up = attempts >= MAX_ATTEMPTS
    if lane == INVITE:
        fields = {
            "status": InvitationStatus.FAILED if give_up else InvitationStatus.QUEUED,
            "claim_token": "",
            "claimed_at": None,
        }
        if sent:
            fields.update(sent_at=None, message_id="")
    else:
        fields = {
            "reminder_status": ReminderStatus.FAILED if give_up else ReminderStatus.QUEUED,
            "claim_token": "",
        }
        if sent:
            fields.update(reminded_at=None, reminder_message_id="")
    Invitation.objects.filter(pk=pk).update(attempts=attempts, last_error=error[:500], **fields)


def _release(ids: Iterable[int], claim: str, lane: str) -> int:
    """Give claimed rows we did not try back to the queue (no attempt counted)."""
    ids = list(ids)
    if not ids:
        return 0
    if lane == INVITE:
        return Invitation.objects.filter(
            pk__in=ids, status=InvitationStatus.SENDING, claim_token=claim
        ).update(status=InvitationStatus.QUEUED, claim_token="", claimed_at=None)
    return Invitation.objects.filter(
        pk__in=ids, reminder_status=ReminderStatus.SENDING, claim_token=claim
    ).update(reminder_status=ReminderStatus.QUEUED, claim_token="")


def _fail(pk: int, claim: str, lane: str, error: str) -> None:
    if lane == INVITE:
        Invitation.objects.filter(pk=pk, status=InvitationStatus.SENDING, claim_token=claim).update(
            status=InvitationStatus.FAILED, claim_token="", last_error=error[:500], attempts=F("attempts") + 1
        )
    else:
        Invitation.objects.filter(pk=pk, reminder_status=ReminderStatus.SENDING, claim_token=claim).update(
            reminder_status=ReminderStatus.FAILED, claim_token="", last_error=error[:500]
        )


def invitations_send_chunk(
    *, round_id: int, lane: str = INVITE, limit: int = CHUNK_SIZE, now: dt.datetime | None = None
) -> ChunkReport:
    """Claim one chunk of the round's queued invitations (or reminders) and send it over one
    connection. Run outside a transaction: each "sent" is committed on its own, before the
    message is handed to the server. Raises TransientSendError (after giving the untried rows
    back) so that the task retries with backoff."""
    report = ChunkReport()
    rnd = CampaignRound.objects.select_related("campaign__survey").filter(pk=round_id).first()
    if rnd is None:
        return report
    if lane == INVITE and (rnd.status != RoundStatus.SENDING or rnd.campaign.status != CampaignStatus.ACTIVE):
        return report
    if lane == REMINDER and rnd.campaign.status not in (CampaignStatus.ACTIVE, CampaignStatus.FINISHED):
        return report
    claim, ids, skipped = invitations_claim(round_id=round_id, lane=lane, limit=limit, now=now)
    report.claimed, report.skipped = len(ids), skipped
    report.more = len(ids) + skipped >= limit
    if not ids:
        round_touch(round_id=round_id)
        return report
    survey = rnd.campaign.survey
    invitations = list(Invitation.objects.filter(pk__in=ids).select_related("contact").order_by("id"))
    pending = [inv.pk for inv in invitations]
    tried: set[int] = set()  # rows of the group in flight when something raised: handled already
    renderer = MessageRenderer(survey, reminder=lane == REMINDER)
    try:
        with ChunkConnection(lanes=GROUP_SIZE) as conn:
            for start in range(0, len(invitations), conn.lane_count):
                group = invitations[start : start + conn.lane_count]
                tried = {inv.pk for inv in group}
                _send_group(conn, group, renderer, claim, lane, report)
                pending = pending[len(group) :]
                tried = set()
    except TransientSendError:
        _release([pk for pk in pending if pk not in tried], claim, lane)
        round_touch(round_id=round_id)
        raise
    except BaseException:
        # Anything unexpected (a template error, the worker shutting down): give back what we
        # did not try; the claim lease covers a sender that dies without getting here.
        _release(pending, claim, lane)
        raise
    round_touch(round_id=round_id)
    return report


def _record_sent_group(ids_and_message_ids: dict[int, str], claim: str, lane: str) -> set[int]:
    """Record a group as sent in one transaction (one commit): the ids we still held the claim
    of, each with its Message-ID. Runs outside any transaction, so it commits before returning."""
    now = timezone.now()
    ids = list(ids_and_message_ids)
    if lane == INVITE:
        held = Invitation.objects.filter(pk__in=ids, status=InvitationStatus.SENDING, claim_token=claim)
    else:
        held = Invitation.objects.filter(
            pk__in=ids, reminder_status=ReminderStatus.SENDING, claim_token=claim
        )
    with transaction.atomic():
        owned = set(held.select_for_update().values_list("pk", flat=True))
        if not owned:
            return owned
        message_id = Case(
            *[When(pk=pk, then=Value(ids_and_message_ids[pk])) for pk in owned], output_field=CharField()
        )
        rows = Invitation.objects.filter(pk__in=owned)
        if lane == INVITE:
            rows.update(status=InvitationStatus.SENT, sent_at=now, message_id=message_id, last_error="")
        else:
            rows.update(reminder_status=ReminderStatus.SENT, reminded_at=now, reminder_message_id=message_id)
    return owned


def _send_group(
    conn: ChunkConnection,
    group: list[Invitation],
    renderer: MessageRenderer,
    claim: str,
    lane: str,
    report: ChunkReport,
) -> None:
    """Send a group of invitations at once and settle each one's outcome; raises
    TransientSendError (after settling the whole group) when any of them failed transiently."""
    messages = {invitation.pk: renderer.message(invitation) for invitation in group}
    message_ids = {pk: message.extra_headers["Message-ID"] for pk, message in messages.items()}

    def record(keys: list) -> set[int]:
        return _record_sent_group({pk: message_ids[pk] for pk in keys}, claim, lane)

    outcomes = conn.send_group(list(messages.items()), record)
    transient: TransientSendError | None = None
    by_pk = {invitation.pk: invitation for invitation in group}
    for pk, outcome in outcomes.items():
        if outcome.sent:
            report.sent += 1
        elif outcome.lost:
            report.lost += 1
        elif isinstance(outcome.error, UnconfirmedSendError):
            log.warning("survey invitation %s: %s", pk, outcome.error)
            report.sent += 1  # recorded as sent; never sent again
        elif isinstance(outcome.error, PermanentSendError):
            _settle_permanent(
                by_pk[pk], claim, lane, message_ids[pk], outcome.error, recorded=outcome.recorded
            )
            report.failed += 1
        else:
            _settle_transient(pk, claim, lane, message_ids[pk], outcome.error, recorded=outcome.recorded)
            transient = transient or outcome.error
    if transient is not None:
        raise transient


def _settle_permanent(
    invitation: Invitation, claim: str, lane: str, message_id: str, exc: PermanentSendError, *, recorded: bool
) -> None:
    if recorded:
        _undo_sent(invitation.pk, lane, message_id, failed=True, error=str(exc))
    else:
        _fail(invitation.pk, claim, lane, str(exc))
    if exc.bounce:
        from .services import suppression_add

        suppression_add(
            email=invitation.email,
            reason=Suppression.Reason.BOUNCED,
            detail=str(exc),
            invitation=invitation,
        )


def _settle_transient(
    pk: int, claim: str, lane: str, message_id: str, exc: Exception, *, recorded: bool
) -> None:
    if recorded:
        _undo_sent(pk, lane, message_id, failed=False, error=str(exc))
        return
    field = "status" if lane == INVITE else "reminder_status"
    held = Invitation.objects.filter(pk=pk, claim_token=claim, **{field: InvitationStatus.SENDING})
    _requeue_after_error(held, lane, str(exc))


def round_touch(*, round_id: int) -> None:
    """Note progress, and close the round when nothing is left to send."""
    now = timezone.now()
    CampaignRound.objects.filter(pk=round_id).update(heartbeat_at=now)
    round_finish_if_done(round_id=round_id, now=now)


def round_finish_if_done(*, round_id: int, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    rnd = (
        CampaignRound.objects.select_related("campaign")
        .filter(pk=round_id, status=RoundStatus.SENDING)
        .first()
    )
    if rnd is None:
        return False
    if rnd.campaign.is_triggered:
        local = timezone.localtime(now)
        if rnd.number >= local.year * 100 + local.month:
            return False  # this month's round stays open for new events
    if rnd.invitations.filter(status__in=[InvitationStatus.QUEUED, InvitationStatus.SENDING]).exists():
        return False
    updated = CampaignRound.objects.filter(pk=rnd.pk, status=RoundStatus.SENDING).update(
        status=RoundStatus.SENT, finished_at=now
    )
    campaign = rnd.campaign
    if updated and not campaign.recurrence_months and not campaign.is_triggered:
        Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE).update(
            status=CampaignStatus.FINISHED
        )
    return bool(updated)


# ---------------------------------------------------------------- recovery, reminders, the tick


def invitations_recover(
    *, lease: dt.timedelta = CLAIM_LEASE, now: dt.datetime | None = None
) -> dict[int, int]:
    """Take back claims older than the lease (their sender died): the rows go back to the queue.
    Safe even if the sender is only slow: its "sent" record needs the claim it no longer holds.
    Returns {round id: rows taken back} and restarts those rounds' senders."""
    now = now or timezone.now()
    stale = now - lease
    taken: dict[int, int] = {}
    with transaction.atomic():
        rows = list(
            Invitation.objects.filter(status=InvitationStatus.SENDING, claimed_at__lte=stale)
            .select_for_update(skip_locked=True)
            .values_list("pk", "round_id")
        )
        if rows:
            Invitation.objects.filter(pk__in=[pk for pk, _r in rows], status=InvitationStatus.SENDING).update(
                status=InvitationStatus.QUEUED, claim_token="", claimed_at=None
            )
        reminder_rows = list(
            Invitation.objects.filter(reminder_status=ReminderStatus.SENDING, claimed_at__lte=stale)
            .select_for_update(skip_locked=True)
            .values_list("pk", "round_id")
        )
        if reminder_rows:
            Invitation.objects.filter(
                pk__in=[pk for pk, _r in reminder_rows], reminder_status=ReminderStatus.SENDING
            ).update(reminder_status=ReminderStatus.QUEUED, claim_token="")
        for _pk, round_id in rows:
            taken[round_id] = taken.get(round_id, 0) + 1
        for round_id in {r for _pk, r in rows}:
            _dispatch_on_commit(round_id, INVITE)
        for round_id in {r for _pk, r in reminder_rows}:
            _dispatch_on_commit(round_id, REMINDER)
    return taken


def reminders_queue(*, now: dt.datetime | None = None) -> int:
    """Queue a reminder for each invitation sent at least N days ago (the campaign's N) that has
    no answer yet, was not reminded, and whose link is still valid. Non-responders only."""
    now = now or timezone.now()
    queued = 0
    campaigns = Campaign.objects.filter(
        reminder_after_days__isnull=False, status__in=[CampaignStatus.ACTIVE, CampaignStatus.FINISHED]
    ).values_list("pk", "reminder_after_days")
    for campaign_id, days in campaigns:
        due = (
            Invitation.objects.filter(
                campaign_id=campaign_id,
                status=InvitationStatus.SENT,
                reminder_status="",
                sent_at__lte=now - dt.timedelta(days=days),
                sent_at__gte=now - dt.timedelta(days=LINK_VALID_DAYS - 1),
            )
            .exclude(round__status=RoundStatus.CANCELLED)
            .filter(~Exists(Response.objects.filter(invitation=OuterRef("pk"))))
        )
        with transaction.atomic():
            rounds = set(due.values_list("round_id", flat=True).distinct())
            count = Invitation.objects.filter(pk__in=due.values("pk")).update(
                reminder_status=ReminderStatus.QUEUED
            )
            queued += count
            for round_id in rounds:
                _dispatch_on_commit(round_id, REMINDER)
    return queued


@dataclass
class TickReport:
    rounds_started: int = 0
    reminders_queued: int = 0
    claims_recovered: int = 0
    rounds_restarted: int = 0
    rounds_finished: int = 0


def feedback_tick(*, now: dt.datetime | None = None) -> TickReport:
    """Celery beat's minute: everything that is due happens here, from rows in the database."""
    from .tasks import enqueue, round_dispatch_task

    now = now or timezone.now()
    report = TickReport()
    due_rounds = CampaignRound.objects.filter(
        status=RoundStatus.SCHEDULED, scheduled_at__lte=now, campaign__status=CampaignStatus.ACTIVE
    ).values_list("pk", flat=True)
    for round_id in list(due_rounds):
        if round_start(round_id=round_id, now=now).started:
            report.rounds_started += 1
    report.reminders_queued = reminders_queue(now=now)
    report.claims_recovered = sum(invitations_recover(now=now).values())
    # Rounds with due work and no recent progress: their sender chains died (or the work is a
    # triggered send whose time has come). Starting extra senders is harmless: they claim
    # disjoint rows or nothing.
    stalled = now - STALL_AFTER
    waiting = (
        CampaignRound.objects.filter(status=RoundStatus.SENDING, campaign__status=CampaignStatus.ACTIVE)
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lte=stalled))
        .filter(
            Exists(
                Invitation.objects.filter(
                    round=OuterRef("pk"), status=InvitationStatus.QUEUED, send_after__lte=now
                )
            )
        )
        .values_list("pk", flat=True)
    )
    for round_id in list(waiting):
        CampaignRound.objects.filter(pk=round_id).update(heartbeat_at=now)
        enqueue(round_dispatch_task, round_id=round_id, lane=INVITE)
        report.rounds_restarted += 1
    reminding = (
        CampaignRound.objects.filter(campaign__status__in=[CampaignStatus.ACTIVE, CampaignStatus.FINISHED])
        .filter(Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lte=stalled))
        .filter(
            Exists(Invitation.objects.filter(round=OuterRef("pk"), reminder_status=ReminderStatus.QUEUED))
        )
        .values_list("pk", flat=True)
    )
    for round_id in list(reminding):
        CampaignRound.objects.filter(pk=round_id).update(heartbeat_at=now)
        enqueue(round_dispatch_task, round_id=round_id, lane=REMINDER)
    for round_id in list(
        CampaignRound.objects.filter(status=RoundStatus.SENDING).values_list("pk", flat=True)
    ):
        if round_finish_if_done(round_id=round_id, now=now):
            report.rounds_finished += 1
    return report


def triggered_campaigns(trigger: str) -> QuerySet[Campaign]:
    return Campaign.objects.filter(status=CampaignStatus.ACTIVE, trigger=trigger).select_related("created_by")
