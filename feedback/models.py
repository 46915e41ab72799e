"""Surveys, questions, campaigns and their rounds, invitations (the outbox), responses,
the suppression list and follow-ups of unhappy answers.

The invariants live in the database: one invitation per campaign round and contact, one
response per invitation, one answer per question of a response, one suppression per address,
one follow-up per response, a score within its survey's scale.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, ContactRole, LifecycleStage, Segment, Tier
from cs_app.public_tokens import token_digest

from . import texts

LANGUAGES = ("en", "tr", "zh-hant")


def _lang_suffix(language: str) -> str:
    return {"tr": "_tr", "zh-hant": "_zh_hant"}.get(language, "")


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0 to 10)")
    CSAT = "csat", _("CSAT (1 to 5)")
    CES = "ces", _("CES (1 to 7)")
    CUSTOM = "custom", _("Custom")


class Band(models.TextChoices):
    DETRACTOR = "detractor", _("Detractor / unhappy")
    PASSIVE = "passive", _("Passive / neutral")
    PROMOTER = "promoter", _("Promoter / happy")


def band_for(kind: str, score: int | None) -> str:
    """The score band: NPS 0-6 / 7-8 / 9-10; CSAT and custom ratings 1-2 / 3 / 4-5; CES 1-3 / 4 / 5-7."""
    if score is None:
        return ""
    if kind == SurveyKind.NPS:
        return Band.DETRACTOR if score <= 6 else Band.PASSIVE if score <= 8 else Band.PROMOTER
    if kind == SurveyKind.CES:
        return Band.DETRACTOR if score <= 3 else Band.PASSIVE if score == 4 else Band.PROMOTER
    return Band.DETRACTOR if score <= 2 else Band.PASSIVE if score == 3 else Band.PROMOTER


def _scale_check() -> Q:
    checks = Q(score__isnull=True, kind=SurveyKind.CUSTOM)
    for kind, (low, high) in texts.SCALES.items():
        checks |= Q(kind=kind, score__gte=low, score__lte=high)
    return checks


class TranslatedText:
    """Fields ``<name>``, ``<name>_tr`` and ``<name>_zh_hant``: the text in a language, falling
    back to English, then to the built-in default."""

    def text(self, name: str, language: str, default: str = "") -> str:
        value = getattr(self, f"{name}{_lang_suffix(language)}", "") or getattr(self, name, "")
        return value or str(default)


class Survey(TranslatedText, models.Model):
    """What is asked: a score question of a kind (NPS, CSAT, CES, or a custom 1-5 rating), a
    follow-up question by score band, and any further ordered questions."""

    name = models.CharField(_("name"), max_length=120, help_text=_("For staff; customers never see it."))
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    asks_score = models.BooleanField(
        _("asks for a score"),
        default=True,
        help_text=_("NPS, CSAT and CES always do; a custom survey may ask only its own questions."),
    )
    question = models.CharField(
        _("score question (English)"),
        max_length=300,
        blank=True,
        help_text=_("Leave empty for the standard wording of the kind."),
    )
    question_tr = models.CharField(_("score question (Turkish)"), max_length=300, blank=True)
    question_zh_hant = models.CharField(_("score question (Traditional Chinese)"), max_length=300, blank=True)
    follow_up_detractor = models.CharField(
        _("follow-up for a low score (English)"), max_length=300, blank=True
    )
    follow_up_detractor_tr = models.CharField(_("follow-up, low (Turkish)"), max_length=300, blank=True)
    follow_up_detractor_zh_hant = models.CharField(
        _("follow-up, low (Traditional Chinese)"), max_length=300, blank=True
    )
    follow_up_passive = models.CharField(
        _("follow-up for a middle score (English)"), max_length=300, blank=True
    )
    follow_up_passive_tr = models.CharField(_("follow-up, middle (Turkish)"), max_length=300, blank=True)
    follow_up_passive_zh_hant = models.CharField(
        _("follow-up, middle (Traditional Chinese)"), max_length=300, blank=True
    )
    follow_up_promoter = models.CharField(
        _("follow-up for a high score (English)"), max_length=300, blank=True
    )
    follow_up_promoter_tr = models.CharField(_("follow-up, high (Turkish)"), max_length=300, blank=True)
    follow_up_promoter_zh_hant = models.CharField(
        _("follow-up, high (Traditional Chinese)"), max_length=300, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SurveyKind.values), name="survey_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=SurveyKind.CUSTOM) | Q(asks_score=True), name="survey_standard_asks_score"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        return texts.SCALES[self.kind]

    def accepts(self, score: int | None) -> bool:
        if not self.asks_score:
            return score is None
        low, high = self.scale
        return score is not None and low <= score <= high

    def is_unhappy(self, score: int | None) -> bool:
        """NPS 0-6, CSAT 1-2, CES 1-3 (and a custom rating of 1-2) open a follow-up."""
        return self.asks_score and band_for(self.kind, score) == Band.DETRACTOR

    def question_text(self, language: str = "en") -> str:
        return self.text("question", language, texts.QUESTION[self.kind])

    def follow_up_text(self, band: str, language: str) -> str:
        if not band:
            return str(texts.FOLLOW_UP_ANY)
        return self.text(f"follow_up_{band}", language, texts.FOLLOW_UP[self.kind][band])

    def low_label(self) -> str:
        return str(texts.LOW_LABEL[self.kind])

    def high_label(self) -> str:
        return str(texts.HIGH_LABEL[self.kind])


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    RATING = "rating", _("Rating (1 to 5)")
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")


class Question(TranslatedText, models.Model):
    """A further question of a survey, asked in ``position`` order after the score."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=12, choices=QuestionKind.choices)
    prompt = models.CharField(_("question (English)"), max_length=300)
    prompt_tr = models.CharField(_("question (Turkish)"), max_length=300, blank=True)
    prompt_zh_hant = models.CharField(_("question (Traditional Chinese)"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="question_position_unique"),
            models.CheckConstraint(condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"),
            models.CheckConstraint(condition=~Q(prompt=""), name="question_prompt_required"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.prompt}"

    @property
    def has_choices(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Choice(TranslatedText, models.Model):
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="choices"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    label = models.CharField(_("label (English)"), max_length=200)
    label_tr = models.CharField(_("label (Turkish)"), max_length=200, blank=True)
    label_zh_hant = models.CharField(_("label (Traditional Chinese)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="choice_position_unique"),
            models.CheckConstraint(condition=~Q(label=""), name="choice_label_required"),
        ]

    def __str__(self) -> str:
        return self.label


# ---------------------------------------------------------------- campaigns


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


class Trigger(models.TextChoices):
    NONE = "", _("None: sent at the send time")
    SUPPORT = "support", _("After a support touchpoint (to the contact touched)")
    ONBOARDING = "onboarding", _("Days after onboarding completes")


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user) -> CampaignQuerySet:
        """CSMs see the campaigns they created; managers and admins see every campaign."""
        if not getattr(user, "is_authenticated", False) or not user.has_app_access:
            return self.none()
        if user.sees_all_accounts:
            return self
        return self.filter(created_by=user)


class Campaign(models.Model):
    """A survey sent to an audience: at a send time (and again every 3, 6 or 12 months), or
    triggered by an event. Each send is a round with its own score."""

    name = models.CharField(_("name"), max_length=150)
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="campaigns"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="survey_campaigns",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices, blank=True, default="")
    trigger_delay_days = models.PositiveSmallIntegerField(
        _("days after the event"),
        default=0,
        help_text=_(
            "For triggered campaigns: wait this many days after the event (e.g. 14 after onboarding)."
        ),
    )
    # Audience: every filter left empty means "every account the creator may see".
    segment = models.CharField(_("segment"), max_length=20, choices=Segment.choices, blank=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, blank=True
    )
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    contact_role = models.CharField(_("contact role"), max_length=20, choices=ContactRole.choices, blank=True)
    accounts = models.ManyToManyField(
        Account,
        verbose_name=_("only these accounts"),
        blank=True,
        related_name="survey_campaigns",
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind non-responders after (days)"), null=True, blank=True
    )
    recurrence_months = models.PositiveSmallIntegerField(
        _("repeat every (months)"),
        null=True,
        blank=True,
        choices=[(3, _("3 months")), (6, _("6 months")), (12, _("12 months"))],
    )
    throttle_days = models.PositiveSmallIntegerField(
        _("skip contacts surveyed in the last (days)"),
        default=30,
        help_text=_("Across every campaign. 0 turns throttling off for this campaign."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"
            ),
            models.CheckConstraint(condition=Q(trigger__in=Trigger.values), name="campaign_trigger_valid"),
            models.CheckConstraint(
                condition=Q(recurrence_months__isnull=True) | Q(recurrence_months__in=[3, 6, 12]),
                name="campaign_recurrence_valid",
            ),
            models.CheckConstraint(
                condition=Q(reminder_after_days__isnull=True)
                | Q(reminder_after_days__gte=1, reminder_after_days__lte=60),
                name="campaign_reminder_days_valid",
            ),
            models.CheckConstraint(condition=Q(throttle_days__lte=365), name="campaign_throttle_valid"),
            models.CheckConstraint(condition=Q(trigger_delay_days__lte=365), name="campaign_delay_valid"),
            models.CheckConstraint(
                condition=~Q(trigger="") | Q(status=CampaignStatus.DRAFT) | Q(send_at__isnull=False),
                name="campaign_scheduled_has_send_time",
            ),
        ]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="campaign_creator_idx"),
            models.Index(fields=["status", "trigger"], name="campaign_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("feedback:campaign_detail", args=[self.pk])

    @property
    def is_triggered(self) -> bool:
        return bool(self.trigger)


class RoundStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignRound(models.Model):
    """One send of a campaign. A recurring campaign has one per period; a triggered campaign one
    per calendar month (``number`` = YYYYMM). Each round is scored on its own."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="rounds"
    )
    number = models.PositiveIntegerField(_("round"))
    scheduled_at = models.DateTimeField(_("scheduled for"))
    status = models.CharField(
        _("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.SCHEDULED
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign round")
        verbose_name_plural = _("campaign rounds")
        ordering = ["campaign", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="round_number_unique"),
            models.CheckConstraint(condition=Q(status__in=RoundStatus.values), name="round_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="round_due_idx")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.label}"

    @property
    def label(self) -> str:
        if self.number > 100000:  # a triggered campaign's month
            return f"{self.number // 100}-{self.number % 100:02d}"
        return str(_("Round %(n)s") % {"n": self.number})


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class SkipReason(models.TextChoices):
    NONE = "", _("—")
    THROTTLED = "throttled", _("Surveyed recently (throttled)")
    SUPPRESSED = "suppressed", _("On the suppression list")
    OPTED_OUT = "opted_out", _("Contact does not accept surveys")
    DUPLICATE = "duplicate", _("Same address already invited this round")


class ReminderStatus(models.TextChoices):
    NONE = "", _("None")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def bulk_create(self, objs, *args, **kwargs):
        """Rows made in bulk get their token digest too (``save()`` is not called)."""
        objs = list(objs)
        for obj in objs:
            if obj.token:
                obj.token_digest = token_digest(obj.token)
        return super().bulk_create(objs, *args, **kwargs)


class Invitation(models.Model):
    """The outbox: one row per campaign round and contact, written before anything is sent.

    Senders claim queued rows (row locks that skip locked rows), mark each ``sent`` with its
    Message-ID, and a reminder goes through the same rows (``reminder_status``). A row being
    sent carries its sender's ``claim_token``; a claim older than the lease is taken back.
    """

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="invitations"
    )
    round = models.ForeignKey(
        CampaignRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="invitations"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    email = models.EmailField(_("email"), max_length=254)
    language = models.CharField(_("language"), max_length=10, default="en")
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    # SHA-256 of the token: the public pages look the row up by this, never by the token
    # (cs_app.public_tokens). Filled by save() and by the queryset's bulk_create().
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.QUEUED
    )
    skip_reason = models.CharField(
        _("skipped because"), max_length=12, choices=SkipReason.choices, blank=True
    )
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.CharField(_("claimed by"), max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)
    opened_at = models.DateTimeField(_("link first opened"), null=True, blank=True)
    reminder_status = models.CharField(
        _("reminder"), max_length=10, choices=ReminderStatus.choices, blank=True, default=""
    )
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    reminder_message_id = models.CharField(_("reminder Message-ID"), max_length=200, blank=True)
    source = models.CharField(_("triggered by"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "contact"], name="invitation_once_per_round_contact"),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reminder_status__in=ReminderStatus.values),
                name="invitation_reminder_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status=InvitationStatus.SKIPPED) & ~Q(skip_reason=""))
                | (~Q(status=InvitationStatus.SKIPPED) & Q(skip_reason="")),
                name="invitation_skip_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=InvitationStatus.SENT) | (Q(sent_at__isnull=False) & ~Q(message_id="")),
                name="invitation_sent_has_message_id",
            ),
            models.CheckConstraint(
                condition=~Q(status=InvitationStatus.SENDING) | ~Q(claim_token=""),
                name="invitation_sending_is_claimed",
            ),
            models.CheckConstraint(
                condition=Q(reminder_status="") | Q(status=InvitationStatus.SENT),
                name="invitation_reminder_after_sent",
            ),
        ]
        indexes = [
            models.Index(fields=["round", "status"], name="invitation_round_status_idx"),
            models.Index(
                fields=["round", "send_after", "id"],
                name="invitation_queued_idx",
                condition=Q(status="queued"),
            ),
            models.Index(
                fields=["round", "id"], name="invitation_reminder_idx", condition=Q(reminder_status="queued")
            ),
            models.Index(fields=["contact", "sent_at"], name="invitation_contact_sent_idx"),
            models.Index(fields=["email", "sent_at"], name="invitation_email_sent_idx"),
            models.Index(fields=["campaign", "status"], name="invitation_campaign_idx"),
            models.Index(
                fields=["status", "claimed_at"], name="invitation_claim_idx", condition=Q(status="sending")
            ),
            models.Index(fields=["account", "-created_at"], name="invitation_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.round_id}"

    def save(self, *args, **kwargs) -> None:
        if self.token:
            self.token_digest = token_digest(self.token)
            if kwargs.get("update_fields") is not None and "token" in kwargs["update_fields"]:
                kwargs["update_fields"] = {*kwargs["update_fields"], "token_digest"}
        super().save(*args, **kwargs)

    def get_public_url(self) -> str:
        return reverse("feedback_public:answer", args=[self.token])


class Suppression(models.Model):
    """An address that gets no survey: unsubscribed, bounced, or added by an admin. Checked when
    the audience is written and again when each message is sent."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        MANUAL = "manual", _("Added by staff")

    email = models.EmailField(_("email"), max_length=254)
    reason = models.CharField(_("reason"), max_length=15, choices=Reason.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("from invitation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="suppression_email_unique"),
            models.CheckConstraint(
                condition=Q(reason__in=["unsubscribed", "bounced", "complained", "manual"]),
                name="suppression_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"


class Response(models.Model):
    """A contact's answer to one invitation: the score, the follow-up, a comment and the answers
    to further questions. Kind, account, contact and campaign are copied from the invitation so
    that analysis is one query over responses."""

    id = models.BigAutoField(primary_key=True)
    invitation = models.OneToOneField(
        Invitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="response"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="responses"
    )
    round = models.ForeignKey(
        CampaignRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="responses"
    )
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="responses"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="survey_responses"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="survey_responses"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=10, choices=Band.choices, blank=True)
    follow_up = models.TextField(_("follow-up answer"), max_length=2000, blank=True)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    language = models.CharField(_("answered in"), max_length=10, default="en")
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    revisions = models.PositiveSmallIntegerField(_("revisions"), default=0)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=_scale_check(), name="response_score_in_scale"),
            models.CheckConstraint(condition=Q(band__in=["", *Band.values]), name="response_band_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True, band="") | Q(score__isnull=False) & ~Q(band=""),
                name="response_band_with_score",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "answered_at"], name="response_kind_time_idx"),
            models.Index(fields=["account", "-answered_at"], name="response_account_idx"),
            models.Index(fields=["round"], name="response_round_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.score} · {self.contact_id}"


class Answer(models.Model):
    """The answer to one further question of a response."""

    response = models.ForeignKey(
        Response, verbose_name=_("response"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.CASCADE, related_name="answers"
    )
    choices = models.ManyToManyField(Choice, verbose_name=_("choices"), blank=True, related_name="answers")
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    text = models.TextField(_("text"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="answer_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.rating or self.text[:30]}"


class FollowUpOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Issue resolved")
    PLAN = "plan", _("Agreed a plan")
    EXPLAINED = "explained", _("Explained; no change")
    NO_REPLY = "no_reply", _("Customer did not reply")
    CHURN_RISK = "churn_risk", _("Escalated as churn risk")
    OTHER = "other", _("Other")


class FollowUp(models.Model):
    """Closing the loop on an unhappy answer: a task for the account's owner, and the outcome the
    CSM records. One per response."""

    response = models.OneToOneField(
        Response, verbose_name=_("response"), on_delete=models.CASCADE, related_name="follow_up_record"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="survey_follow_ups"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_follow_ups",
    )
    task = models.ForeignKey(
        "health.Task",
        verbose_name=_("task"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("loop closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(closed_at__isnull=True) & Q(outcome=""))
                | (Q(closed_at__isnull=False) & Q(outcome__in=FollowUpOutcome.values)),
                name="follow_up_closed_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "closed_at"], name="follow_up_owner_idx"),
            models.Index(fields=["account", "-opened_at"], name="follow_up_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.response} → {self.outcome or 'open'}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None
