from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"
    verbose_name = _("Feedback surveys")

    def ready(self) -> None:
        # The answers on the account timeline, the survey signals of the health score, and the
        # CSAT sent after a support touchpoint.
        from . import health, signals, timeline  # noqa: F401
