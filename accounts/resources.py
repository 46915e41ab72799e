"""CSV import and export of accounts and contacts (django-import-export).

Import rules, the same for every file:

* Rows are written through the services (``account_create`` / ``account_update`` /
  ``contact_create``), so an import obeys the same rules as the admin and the API.
* An account row is matched by ``external_id`` when the row has one, else by ``domain``; an
  account found by domain that has no external id yet takes the row's. Re-importing a file
  therefore updates, never duplicates.
* A contact row is matched by its account (domain or external id) and email, in any case.
* A blank cell leaves the stored value alone (and uses the default for a new row); the CSV
  cannot clear a field, the admin form can.
* A bad row is reported with its errors by column and writes nothing; the admin's preview is a
  dry run in a rolled-back transaction, and the confirmed import rolls back entirely if any
  row fails (see ``ImportServiceAdminMixin`` in ``accounts.admin``).

Export: ``SafeCSV`` neutralises spreadsheet formulas (see ``escape_formula``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import TextChoices
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats import base_formats

from team.models import User

from .forms_admin import adopt, field_errors, service_dry_run
from .models import Account, Contact, ContactRole, Language, LifecycleStage, Segment, Tier
from .services import (
    ACCOUNT_FIELDS,
    account_create,
    account_update,
    contact_create,
    contact_update,
    domain_normalize,
)

# ---------------------------------------------------------------------------------------------
# Formula injection: a cell that starts with one of these can run as a formula in a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def escape_formula(value: Any) -> Any:
    """``=1+1`` → ``'=1+1``: a leading apostrophe makes spreadsheets show the text as text.

    Plain numbers such as ``-12.50`` are left alone; they cannot run as formulas.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """Undo ``escape_formula`` so an exported file can be imported again unchanged."""
    if (
        isinstance(value, str)
        and len(value) > 1
        and value[0] == "'"
        and value[1:].startswith(FORMULA_PREFIXES)
    ):
        return value[1:]
    return value


class SafeCSV(base_formats.CSV):
    """CSV whose cells cannot run as spreadsheet formulas when the file is opened.

    django-import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` only deletes a
    leading ``=`` (changing the data and missing ``+ - @``, tab and CR); this keeps the value
    and prefixes an apostrophe, as OWASP recommends.
    """

    def export_data(self, dataset, **kwargs):
        safe = dataset.__class__(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            safe.append([escape_formula(cell) for cell in row])
        return super().export_data(safe, **kwargs)


# ---------------------------------------------------------------------------------------------
# Widgets: each raises ValueError with a sentence a person can act on; import-export reports it
# against the row and column.


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return "" if value is None else force_str(value).strip()


class CurrencyWidget(TextWidget):
    def clean(self, value, row=None, **kwargs):
        return super().clean(value, row, **kwargs).upper()


class DomainWidget(TextWidget):
    """``https://www.Example.com/`` → ``example.com`` (the service's own normalisation)."""

    def clean(self, value, row=None, **kwargs):
        return domain_normalize(super().clean(value, row, **kwargs))


class ChoiceWidget(widgets.Widget):
    """Accepts a choice's value or its label, in any case; exports the value."""

    def __init__(self, choices: type[TextChoices], **kwargs):
        self.choices = choices
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        text = force_str(value).strip().lower()
        for choice_value, label in self.choices.choices:
            if text in (choice_value.lower(), force_str(label).lower()):
                return choice_value
        raise ValueError(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": force_str(value).strip(), "choices": ", ".join(self.choices.values)}
        )


class IsoDateWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(force_str(value).strip())
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": value}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class PlainDecimalWidget(widgets.Widget):
    """Decimals written and read as ``1234.50`` whatever the admin's language."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        try:
            return Decimal(force_str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not a number.") % {"value": value}) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class StrictBooleanWidget(widgets.Widget):
    TRUE = {"1", "true", "yes", "y"}
    FALSE = {"0", "false", "no", "n"}

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, bool):
            return value
        text = force_str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("“%(value)s” is not yes or no.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else ("yes" if value else "no")


class UserEmailWidget(widgets.Widget):
    """A staff user given by email."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        email = force_str(value).strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise ValueError(_("No staff user has the email “%(email)s”.") % {"email": email})
        return user

    def render(self, value, obj=None, **kwargs):
        return value.email if value else ""


def account_by_reference(value: Any) -> Account | None:
    """The account whose external id, or else domain, is ``value``."""
    text = force_str(value).strip()
    if not text:
        return None
    account = Account.objects.filter(external_id=text).first()
    if account is None:
        account = Account.objects.filter(domain__iexact=domain_normalize(text)).first()
    return account


class AccountReferenceWidget(widgets.Widget):
    """An account given by its external id or its domain; exported as its domain."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        account = account_by_reference(value)
        if account is None:
            raise ValueError(_("No account has the external id or domain “%(value)s”.") % {"value": value})
        return account

    def render(self, value, obj=None, **kwargs):
        return value.domain if value else ""


# ---------------------------------------------------------------------------------------------


class ServiceResource(resources.ModelResource):
    """Shared behaviour: blank cells leave values alone, errors are keyed by column, and rows are
    written by ``write()`` (a service call) instead of ``Model.save()``."""

    #: attributes the import identifies the row by; set once, never from the cells
    identity_attributes: tuple[str, ...] = ()

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            row[key] = unescape_formula(value)

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list[str]] = {}
        touched: list[str] = []
        for field in self.get_import_fields():
            if field.attribute in self.identity_attributes:
                continue
            if field.column_name not in row or _blank(row[field.column_name]):
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors.setdefault(field.column_name, []).append(force_str(exc))
            else:
                touched.append(field.attribute)
        instance._import_touched = touched
        if errors:
            raise ValidationError(errors)

    def column_errors(self, exc: ValidationError) -> ValidationError:
        """Re-key a service's errors from model field names to this file's column names."""
        columns = {field.attribute: field.column_name for field in self.fields.values()}
        errors: dict[str, list[str]] = {}
        for name, messages in field_errors(exc).items():
            key = NON_FIELD_ERRORS if name == NON_FIELD_ERRORS else columns.get(name, name)
            errors.setdefault(key, []).extend(messages)
        return ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """A row whose cells could not be read: also report what the service says about the
        readable ones, so a single preview lists every problem of the row."""
        errors = dict(import_validation_errors or {})
        if not errors:
            return  # the service validates when the row is written (save_instance)
        data = {name: getattr(instance, name) for name in getattr(instance, "_import_touched", ())}
        try:
            service_dry_run(self.write, instance=instance, is_create=instance.pk is None, data=data)
        except ValidationError as exc:
            for column, messages in self.column_errors(exc).message_dict.items():
                errors.setdefault(column, messages)
        raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        self.before_save_instance(instance, row, **kwargs)
        data = {name: getattr(instance, name) for name in getattr(instance, "_import_touched", ())}
        if self._is_dry_run(kwargs) and not self._is_using_transactions(kwargs):
            # No surrounding transaction to roll back: validate in a savepoint of our own.
            write = lambda **kw: service_dry_run(self.write, **kw)  # noqa: E731
        else:
            write = self.write
        try:
            saved = write(instance=instance, is_create=is_create, data=data)
        except ValidationError as exc:
            raise self.column_errors(exc) from exc
        adopt(instance, saved)
        self.after_save_instance(instance, row, **kwargs)

    def write(self, *, instance, is_create: bool, data: dict[str, Any]):
        raise NotImplementedError


class AccountResource(ServiceResource):
    external_id = Field(attribute="external_id", column_name="external_id", widget=TextWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    domain = Field(attribute="domain", column_name="domain", widget=DomainWidget())
    segment = Field(attribute="segment", column_name="segment", widget=ChoiceWidget(Segment))
    tier = Field(attribute="tier", column_name="tier", widget=ChoiceWidget(Tier))
    plan = Field(attribute="plan", column_name="plan", widget=TextWidget())
    lifecycle_stage = Field(
        attribute="lifecycle_stage", column_name="lifecycle_stage", widget=ChoiceWidget(LifecycleStage)
    )
    owner = Field(attribute="owner", column_name="owner_email", widget=UserEmailWidget())
    contract_start = Field(attribute="contract_start", column_name="contract_start", widget=IsoDateWidget())
    renewal_date = Field(attribute="renewal_date", column_name="renewal_date", widget=IsoDateWidget())
    acquisition_cost = Field(
        attribute="acquisition_cost", column_name="acquisition_cost", widget=PlainDecimalWidget()
    )
    currency = Field(attribute="currency", column_name="currency", widget=CurrencyWidget())
    parent = Field(attribute="parent", column_name="parent", widget=AccountReferenceWidget())
    # Export only: kept by the services from MRR movements and touchpoints.
    mrr = Field(attribute="mrr", column_name="mrr", widget=PlainDecimalWidget(), readonly=True)
    churned_at = Field(
        attribute="churned_at", column_name="churned_at", widget=IsoDateWidget(), readonly=True
    )
    churn_reason = Field(attribute="churn_reason", column_name="churn_reason", readonly=True)

    class Meta:
        model = Account
        name = "Accounts"
        fields = (
            "external_id",
            "name",
            "domain",
            "segment",
            "tier",
            "plan",
            "lifecycle_stage",
            "owner",
            "contract_start",
            "renewal_date",
            "acquisition_cost",
            "currency",
            "parent",
            "mrr",
            "churned_at",
            "churn_reason",
        )
        export_order = fields
        import_id_fields = ()
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def get_or_init_instance(self, instance_loader, row):
        external_id = force_str(row.get("external_id") or "").strip()
        domain = domain_normalize(force_str(row.get("domain") or ""))
        if external_id:
            account = Account.objects.filter(external_id=external_id).first()
            if account is not None:
                return account, False
        if domain:
            account = Account.objects.filter(domain__iexact=domain).first()
            # A domain match is the same account unless it is already synced under another id.
            if account is not None and (not external_id or not account.external_id):
                return account, False
        return Account(), True

    def write(self, *, instance, is_create, data):
        data = {name: value for name, value in data.items() if name in ACCOUNT_FIELDS}
        if is_create:
            required = {"name": "", "domain": "", "segment": "", "contract_start": None}
            return account_create(**{**required, **data})
        return account_update(account=instance, data=data)

    def get_queryset(self):
        return Account.objects.select_related("owner", "parent")

    def export(self, queryset=None, **kwargs):
        if queryset is not None and hasattr(queryset, "select_related"):
            queryset = queryset.select_related("owner", "parent")
        return super().export(queryset=queryset, **kwargs)


class ContactResource(ServiceResource):
    account = Field(attribute="account", column_name="account", widget=AccountReferenceWidget())
    account_name = Field(attribute="account__name", column_name="account_name", readonly=True)
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    email = Field(attribute="email", column_name="email", widget=TextWidget())
    role = Field(attribute="role", column_name="role", widget=ChoiceWidget(ContactRole))
    language = Field(attribute="language", column_name="language", widget=ChoiceWidget(Language))
    accepts_surveys = Field(
        attribute="accepts_surveys", column_name="accepts_surveys", widget=StrictBooleanWidget()
    )

    identity_attributes = ("account", "email")

    class Meta:
        model = Contact
        name = "Contacts"
        fields = ("account", "account_name", "name", "email", "role", "language", "accepts_surveys")
        export_order = fields
        import_id_fields = ()
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def get_or_init_instance(self, instance_loader, row):
        errors: dict[str, list[str]] = {}
        reference = row.get("account")
        account = None
        if _blank(reference):
            errors["account"] = [_("Give the account's domain or external id.")]
        else:
            account = account_by_reference(reference)
            if account is None:
                errors["account"] = [
                    _("No account has the external id or domain “%(value)s”.") % {"value": reference}
                ]
        email = force_str(row.get("email") or "").strip().lower()
        if not email:
            errors["email"] = [_("Give the contact's email.")]
        if errors:
            raise ValidationError(errors)
        contact = Contact.objects.filter(account=account, email__iexact=email).first()
        if contact is not None:
            return contact, False
        return Contact(account=account, email=email), True

    def write(self, *, instance, is_create, data):
        if is_create:
            return contact_create(
                account=instance.account,
                email=instance.email,
                name=data.get("name", ""),
                role=data.get("role") or ContactRole.USER,
                language=data.get("language") or Language.EN,
                accepts_surveys=data.get("accepts_surveys", True),
            )
        return contact_update(
            contact=instance,
            data={
                name: value
                for name, value in data.items()
                if name in ("name", "role", "language", "accepts_surveys")
            },
        )

    def get_queryset(self):
        return Contact.objects.select_related("account")

    def export(self, queryset=None, **kwargs):
        if queryset is not None and hasattr(queryset, "select_related"):
            queryset = queryset.select_related("account")
        return super().export(queryset=queryset, **kwargs)
