"""The events outbound webhooks can subscribe to.

Later issues raise them with ``api.services.webhooks_emit(event=..., payload=...)``:
health (alert raised), feedback (detractor response), onboarding (milestone completed) and
loyalty (referral converted). ``webhook.test`` is what the admin's "send a test event" sends.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    ALERT_RAISED = "alert.raised", _("Alert raised")
    DETRACTOR_RESPONSE = "response.detractor", _("Detractor response")
    MILESTONE_COMPLETED = "milestone.completed", _("Milestone completed")
    REFERRAL_CONVERTED = "referral.converted", _("Referral converted")
    TEST = "webhook.test", _("Test event")
