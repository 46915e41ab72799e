from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "health"
    verbose_name = _("Health, alerts and tasks")

    def ready(self) -> None:
        # Register the built-in raw-value sources and the alerts' timeline source.
        from . import sources, timeline  # noqa: F401
