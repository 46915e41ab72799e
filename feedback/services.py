"""Every write on surveys that carries a business rule: campaigns and their life cycle, triggered
sends, answers, closing the loop on unhappy answers, and the suppression list. Views, the API,
the admin, tasks and signals call these; none of them repeats a rule.

The outbox itself (writing invitations for an audience, claiming and sending them exactly
once, reminders, the beat tick) is in ``services_outbox``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    Account,
    Contact,
    ContactRole,
    LifecycleStage,
    Segment,
    Tier,
    Touchpoint,
    TouchpointKind,
)
from audit.models import AuditAction
from audit.services import audit_record
from team.models import User

from . import services_outbox as outbox
from .models import (
    LANGUAGES,
    Answer,
    Campaign,
    CampaignRound,
    CampaignStatus,
    FollowUp,
    FollowUpOutcome,
    Invitation,
    InvitationStatus,
    QuestionKind,
    ReminderStatus,
    Response,
    RoundStatus,
    Suppression,
    Survey,
    Trigger,
    band_for,
)

REVISION_WINDOW = dt.timedelta(days=1)  # an answer may be changed this long after it was first given
TEXT_MAX = 2000
SHORT_TEXT_MAX = 200
FOLLOW_UP_DUE_DAYS = 2

# ---------------------------------------------------------------- campaigns


def _clean_campaign(
    *,
    by: User,
    name: str,
    survey: Survey | None,
    segment: str,
    tier: str,
    lifecycle_stage: str,
    account_owner: User | None,
    contact_role: str,
    accounts: Iterable[Account] | None,
    send_at: dt.datetime | None,
    reminder_after_days: int | None,
    recurrence_months: int | None,
    throttle_days: int,
    trigger: str,
    trigger_delay_days: int,
    now: dt.datetime,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Name the campaign.")
    elif len(name) > 150:
        errors["name"] = _("Keep the name under 150 characters.")
    if survey is None:
        errors["survey"] = _("Choose a survey.")
    elif not survey.is_active:
        errors["survey"] = _("This survey is switched off; choose an active one.")
    for field, value, choices in (
        ("segment", segment, Segment.values),
        ("tier", tier, Tier.values),
        ("lifecycle_stage", lifecycle_stage, LifecycleStage.values),
        ("contact_role", contact_role, ContactRole.values),
        ("trigger", trigger, Trigger.values),
    ):
        if value and value not in choices:
            errors[field] = _("Choose one of the options.")
    if account_owner is not None:
        if not account_owner.has_app_access:
            errors["account_owner"] = _("Choose a CSM or manager.")
        elif not by.sees_all_accounts and account_owner.pk != by.pk:
            errors["account_owner"] = _(
                "You can survey only your own accounts: choose yourself or leave it empty."
            )
    account_list = list(accounts or [])
    if account_list:
        visible = set(
            Account.objects.visible_to(by)
            .filter(pk__in=[a.pk for a in account_list])
            .values_list("pk", flat=True)
        )
        if len(visible) != len({a.pk for a in account_list}):
            errors["accounts"] = _("Some of these accounts are not in your portfolio.")
    if reminder_after_days is not None and not 1 <= reminder_after_days <= 60:
        errors["reminder_after_days"] = _("Remind after 1 to 60 days, or leave it empty for no reminder.")
    if recurrence_months is not None and recurrence_months not in (3, 6, 12):
        errors["recurrence_months"] = _("Repeat every 3, 6 or 12 months, or leave it empty.")
    if throttle_days is None or not 0 <= throttle_days <= 365:
        errors["throttle_days"] = _("Enter 0 to 365 days.")
    if trigger_delay_days is None or not 0 <= trigger_delay_days <= 365:
        errors["trigger_delay_days"] = _("Enter 0 to 365 days.")
    if trigger:
        if recurrence_months:
            errors["recurrence_months"] = _("A triggered campaign sends on each event; it does not repeat.")
        send_at = None
    else:
        if trigger_delay_days:
            errors["trigger_delay_days"] = _("Only triggered campaigns wait after an event.")
        if send_at is not None:
            if timezone.is_naive(send_at):
                errors["send_at"] = _("Give the send time with a time zone.")
            elif send_at < now - dt.timedelta(minutes=5):
                errors["send_at"] = _("The send time is in the past; leave it empty to send at launch.")
            elif send_at > now + dt.timedelta(days=366):
                errors["send_at"] = _("Choose a send time within a year.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "survey": survey,
        "segment": segment or "",
        "tier": tier or "",
        "lifecycle_stage": lifecycle_stage or "",
        "account_owner": account_owner,
        "contact_role": contact_role or "",
        "send_at": send_at,
        "reminder_after_days": reminder_after_days,
        "recurrence_months": recurrence_months,
        "throttle_days": throttle_days,
        "trigger": trigger or "",
        "trigger_delay_days": trigger_delay_days or 0,
        "_accounts": account_list,
    }


CAMPAIGN_DEFAULTS: dict[str, Any] = {
    "segment": "",
    "tier": "",
    "lifecycle_stage": "",
    "account_owner": None,
    "contact_role": "",
    "accounts": None,
    "send_at": None,
    "reminder_after_days": None,
    "recurrence_months": None,
    "throttle_days": 30,
    "trigger": "",
    "trigger_delay_days": 0,
}


@transaction.atomic
def campaign_create(*, by: User, name: str, survey: Survey | None, **options: Any) -> Campaign:
    """A draft campaign: the survey, the audience, when to send, reminder, recurrence, throttling.

    ``options`` are the keys of CAMPAIGN_DEFAULTS; nothing is sent until it is launched."""
    unknown = set(options) - set(CAMPAIGN_DEFAULTS)
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in unknown})
    values = _clean_campaign(
        by=by, name=name, survey=survey, now=timezone.now(), **{**CAMPAIGN_DEFAULTS, **options}
    )
    accounts = values.pop("_accounts")
    campaign = Campaign.objects.create(created_by=by, **values)
    if accounts:
        campaign.accounts.set(accounts)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, by: User, **changes: Any) -> Campaign:
    """Change a draft (a launched campaign's audience and timing are what was sent)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("Only a draft can be changed; this campaign is already launched."))
    unknown = set(changes) - set(CAMPAIGN_DEFAULTS) - {"name", "survey"}
    if unknown:
        raise ValidationError({field: _("Unknown field.") for field in unknown})
    current = {
        "name": campaign.name,
        "survey": campaign.survey,
        **{key: getattr(campaign, key) for key in CAMPAIGN_DEFAULTS if key != "accounts"},
        "accounts": list(campaign.accounts.all()),
    }
    current.update(changes)
    values = _clean_campaign(by=campaign.created_by, now=timezone.now(), **current)
    accounts = values.pop("_accounts")
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.save()
    campaign.accounts.set(accounts)
    return campaign


@transaction.atomic
def campaign_launch(
    *, campaign: Campaign, by: User | None = None, now: dt.datetime | None = None
) -> Campaign:
    """Launch a draft: a triggered campaign starts listening for its events; a scheduled one gets
    its first round, started now (in the background) or by beat at the send time."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().select_related("created_by", "survey").get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("This campaign was already launched."))
    if not campaign.survey.is_active:
        raise ValidationError({"survey": _("This survey is switched off; choose an active one.")})
    if not campaign.is_triggered:
        if not outbox.audience_contacts(campaign).exists():
            raise ValidationError(_("The audience is empty: no contact matches these filters."))
        if campaign.send_at is not None and campaign.send_at < now - dt.timedelta(minutes=5):
            raise ValidationError({"send_at": _("The send time is in the past; change it or clear it.")})
    campaign.status, campaign.launched_at = CampaignStatus.ACTIVE, now
    if not campaign.is_triggered:
        campaign.send_at = campaign.send_at or now
    campaign.save(update_fields=["status", "launched_at", "send_at"])
    if not campaign.is_triggered:
        rnd = CampaignRound.objects.create(campaign=campaign, number=1, scheduled_at=campaign.send_at)
        if rnd.scheduled_at <= now:
            from .tasks import enqueue, round_start_task

            transaction.on_commit(lambda: enqueue(round_start_task, round_id=rnd.pk))
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Stop sending: senders stop after the chunk in hand; queued invitations wait."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError(_("Only an active campaign can be paused."))
    campaign.status = CampaignStatus.PAUSED
    campaign.save(update_fields=["status"])
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, by: User | None = None) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.PAUSED:
        raise ValidationError(_("Only a paused campaign can be resumed."))
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status"])
    now = timezone.now()
    for rnd in campaign.rounds.filter(status=RoundStatus.SENDING):
        outbox._dispatch_on_commit(rnd.pk, outbox.INVITE)
    for round_id in set(
        campaign.invitations.filter(reminder_status=ReminderStatus.QUEUED).values_list("round_id", flat=True)
    ):
        outbox._dispatch_on_commit(round_id, outbox.REMINDER)
    due = campaign.rounds.filter(status=RoundStatus.SCHEDULED, scheduled_at__lte=now).values_list(
        "pk", flat=True
    )
    for round_id in list(due):
        from .tasks import enqueue, round_start_task

        transaction.on_commit(lambda round_id=round_id: enqueue(round_start_task, round_id=round_id))
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, by: User | None = None) -> Campaign:
    """Stop for good: nothing more is sent (answers already given stay)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.FINISHED):
        raise ValidationError(_("This campaign is already over."))
    campaign.status = CampaignStatus.CANCELLED
    campaign.save(update_fields=["status"])
    campaign.invitations.filter(status=InvitationStatus.QUEUED).update(status=InvitationStatus.CANCELLED)
    campaign.invitations.filter(reminder_status=ReminderStatus.QUEUED).update(
        reminder_status=ReminderStatus.SKIPPED
    )
    now = timezone.now()
    campaign.rounds.filter(status=RoundStatus.SCHEDULED).update(status=RoundStatus.CANCELLED, finished_at=now)
    campaign.rounds.filter(status=RoundStatus.SENDING).update(status=RoundStatus.SENT, finished_at=now)
    return campaign


@transaction.atomic
def campaign_delete_draft(*, campaign: Campaign, by: User | None = None) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("Only a draft can be deleted; cancel a launched campaign instead."))
    audit_record(actor=by, action=AuditAction.DELETE, target=campaign, details={"via": "campaign page"})
    campaign.delete()


# ---------------------------------------------------------------- triggered sends


def survey_trigger_after_touchpoint(*, touchpoint: Touchpoint) -> list[Invitation]:
    """CSAT (or whatever the campaign asks) after a support touchpoint, to the contact touched,
    by every active campaign triggered by support touchpoints. Same consent, suppression and
    throttling as any send. Connected to Touchpoint's post_save (created, on commit)."""
    if touchpoint.kind != TouchpointKind.SUPPORT or touchpoint.contact_id is None:
        return []
    contact = Contact.objects.filter(pk=touchpoint.contact_id).first()
    if contact is None:
        return []
    now = timezone.now()
    invitations = []
    for campaign in outbox.triggered_campaigns(Trigger.SUPPORT):
        invitation = outbox.invitation_trigger(
            campaign=campaign,
            contact=contact,
            send_after=now + dt.timedelta(days=campaign.trigger_delay_days),
            source=f"touchpoint:{touchpoint.pk}",
            now=now,
        )
        if invitation is not None:
            invitations.append(invitation)
    return invitations


def survey_trigger_after_onboarding(*, account: Account, completed_at: dt.datetime) -> list[Invitation]:
    """NPS N days after an account's onboarding completes (N: the campaign's delay), to the
    account's contacts in the campaign's audience. Beat sends them when their day comes."""
    invitations = []
    now = timezone.now()
    for campaign in outbox.triggered_campaigns(Trigger.ONBOARDING):
        contacts = outbox.audience_contacts(campaign).filter(account=account).order_by("pk")
        for contact in contacts:
            invitation = outbox.invitation_trigger(
                campaign=campaign,
                contact=contact,
                send_after=completed_at + dt.timedelta(days=campaign.trigger_delay_days),
                source=f"onboarding:{account.pk}",
                now=now,
            )
            if invitation is not None:
                invitations.append(invitation)
    return invitations


# ---------------------------------------------------------------- answering


def invitation_state(invitation: Invitation, now: dt.datetime | None = None) -> str:
    """ "open" (can be answered), "expired" (too old or the campaign was cancelled) or "closed"
    (never sent: nobody should have its link)."""
    now = now or timezone.now()
    if invitation.status != InvitationStatus.SENT or invitation.sent_at is None:
        return "closed"
    if invitation.campaign.status == CampaignStatus.CANCELLED:
        return "expired"
    if invitation.sent_at + dt.timedelta(days=outbox.LINK_VALID_DAYS) < now:
        return "expired"
    return "open"


def invitation_opened(*, invitation: Invitation, now: dt.datetime | None = None) -> None:
    """Note the first time the link was opened (a GET records nothing else: scanners open links)."""
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=now or timezone.now()
        )


def _clean_answers(survey: Survey, answers: Mapping[int, Any], errors: dict[str, str]) -> list[tuple]:
    """Check the answers to the further questions: [(question, choice ids, rating, text)]."""
    cleaned = []
    for question in survey.questions.all():
        key = f"q_{question.pk}"
        value = answers.get(question.pk)
        choice_ids = {c.pk for c in question.choices.all()}
        empty = value in (None, "", [], ())
        if empty:
            if question.required:
                errors[key] = _("Please answer this question.")
            continue
        if question.kind == QuestionKind.SINGLE:
            try:
                picked = int(value)
            except (TypeError, ValueError):
                picked = None
            if picked not in choice_ids:
                errors[key] = _("Choose one of the options.")
                continue
            cleaned.append((question, [picked], None, ""))
        elif question.kind == QuestionKind.MULTIPLE:
            values = value if isinstance(value, list | tuple) else [value]
            try:
                picked_ids = sorted({int(v) for v in values})
            except (TypeError, ValueError):
                picked_ids = []
            if not picked_ids or not set(picked_ids) <= choice_ids:
                errors[key] = _("Choose among the options.")
                continue
            cleaned.append((question, picked_ids, None, ""))
        elif question.kind == QuestionKind.RATING:
            try:
                rating = int(value)
            except (TypeError, ValueError):
                rating = 0
            if not 1 <= rating <= 5:
                errors[key] = _("Choose a rating from 1 to 5.")
                continue
            cleaned.append((question, [], rating, ""))
        else:
            text = str(value).strip()
            limit = SHORT_TEXT_MAX if question.kind == QuestionKind.SHORT_TEXT else TEXT_MAX
            if len(text) > limit:
                errors[key] = _("Keep it under %(n)s characters.") % {"n": limit}
                continue
            if text:
                cleaned.append((question, [], None, text))
            elif question.required:
                errors[key] = _("Please answer this question.")
    return cleaned


@transaction.atomic
def response_submit(
    *,
    invitation: Invitation,
    score: int | None,
    follow_up: str = "",
    comment: str = "",
    answers: Mapping[int, Any] | None = None,
    language: str = "",
    now: dt.datetime | None = None,
) -> Response:
    """Record the answer to one invitation, or revise it within a day of the first answer.

    One response per invitation (the invitation row is locked, and the database allows one).
    An unhappy score (NPS 0-6, CSAT 1-2, CES 1-3) opens a follow-up task for the account's
    owner and emits the "detractor response" webhook, once per response.
    """
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("campaign__survey", "account", "contact", "round")
        .get(pk=invitation.pk)
    )
    survey = invitation.campaign.survey
    state = invitation_state(invitation, now)
    if state != "open":
        raise ValidationError(_("This survey link has expired."), code=state)
    errors: dict[str, str] = {}
    if not survey.accepts(score):
        if survey.asks_score:
            low, high = survey.scale
            errors["score"] = _("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}
        else:
            errors["score"] = _("This survey does not ask for a score.")
    follow_up, comment = (follow_up or "").strip(), (comment or "").strip()
    if len(follow_up) > TEXT_MAX:
        errors["follow_up"] = _("Keep it under %(n)s characters.") % {"n": TEXT_MAX}
    if len(comment) > TEXT_MAX:
        errors["comment"] = _("Keep it under %(n)s characters.") % {"n": TEXT_MAX}
    cleaned = _clean_answers(survey, answers or {}, errors)
    if errors:
        raise ValidationError(errors)
    language = language if language in LANGUAGES else invitation.language
    band = band_for(survey.kind, score) if survey.asks_score else ""
    response = Response.objects.filter(invitation=invitation).first()
    if response is not None:
        if now - response.answered_at > REVISION_WINDOW:
            raise ValidationError(_("This answer can no longer be changed."), code="locked")
        response.score, response.band, response.follow_up, response.comment = score, band, follow_up, comment
        response.language, response.updated_at, response.revisions = language, now, response.revisions + 1
        response.save(
            update_fields=["score", "band", "follow_up", "comment", "language", "updated_at", "revisions"]
        )
        response.answers.all().delete()
    else:
        response = Response.objects.create(
            invitation=invitation,
            campaign_id=invitation.campaign_id,
            round_id=invitation.round_id,
            survey=survey,
            account_id=invitation.account_id,
            contact_id=invitation.contact_id,
            kind=survey.kind,
            score=score,
            band=band,
            follow_up=follow_up,
            comment=comment,
            language=language,
            answered_at=now,
            updated_at=now,
        )
    for question, choice_ids, rating, text in cleaned:
        answer = Answer.objects.create(response=response, question=question, rating=rating, text=text)
        if choice_ids:
            answer.choices.set(choice_ids)
    if survey.is_unhappy(score) and not FollowUp.objects.filter(response=response).exists():
        follow_up_open(response=response, now=now)
    elif FollowUp.objects.filter(response=response, closed_at__isnull=True).exists():
        _follow_up_refresh_notes(response)
    from health.services import accounts_health_schedule_recompute

    accounts_health_schedule_recompute(account_ids=[invitation.account_id])
    return response


def _task_notes(response: Response) -> str:
    lines = []
    if response.follow_up:
        lines.append(f"“{response.follow_up}”")
    if response.comment:
        lines.append(f"“{response.comment}”")
    lines.append(
        _("Record what came of it: %(url)s")
        % {"url": reverse("feedback:follow_up_list") + f"?q={response.contact.email}"}
    )
    return "\n".join(lines)[:5000]


def _follow_up_title(response: Response) -> str:
    return _("Follow up: %(kind)s %(score)s from %(contact)s") % {
        "kind": response.kind.upper(),
        "score": response.score,
        "contact": response.contact.name or response.contact.email,
    }


@transaction.atomic
def follow_up_open(*, response: Response, now: dt.datetime | None = None) -> FollowUp:
    """Close the loop: a task for the account's owner with the comment, a follow-up record, and
    the "detractor response" webhook. Staff-facing text is in the platform's language."""
    from api.events import WebhookEvent
    from api.services import webhooks_emit
    from health.models import Priority
    from health.services import task_create

    now = now or timezone.now()
    response = Response.objects.select_related("account__owner", "contact", "campaign").get(pk=response.pk)
    account = response.account
    with translation.override(settings.LANGUAGE_CODE):
        task = task_create(
            account=account,
            title=_follow_up_title(response)[:200],
            due_date=timezone.localdate(now) + dt.timedelta(days=FOLLOW_UP_DUE_DAYS),
            priority=Priority.HIGH,
            notes=_task_notes(response),
        )
    follow_up = FollowUp.objects.create(
        response=response, account=account, owner_id=account.owner_id, task=task, opened_at=now
    )
    webhooks_emit(
        event=WebhookEvent.DETRACTOR_RESPONSE,
        payload={
            "response_id": response.pk,
            "survey_kind": response.kind,
            "score": response.score,
            "band": response.band,
            "follow_up": response.follow_up,
            "comment": response.comment,
            "answered_at": response.answered_at,
            "campaign": {"id": response.campaign_id, "name": response.campaign.name},
            "account": {"id": account.pk, "name": account.name, "external_id": account.external_id},
            "contact": {
                "id": response.contact_id,
                "name": response.contact.name,
                "email": response.contact.email,
            },
            "owner": account.owner.email if account.owner else None,
            "task_id": task.pk,
        },
    )
    return follow_up


def _follow_up_refresh_notes(response: Response) -> None:
    from health.models import Task, TaskStatus

    follow_up = FollowUp.objects.select_related("task").filter(response=response).first()
    if follow_up and follow_up.task and follow_up.task.status == TaskStatus.OPEN:
        with translation.override(settings.LANGUAGE_CODE):
            Task.objects.filter(pk=follow_up.task_id).update(
                notes=_task_notes(response), title=_follow_up_title(response)[:200]
            )


@transaction.atomic
def follow_up_close(*, follow_up: FollowUp, outcome: str, note: str = "", by: User | None = None) -> FollowUp:
    """The CSM records what came of the follow-up; its task is completed with it."""
    from health.models import TaskStatus
    from health.services import task_complete

    follow_up = FollowUp.objects.select_for_update(of=("self",)).select_related("task").get(pk=follow_up.pk)
    errors: dict[str, str] = {}
    if follow_up.closed_at is not None:
        errors["outcome"] = _("The loop on this answer is already closed.")
    elif outcome not in FollowUpOutcome.values:
        errors["outcome"] = _("Choose what came of it.")
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        errors["note"] = _("Keep it under %(n)s characters.") % {"n": TEXT_MAX}
    if errors:
        raise ValidationError(errors)
    follow_up.outcome, follow_up.note, follow_up.closed_at, follow_up.closed_by = (
        outcome,
        note,
        timezone.now(),
        by,
    )
    follow_up.save(update_fields=["outcome", "note", "closed_at", "closed_by"])
    if follow_up.task and follow_up.task.status == TaskStatus.OPEN:
        task_complete(task=follow_up.task, by=by)
    return follow_up


# ---------------------------------------------------------------- suppression


@transaction.atomic
def suppression_add(
    *, email: str, reason: str, detail: str = "", invitation: Invitation | None = None
) -> Suppression:
    """Put an address on the suppression list (idempotent: an address is listed once)."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    if reason not in Suppression.Reason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    suppression, _created = Suppression.objects.get_or_create(
        email=email, defaults={"reason": reason, "detail": (detail or "")[:500], "invitation": invitation}
    )
    return suppression


@transaction.atomic
def suppression_remove(*, suppression: Suppression, by: User | None = None) -> None:
    """Take an address off the list (for example, the customer asked to get surveys again)."""
    Suppression.objects.filter(pk=suppression.pk).delete()


def unsubscribe(*, invitation: Invitation) -> Suppression:
    """The contact asked for no more surveys (one click, RFC 8058, or the confirmation page)."""
    return suppression_add(
        email=invitation.email, reason=Suppression.Reason.UNSUBSCRIBED, invitation=invitation
    )


def suppressed(email: str) -> bool:
    return Suppression.objects.filter(Q(email=(email or "").strip().lower())).exists()
