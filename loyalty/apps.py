from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loyalty"
    verbose_name = _("Loyalty, referrals and advocacy")

    def ready(self) -> None:
        # Earn rules hooked to other parts' events, referral conversion on account creation,
        # and the tier history / points on the account timeline.
        from . import receivers, timeline  # noqa: F401
