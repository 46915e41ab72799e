"""The CSAT after a support touchpoint: when a touchpoint is created (and committed), the
triggered campaigns invite the contact touched. accounts.services stays unaware of surveys."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Touchpoint, TouchpointKind

log = logging.getLogger(__name__)


@receiver(post_save, sender=Touchpoint, dispatch_uid="feedback_survey_after_support_touchpoint")
def survey_after_support_touchpoint(
    sender, instance: Touchpoint, created: bool, raw: bool = False, **kwargs
) -> None:
    if raw or not created or instance.kind != TouchpointKind.SUPPORT or instance.contact_id is None:
        return
    touchpoint_id = instance.pk

    def trigger() -> None:
        from .services import survey_trigger_after_touchpoint

        touchpoint = Touchpoint.objects.filter(pk=touchpoint_id).first()
        if touchpoint is None:
            return
        try:
            survey_trigger_after_touchpoint(touchpoint=touchpoint)
        except Exception:  # a survey must never break logging a touchpoint
            log.exception("could not trigger the survey after touchpoint %s", touchpoint_id)

    transaction.on_commit(trigger)
