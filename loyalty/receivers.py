"""Points for what happens elsewhere in the product, and referral conversion.

Each receiver runs after the change commits and awards through
``services.points_award_for_event`` with a key naming the source record, so a repeated signal
never awards twice. Apps that are not installed are simply not hooked.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Account

from .models import EarnEvent

log = logging.getLogger(__name__)


def _safely(func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except Exception:  # a reward must never break the action that earned it
        log.exception("loyalty: %s failed", getattr(func, "__name__", func))


@receiver(post_save, sender=Account, dispatch_uid="loyalty_referral_convert_on_account_created")
def referral_convert_on_account_created(
    sender, instance: Account, created: bool, raw: bool = False, **kwargs
) -> None:
    if raw or not created:
        return
    account_id = instance.pk

    def convert() -> None:
        from .services import referral_convert_for_account

        account = Account.objects.filter(pk=account_id).first()
        if account is not None:
            referral_convert_for_account(account=account)

    transaction.on_commit(lambda: _safely(convert))


def award_milestone(sender, milestone=None, account=None, first_time=True, **kwargs) -> None:
    if account is None or milestone is None or not first_time:
        return
    from .services import points_award_for_event

    _safely(
        points_award_for_event,
        account=account,
        event=EarnEvent.MILESTONE_COMPLETED,
        source=f"onboarding.milestone:{milestone.pk}",
        idempotency_key=f"milestone:{milestone.pk}:completed",
        reason=f"Milestone completed: {getattr(milestone, 'name', '') or milestone.pk}",
    )


def award_onboarding(sender, plan=None, account=None, **kwargs) -> None:
    if account is None or plan is None:
        return
    from .services import points_award_for_event

    _safely(
        points_award_for_event,
        account=account,
        event=EarnEvent.ONBOARDING_COMPLETED,
        source=f"onboarding.plan:{plan.pk}",
        idempotency_key=f"onboarding:{plan.pk}:completed",
    )


def award_survey_answer(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created:
        return
    response_id, account_id, contact_id = instance.pk, instance.account_id, instance.contact_id

    def award() -> None:
        from accounts.models import Contact

        from .services import points_award_for_event

        account = Account.objects.filter(pk=account_id).first()
        if account is None:
            return
        points_award_for_event(
            account=account,
            event=EarnEvent.SURVEY_ANSWERED,
            source=f"feedback.response:{response_id}",
            idempotency_key=f"survey-response:{response_id}",
            contact=Contact.objects.filter(pk=contact_id).first(),
        )

    transaction.on_commit(lambda: _safely(award))


if apps.is_installed("onboarding"):
    try:
        from onboarding.signals import milestone_completed, onboarding_completed
    except ImportError:  # pragma: no cover - onboarding without its signals
        pass
    else:
        milestone_completed.connect(award_milestone, dispatch_uid="loyalty_award_milestone")
        onboarding_completed.connect(award_onboarding, dispatch_uid="loyalty_award_onboarding")

if apps.is_installed("feedback"):
    try:
        from feedback.models import Response as SurveyResponse
    except ImportError:  # pragma: no cover
        pass
    else:
        post_save.connect(
            award_survey_answer, sender=SurveyResponse, dispatch_uid="loyalty_award_survey_answer"
        )
