"""Copy every current health onto its account row (accounts.Account.health_*, added by
accounts 0004), from then on kept in step by the health app's writes."""

from django.db import migrations


def copy_current_health(apps, schema_editor):
    from health.bulk import account_health_columns_sync

    account_health_columns_sync()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_account_health_columns"),
        ("health", "0005_usage_collapse_cap"),
    ]

    operations = [
        migrations.RunPython(copy_current_health, migrations.RunPython.noop),
    ]
