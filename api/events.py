"""The events outbound webhooks can subscribe to.

Raised inside the service that makes the change, with ``api.services.webhooks_emit`` (or
``webhooks_emit_many`` for many at once), and sent after it commits: alert raised
(``health.services.alerts_evaluate``), detractor response (``feedback.services.follow_up_open``),
milestone completed (``onboarding.services.milestone_status_set``), referral converted
(``loyalty.services._convert``). ``webhook.test`` is what the admin's "send a test event" sends.
docs/api.md documents each event's payload.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    ALERT_RAISED = "alert.raised", _("Alert raised")
    DETRACTOR_RESPONSE = "response.detractor", _("Detractor response")
    MILESTONE_COMPLETED = "milestone.completed", _("Milestone completed")
    REFERRAL_CONVERTED = "referral.converted", _("Referral converted")
    TEST = "webhook.test", _("Test event")
