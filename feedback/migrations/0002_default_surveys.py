"""The three standard surveys, ready to use: NPS, CSAT and CES with the standard wording
(translated through Django's i18n; admins may reword them per language)."""

from django.db import migrations

DEFAULTS = [
    ("Net Promoter Score (NPS)", "nps"),
    ("Customer satisfaction (CSAT)", "csat"),
    ("Customer effort (CES)", "ces"),
]


def create(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    for name, kind in DEFAULTS:
        if not Survey.objects.filter(kind=kind).exists():
            Survey.objects.create(name=name, kind=kind, asks_score=True)


def remove(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    Survey.objects.filter(name__in=[name for name, _kind in DEFAULTS], campaigns__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
