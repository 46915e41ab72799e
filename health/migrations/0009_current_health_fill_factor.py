"""Current-health rows are rewritten every night, and about half of them keep their score, grade
and 7-day change: their new version can stay on its page without a new entry in any of the
table's four indexes (a "heap-only" update), if the page has room. Pages filled to half leave
that room: the nightly update of 78,000 rows went from 0.75 s to 0.55 s of database time on the
100,000-account benchmark, for a table twice the size (50 MB at 100,000 accounts).

PostgreSQL only. The setting applies to pages written from now on: the nightly job moves the rows
over a few nights, or ``VACUUM FULL health_accounthealth`` applies it at once (the table is
locked meanwhile: about a second at 100,000 accounts).
"""

from django.db import migrations


def _set(fillfactor: int | None):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if fillfactor is None:
            schema_editor.execute("ALTER TABLE health_accounthealth RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE health_accounthealth SET (fillfactor = {fillfactor})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0008_health_owner_for_csm_sorts"),
    ]

    operations = [migrations.RunPython(_set(50), _set(None), elidable=False)]
