from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = _("Onboarding plans")

    def ready(self) -> None:
        # Milestones reached on the account timeline, and onboarding progress and overdue
        # milestones as raw values of the health score.
        from . import health, timeline  # noqa: F401
