"""The current-health row carries its account's owner, and the health sort indexes INCLUDE it, so
a CSM's portfolio sorted by score, grade or trend finds their 25 worst accounts by walking one
index (2,049 of 100,000 accounts: about 1,500 index entries and no row visits) instead of
visiting each account row on the way to check its owner.

On PostgreSQL two triggers keep the copy in step with accounts_account.owner_id, whatever writes
it (services, the admin, imports, bulk updates): one after an account's owner changes, one
before a current-health row is inserted (it reads the owner FOR SHARE, so an owner change and a
first score at the same moment cannot leave the old owner behind). SQLite does not keep the copy
(the column stays empty, and the portfolio does not read it there).

The table has one row per account (100,000 here): the copy and the three indexes take about a
second, with the table locked against writes meanwhile.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FORWARD = [
    """CREATE FUNCTION health_owner_follows_account() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE health_accounthealth SET owner_id = NEW.owner_id WHERE account_id = NEW.id;
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER health_owner_follows_account AFTER UPDATE OF owner_id ON accounts_account "
    "FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
    "EXECUTE FUNCTION health_owner_follows_account()",
    """CREATE FUNCTION health_owner_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT owner_id INTO NEW.owner_id FROM accounts_account WHERE id = NEW.account_id FOR SHARE;
      RETURN NEW;
    END $$""",
    "CREATE TRIGGER health_owner_on_insert BEFORE INSERT ON health_accounthealth "
    "FOR EACH ROW EXECUTE FUNCTION health_owner_on_insert()",
    "UPDATE health_accounthealth h SET owner_id = a.owner_id FROM accounts_account a WHERE a.id = h.account_id",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS health_owner_on_insert ON health_accounthealth",
    "DROP TRIGGER IF EXISTS health_owner_follows_account ON accounts_account",
    "DROP FUNCTION IF EXISTS health_owner_on_insert()",
    "DROP FUNCTION IF EXISTS health_owner_follows_account()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_usage_index_with_contact'),
        ('health', '0007_snapshot_without_fk_constraints'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='accounthealth',
            name='health_score_idx',
        ),
        migrations.RemoveIndex(
            model_name='accounthealth',
            name='health_grade_idx',
        ),
        migrations.RemoveIndex(
            model_name='accounthealth',
            name='health_change_idx',
        ),
        migrations.AddField(
            model_name='accounthealth',
            name='owner',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
        migrations.AddIndex(
            model_name='accounthealth',
            index=models.Index(fields=['score', 'account'], include=('owner',), name='health_score_idx'),
        ),
        migrations.AddIndex(
            model_name='accounthealth',
            index=models.Index(fields=['grade_order', 'score', 'account'], include=('owner',), name='health_grade_idx'),
        ),
        migrations.AddIndex(
            model_name='accounthealth',
            index=models.Index(fields=['change_7d', 'account'], include=('owner',), name='health_change_idx'),
        ),
    ]
