"""How many accounts there are, kept by PostgreSQL triggers, so the managers' portfolio can say
"100,000 accounts" (and page through them) without counting 100,000 index entries per request.

Every INSERT or DELETE statement on accounts_account (ORM, bulk_create, COPY, cascades) writes
its change to accounts_account_tally, folded together with the rows no other transaction is
folding at that moment (so concurrent writers never wait on each other, and a rolled-back
statement takes its change with it); TRUNCATE starts it again at 0. accounts.selectors
.accounts_total sums the few rows, seeing what a COUNT(*) in the same transaction would see.
SQLite has no such triggers: there the portfolio counts the table.
"""

from django.db import migrations

FORWARD = [
    "CREATE TABLE accounts_account_tally (n bigint NOT NULL)",
    "INSERT INTO accounts_account_tally (n) SELECT COUNT(*) FROM accounts_account",
    # Each statement's change goes in with whatever committed rows no one else is folding
    # (SKIP LOCKED: writers never wait on each other), so the tally stays a row or two.
    """CREATE FUNCTION accounts_account_tally_add(change bigint) RETURNS void LANGUAGE sql AS $$
      WITH folded AS (
        DELETE FROM accounts_account_tally WHERE ctid IN (
          SELECT ctid FROM accounts_account_tally FOR UPDATE SKIP LOCKED)
        RETURNING n)
      INSERT INTO accounts_account_tally (n) SELECT COALESCE(SUM(n), 0) + change FROM folded
    $$""",
    """CREATE FUNCTION accounts_account_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM accounts_account_tally_add(COUNT(*)) FROM new_rows HAVING COUNT(*) > 0;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION accounts_account_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM accounts_account_tally_add(-COUNT(*)) FROM old_rows HAVING COUNT(*) > 0;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION accounts_account_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM accounts_account_tally;
      INSERT INTO accounts_account_tally (n) VALUES (0);
      RETURN NULL;
    END $$""",
    "CREATE TRIGGER accounts_account_tally_insert AFTER INSERT ON accounts_account "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_tally_insert()",
    "CREATE TRIGGER accounts_account_tally_delete AFTER DELETE ON accounts_account "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_tally_delete()",
    "CREATE TRIGGER accounts_account_tally_truncate AFTER TRUNCATE ON accounts_account "
    "FOR EACH STATEMENT EXECUTE FUNCTION accounts_account_tally_truncate()",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS accounts_account_tally_insert ON accounts_account",
    "DROP TRIGGER IF EXISTS accounts_account_tally_delete ON accounts_account",
    "DROP TRIGGER IF EXISTS accounts_account_tally_truncate ON accounts_account",
    "DROP FUNCTION IF EXISTS accounts_account_tally_insert()",
    "DROP FUNCTION IF EXISTS accounts_account_tally_delete()",
    "DROP FUNCTION IF EXISTS accounts_account_tally_truncate()",
    "DROP FUNCTION IF EXISTS accounts_account_tally_add(bigint)",
    "DROP TABLE IF EXISTS accounts_account_tally",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_portfolio_indexes"),
    ]

    operations = [migrations.RunPython(forward, backward)]
