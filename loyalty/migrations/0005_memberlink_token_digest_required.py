"""Every memberlink now has its token digest: NOT NULL and unique (the public lookup's index).
A separate migration so PostgreSQL alters the table in a transaction of its own."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0004_memberlink_token_digest"),
    ]

    operations = [
        migrations.AlterField(
            model_name="memberlink",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64, unique=True, verbose_name="token digest"),
        ),
    ]
