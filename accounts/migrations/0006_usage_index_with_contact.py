"""Usage events: the (account, occurred_at) index carries the contact too (INCLUDE), so that the
usage counts (health scores, the account 360's usage card and timeline) read the index alone.

The table is the biggest there is, so on PostgreSQL the new index is built and the old one
dropped CONCURRENTLY (no lock on ingestion meanwhile; outside a transaction). Other databases
get a plain index (INCLUDE is PostgreSQL's) the usual way.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


def _concurrently_on_postgresql(operation_class, fallback_class):
    class Operation(operation_class):
        def _run(self, method: str, app_label, schema_editor, from_state, to_state):
            cls = operation_class if schema_editor.connection.vendor == "postgresql" else fallback_class
            getattr(cls, method)(self, app_label, schema_editor, from_state, to_state)

        def database_forwards(self, app_label, schema_editor, from_state, to_state):
            self._run("database_forwards", app_label, schema_editor, from_state, to_state)

        def database_backwards(self, app_label, schema_editor, from_state, to_state):
            self._run("database_backwards", app_label, schema_editor, from_state, to_state)

    return Operation


AddIndex = _concurrently_on_postgresql(AddIndexConcurrently, migrations.AddIndex)
RemoveIndex = _concurrently_on_postgresql(RemoveIndexConcurrently, migrations.RemoveIndex)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("accounts", "0005_segment_renewal_index"),
    ]

    operations = [
        AddIndex(
            model_name="usageevent",
            index=models.Index(
                fields=["account", "occurred_at"], include=("contact",), name="usage_account_time_cov_idx"
            ),
        ),
        RemoveIndex(model_name="usageevent", name="usage_account_time_idx"),
    ]
