"""Secrets in public links (survey invitations, loyalty member links): found by digest.

A link's token is 192 random bits (``secrets.token_urlsafe(24)``). The database is asked for
the row by the SHA-256 digest of the token, never by the token itself, so how long an index
comparison takes says nothing about how much of a guess was right; the stored token is then
compared with ``hmac.compare_digest`` as a second check. The plain token stays on the row
because the emails and pages build the link from it.
"""

from __future__ import annotations

import hashlib
import hmac

DIGEST_LENGTH = 64


def token_digest(token: str) -> str:
    """The SHA-256 hex digest stored next to a token and looked up instead of it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(stored: str, given: str) -> bool:
    """Constant-time comparison of the stored token with the one in the address."""
    return hmac.compare_digest(
        stored.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )


def fill_digests(apps, schema_editor, *, app_label: str, model_name: str) -> None:
    """Data migration: the digest of every row's token, in one UPDATE (fast on 100k+ rows).

    PostgreSQL computes SHA-256 itself (no pgcrypto needed); SQLite uses the SHA256 function
    Django registers on its connections."""
    model = apps.get_model(app_label, model_name)
    table = schema_editor.connection.ops.quote_name(model._meta.db_table)
    if schema_editor.connection.vendor == "postgresql":
        # The table name is the model's own, quoted; nothing here comes from outside.
        sql = f"UPDATE {table} SET token_digest = encode(sha256(convert_to(token, 'UTF8')), 'hex')"  # noqa: S608
        schema_editor.execute(sql + " WHERE token_digest IS NULL")
        return
    from django.db.models.functions import SHA256

    manager = model._base_manager.using(schema_editor.connection.alias)
    manager.filter(token_digest__isnull=True).update(token_digest=SHA256("token"))
