"""The SHA-256 digest of each invitation's token, which the public pages look up instead of the
token: added empty, then filled for the existing rows in one UPDATE (cs_app.public_tokens)."""

from functools import partial

from django.db import migrations, models

from cs_app.public_tokens import fill_digests


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_invitation_email_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="token digest"),
        ),
        migrations.RunPython(
            partial(fill_digests, app_label="feedback", model_name="invitation"),
            migrations.RunPython.noop,
            elidable=False,
        ),
    ]
