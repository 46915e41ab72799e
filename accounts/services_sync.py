"""Writes for integrations: upserts by the CRM's ids, contact changes, MRR batches and bulk
usage ingestion. The API calls these; so can import commands and tasks. Each builds on the
rules in ``accounts.services`` rather than repeating them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from team.models import User

from . import services
from .models import Account, Contact, MrrMovement, UsageEvent

USAGE_BATCH_MAX = 10_000
USAGE_PROPERTIES_MAX_BYTES = 8_192
_MAX_ID = 2**63 - 1

# ---------------------------------------------------------------- accounts


def _normalized(field_name: str, value: Any) -> Any:
    if field_name == "domain":
        return services.domain_normalize(value)
    if field_name == "currency":
        return (value or "").upper()
    if field_name in ("name", "plan"):
        return (value or "").strip()
    if field_name == "external_id":
        return (value or "").strip() or None
    return value


def _owner_rule(*, actor: User | None, account: Account | None, data: Mapping[str, Any]) -> None:
    """A CSM works on their own accounts: they create accounts they own and never reassign one."""
    if actor is None or actor.sees_all_accounts or "owner" not in data:
        return
    owner = data["owner"]
    current = account.owner_id if account is not None else actor.pk
    if (owner.pk if owner else None) != current:
        raise ValidationError({"owner": _("Only managers can give an account to someone else.")})


@transaction.atomic
def account_add(*, data: Mapping[str, Any], actor: User | None = None) -> Account:
    """Create an account; a CSM's account is theirs unless a manager says otherwise."""
    data = dict(data)
    if actor is not None and not actor.sees_all_accounts:
        data.setdefault("owner", actor)
    _owner_rule(actor=actor, account=None, data=data)
    return services.account_create(**data)


@transaction.atomic
def account_change(*, account: Account, data: Mapping[str, Any], actor: User | None = None) -> Account:
    """Change the fields that differ; an unchanged account is not written (nor re-dated)."""
    _owner_rule(actor=actor, account=account, data=data)
    changed = {}
    for name, value in data.items():
        value = _normalized(name, value)
        current = getattr(account, name)
        if isinstance(current, Account | User) or name in ("owner", "parent"):
            if (current.pk if current else None) != (value.pk if value else None):
                changed[name] = value
        elif current != value:
            changed[name] = value
    if not changed:
        return account
    return services.account_update(account=account, data=changed)


@transaction.atomic
def account_upsert(
    *, external_id: str, data: Mapping[str, Any], actor: User | None = None
) -> tuple[Account, bool]:
    """Create or update the account with this CRM id; returns (account, created).

    Sending the same data again changes nothing, so a nightly sync can resend everything.
    For an actor who may not see the existing account (another CSM's), it does not exist:
    Account.DoesNotExist is raised rather than revealing it or creating a duplicate.
    """
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100:
        raise ValidationError({"external_id": _("Give the CRM id: 1 to 100 characters.")})
    data = {key: value for key, value in data.items() if key != "external_id"}
    account = Account.objects.select_for_update().filter(external_id=external_id).first()
    if account is not None:
        if actor is not None and not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
            raise Account.DoesNotExist(external_id)
        return account_change(account=account, data=data, actor=actor), False
    return account_add(data={**data, "external_id": external_id}, actor=actor), True


@dataclass
class RowResult:
    index: int
    status: str  # created, updated, unchanged, rejected
    account: Account | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def accounts_upsert_many(*, rows: Iterable[Mapping[str, Any]], actor: User | None = None) -> list[RowResult]:
    """Upsert each row (each with its external_id) on its own; one bad row does not stop the rest."""
    results = []
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                before = Account.objects.filter(external_id=(row.get("external_id") or "").strip()).first()
                account, created = account_upsert(
                    external_id=row.get("external_id") or "", data=row, actor=actor
                )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            results.append(RowResult(index=index, status="rejected", errors=errors))
            continue
        except Account.DoesNotExist:
            results.append(
                RowResult(
                    index=index,
                    status="rejected",
                    errors={"external_id": [_("This id belongs to an account outside your portfolio.")]},
                )
            )
            continue
        if created:
            status = "created"
        else:
            status = "unchanged" if before and before.updated_at == account.updated_at else "updated"
        results.append(RowResult(index=index, status=status, account=account))
    return results


# ---------------------------------------------------------------- contacts


def _email_taken(*, account: Account, email: str, exclude_pk: int | None = None) -> bool:
    qs = Contact.objects.filter(account=account, email__iexact=email)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


@transaction.atomic
def contact_change(*, contact: Contact, data: Mapping[str, Any]) -> Contact:
    """Change the fields that differ (through services.contact_update); an unchanged contact
    is not written, and a taken email is a field error."""
    changed = {}
    for name, value in data.items():
        if name == "email":
            value = (value or "").strip().lower()
        elif name == "name":
            value = (value or "").strip()
        if getattr(contact, name, None) != value:
            changed[name] = value
    if not changed:
        return contact
    if "email" in changed and _email_taken(
        account=contact.account, email=changed["email"], exclude_pk=contact.pk
    ):
        raise ValidationError({"email": _("This account already has a contact with this email.")})
    return services.contact_update(contact=contact, data=changed)


@transaction.atomic
def contact_upsert(*, account: Account, email: str, data: Mapping[str, Any]) -> tuple[Contact, bool]:
    """Create or update the account's contact with this email (any case); (contact, created)."""
    email = (email or "").strip().lower()
    data = {key: value for key, value in data.items() if key != "email"}
    contact = Contact.objects.select_for_update().filter(account=account, email__iexact=email).first()
    if contact is not None:
        return contact_change(contact=contact, data=data), False
    return services.contact_create(account=account, email=email, **data), True


# ---------------------------------------------------------------- MRR


class RowsInvalid(Exception):
    """Some rows of an all-or-nothing batch are invalid: ``errors`` maps row index to field errors."""

    def __init__(self, errors: dict[int, dict[str, list[str]]]):
        super().__init__(f"{len(errors)} invalid row(s)")
        self.errors = errors


@transaction.atomic
def mrr_movements_record(*, rows: list[Mapping[str, Any]]) -> list[MrrMovement]:
    """Record several movements, all or none: any invalid row rolls back the batch.

    Each row holds ``account`` (an Account) and mrr_movement_record's other arguments; rows
    are applied in order, so a later row may build on an earlier one (new, then expansion).
    """
    movements = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                movements.append(services.mrr_movement_record(**row))
        except ValidationError as exc:
            errors[index] = (
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            )
    if errors:
        raise RowsInvalid(errors)
    return movements


# ---------------------------------------------------------------- usage


@dataclass(frozen=True)
class Rejection:
    index: int
    errors: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


class BatchTooLarge(ValueError):
    pass


def _parse_time(value: Any, horizon: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    if not isinstance(value, str):
        return None, _("Give the time as ISO 8601 text, e.g. 2026-01-31T09:30:00Z.")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, _("Give the time as ISO 8601 text, e.g. 2026-01-31T09:30:00Z.")
    if when.tzinfo is None:
        return None, _("Give a time zone, e.g. 2026-01-31T09:30:00Z or +03:00.")
    try:
        when = when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None, _("This time is out of range.")
    if when > horizon:
        return None, _("This time is in the future.")
    return when, None


def usage_events_ingest(*, rows: list[Any], actor: User | None) -> tuple[int, list[Rejection]]:
    """Store the valid events among ``rows`` and say why each other row was refused.

    Set-based: one query resolves every account (by id or external id, within what ``actor``
    may see), one resolves every contact email, and one COPY (PostgreSQL) or a few batched
    INSERTs write the rows. Returns (accepted count, rejections in row order).
    """
    if len(rows) > USAGE_BATCH_MAX:
        raise BatchTooLarge(f"At most {USAGE_BATCH_MAX:,} events per request.")
    horizon = timezone.now() + dt.timedelta(days=1)
    rejected: dict[int, dict[str, str]] = {}
    candidates = []
    ids: set[int] = set()
    external_ids: set[str] = set()
    emails: set[str] = set()
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    for index, row in enumerate(rows):
        if type(row) is not dict:
            rejected[index] = {"non_field_errors": _("Each event must be a JSON object.")}
            continue
        errors: dict[str, str] = {}
        account_id = row.get("account")
        external_id = row.get("account_external_id")
        if account_id is None and external_id is None:
            errors["account"] = _("Give the account's id (account) or its CRM id (account_external_id).")
        if account_id is not None and (type(account_id) is not int or not 0 < account_id <= _MAX_ID):
            errors["account"] = _("Give the account's id as a positive whole number.")
        if external_id is not None and (type(external_id) is not str or not 0 < len(external_id) <= 100):
            errors["account_external_id"] = _("Give the account's CRM id as text of 1 to 100 characters.")
        name = row.get("name")
        if type(name) is not str or not name.strip() or len(name) > 100:
            errors["name"] = _("Give the event's name: 1 to 100 characters.")
        when, problem = _parse_time(row.get("occurred_at"), horizon)
        if problem:
            errors["occurred_at"] = problem
        email = row.get("contact_email")
        if email is not None:
            if type(email) is not str or "@" not in email or len(email) > 254:
                errors["contact_email"] = _("Give the contact's email address, or leave it out.")
            else:
                email = email.strip().lower()
        properties = row.get("properties")
        if properties is None or properties == {}:
            properties_json = "{}"
        elif type(properties) is not dict:
            errors["properties"] = _("Properties must be a JSON object.")
        else:
            try:
                properties_json = dumps(properties)
            except (RecursionError, ValueError):
                properties_json = "x" * (USAGE_PROPERTIES_MAX_BYTES + 1)  # nested too deep to store
            if len(properties_json) > USAGE_PROPERTIES_MAX_BYTES:
                errors["properties"] = _("Keep properties under %(size)s bytes.") % {
                    "size": f"{USAGE_PROPERTIES_MAX_BYTES:,}"
                }
        if errors:
            rejected[index] = errors
            continue
        if account_id is not None:
            ids.add(account_id)
        if external_id is not None:
            external_ids.add(external_id)
        if email is not None:
            emails.add(email)
        candidates.append((index, account_id, external_id, email, name.strip(), when, properties_json))

    by_id: set[int] = set()
    by_external: dict[str, int] = {}
    if ids or external_ids:
        visible = Account.objects.visible_to(actor) if actor is not None else Account.objects.all()
        for pk, external in visible.filter(Q(pk__in=ids) | Q(external_id__in=external_ids)).values_list(
            "pk", "external_id"
        ):
            by_id.add(pk)
            if external is not None:
                by_external[external] = pk
    contacts: dict[tuple[int, str], int] = {}
    if emails:
        account_pks = by_id | set(by_external.values())
        for pk, account_pk, email in (
            Contact.objects.annotate(email_lower=Lower("email"))
            .filter(account_id__in=account_pks, email_lower__in=emails)
            .values_list("pk", "account_id", "email_lower")
        ):
            contacts[(account_pk, email)] = pk

    accepted = []
    for index, account_id, external_id, email, name, when, properties_json in candidates:
        if account_id is not None:
            if account_id not in by_id:
                rejected[index] = {"account": _("No account with this id in your portfolio.")}
                continue
            if external_id is not None and by_external.get(external_id) != account_id:
                rejected[index] = {"account_external_id": _("This CRM id is not the account's.")}
                continue
            pk = account_id
        else:
            pk = by_external.get(external_id)
            if pk is None:
                rejected[index] = {"account_external_id": _("No account with this CRM id in your portfolio.")}
                continue
        contact_pk = None
        if email is not None:
            contact_pk = contacts.get((pk, email))
            if contact_pk is None:
                rejected[index] = {"contact_email": _("The account has no contact with this email.")}
                continue
        accepted.append((pk, contact_pk, name, when, properties_json))

    if accepted:
        _usage_insert(accepted)
    rejections = [Rejection(index=index, errors=rejected[index]) for index in sorted(rejected)]
    return len(accepted), rejections


USAGE_COPY_SQL = "COPY {table} (account_id, contact_id, name, occurred_at, properties) FROM STDIN"


@transaction.atomic
def _usage_insert(rows: list[tuple[int, int | None, str, dt.datetime, str]]) -> None:
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(
                USAGE_COPY_SQL.format(table=connection.ops.quote_name(UsageEvent._meta.db_table))
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    UsageEvent.objects.bulk_create(
        [
            UsageEvent(
                account_id=pk,
                contact_id=contact_pk,
                name=name,
                occurred_at=when,
                properties=json.loads(props),
            )
            for pk, contact_pk, name, when, props in rows
        ],
        batch_size=500,
    )
