"""The SHA-256 digest of each memberlink's token, which the public pages look up instead of the
token: added empty, then filled for the existing rows in one UPDATE (cs_app.public_tokens)."""

from functools import partial

from django.db import migrations, models

from cs_app.public_tokens import fill_digests


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0003_tier_history_on_loyalty_record"),
    ]

    operations = [
        migrations.AddField(
            model_name="memberlink",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="token digest"),
        ),
        migrations.RunPython(
            partial(fill_digests, app_label="loyalty", model_name="memberlink"),
            migrations.RunPython.noop,
            elidable=False,
        ),
    ]
