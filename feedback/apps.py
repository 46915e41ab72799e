from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feedback"
    verbose_name = _("Feedback surveys")

    def ready(self) -> None:
        # The answers on the account timeline, the survey signals of the health score, and the
        # CSAT sent after a support touchpoint; the public page's cached questions.
        from . import health, signals, survey_cache, timeline  # noqa: F401
