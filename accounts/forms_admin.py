"""Forms for the accounts admin and the glue that lets the admin and the CSV import call the
services in ``accounts.services`` instead of saving models directly.

The pattern: a form validates by running the service in a savepoint that is always rolled
back (``service_dry_run``), so the person sees exactly the service's errors next to the
fields; ``save_model`` in the admin then calls the same service for real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from team.models import Role, User

from .models import Account, ChurnReason, Contact, ExchangeRate, MrrMovement, Touchpoint
from .services import (
    ACCOUNT_FIELDS,
    account_create,
    account_update,
    mrr_movement_record,
    touchpoint_log,
)

T = TypeVar("T")

# Database check constraints report "Constraint “name” is violated." from full_clean();
# these put a readable message on the field the constraint is about.
CONSTRAINT_MESSAGES: dict[str, tuple[str, Any]] = {
    "account_renewal_after_start": (
        "renewal_date",
        _("The renewal date cannot be before the contract start."),
    ),
    "account_acquisition_cost_non_negative": (
        "acquisition_cost",
        _("Enter an acquisition cost of zero or more."),
    ),
    "account_not_own_parent": ("parent", _("An account cannot be its own parent.")),
    "account_churn_reason_when_churned": ("churn_reason", _("Choose why the account churned.")),
    "account_segment_valid": ("segment", _("Choose a segment from the list.")),
    "account_tier_valid": ("tier", _("Choose a tier from the list.")),
    "account_stage_valid": ("lifecycle_stage", _("Choose a lifecycle stage from the list.")),
    "account_domain_ci_unique": ("domain", _("Another account already uses this domain.")),
    "account_external_id_unique": ("external_id", _("Another account already uses this external id.")),
    "contact_email_per_account_unique": ("email", _("This account already has a contact with this email.")),
    "contact_role_valid": ("role", _("Choose a role from the list.")),
    "contact_language_valid": ("language", _("Choose a language from the list.")),
    "fx_rate_unique_day": ("valid_from", _("There is already a rate for this currency on this day.")),
    "fx_rate_positive": ("rate", _("Enter a rate above zero.")),
    "touchpoint_summary_required": ("summary", _("Write what happened.")),
}


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]}, constraint messages moved to their field."""
    if not hasattr(exc, "error_dict"):
        return {NON_FIELD_ERRORS: list(exc.messages)}
    errors: dict[str, list[str]] = {}
    for field, messages in exc.message_dict.items():
        for message in messages:
            target, text = field, message
            if field == NON_FIELD_ERRORS:
                for constraint, (constraint_field, friendly) in CONSTRAINT_MESSAGES.items():
                    if f"“{constraint}”" in message or f'"{constraint}"' in message:
                        target, text = constraint_field, str(friendly)
                        break
            if text not in errors.get(target, []):
                errors.setdefault(target, []).append(text)
    return errors


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's errors on the form: next to a field when the form has it, else on top."""
    for field, messages in field_errors(exc).items():
        if field in form.fields:
            form.add_error(field, messages)
        elif field == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            form.add_error(None, [f"{field.replace('_', ' ').capitalize()}: {m}" for m in messages])


def service_dry_run(service: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a service inside a savepoint and roll it back whatever happens.

    Raises the service's ValidationError; on success returns what the service returned (an
    object that is no longer in the database). Used to validate with the service's own rules.
    """
    with transaction.atomic():
        result = service(**kwargs)
        transaction.set_rollback(True)
    return result


def adopt(target: models.Model, source: models.Model) -> models.Model:
    """Copy the saved ``source`` onto ``target`` (the object the admin or import holds)."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db
    return target


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that leaves validation to a service instead of ``Model.full_clean``.

    Subclasses implement ``service_validate()`` (usually a ``service_dry_run``). The values are
    still put on ``self.instance`` so the admin can show them, but nothing is saved by the form.
    """

    def _post_clean(self) -> None:
        opts = self._meta
        try:
            self.instance = forms.models.construct_instance(self, self.instance, opts.fields, opts.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        if self.errors:
            return
        try:
            self.service_validate()
        except ValidationError as exc:
            add_service_errors(self, exc)

    def service_validate(self) -> None:
        raise NotImplementedError

    def save(self, commit: bool = True):
        if commit:
            raise ValueError("Save through the service (the admin's save_model), not the form.")
        return super().save(commit=False)


class AccountAdminForm(ServiceModelForm):
    """Create and edit an account with the rules of account_create / account_update."""

    class Meta:
        model = Account
        fields = ACCOUNT_FIELDS

    def service_data(self) -> dict[str, Any]:
        """The keyword arguments for account_create, or the changed fields for account_update."""
        names = [name for name in ACCOUNT_FIELDS if name in self.cleaned_data]
        if self.instance.pk is not None:
            names = [name for name in names if name in self.changed_data]
        return {name: self.cleaned_data[name] for name in names}

    def service_validate(self) -> None:
        if self.instance.pk is None:
            service_dry_run(account_create, **self.service_data())
        else:
            service_dry_run(account_update, account=self.instance, data=self.service_data())


class ContactAdminForm(forms.ModelForm):
    """Contacts are simple records (no service rule beyond what contact_create normalises)."""

    class Meta:
        model = Contact
        fields = ("account", "name", "email", "role", "language", "accepts_surveys")

    def clean_name(self) -> str:
        return (self.cleaned_data.get("name") or "").strip()

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean(self):
        cleaned = super().clean()
        account, email = cleaned.get("account"), cleaned.get("email")
        if account is not None and account.pk is not None and email:
            taken = Contact.objects.filter(account=account, email__iexact=email)
            if self.instance.pk is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("email", _("This account already has a contact with this email."))
        return cleaned


class ContactInlineFormSet(forms.BaseInlineFormSet):
    """Rejects two contacts of one account with the same email (in any case) before saving."""

    def clean(self) -> None:
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or self._should_delete_form(form):
                continue
            email = (form.cleaned_data.get("email") or "").lower()
            if email and email in seen:
                form.add_error("email", _("This email is listed twice for this account."))
            seen.add(email)


class MrrMovementAddForm(ServiceModelForm):
    """Record an MRR movement through mrr_movement_record (sign, FX and history rules)."""

    amount = forms.DecimalField(
        label=_("amount"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "The size of the change, always positive, in the currency below. "
            "A churn may leave it empty to remove all the account's MRR."
        ),
    )
    currency = forms.CharField(
        label=_("currency"),
        required=False,
        max_length=3,
        help_text=_("ISO code of the amount; empty means the account's billing currency."),
    )
    churn_reason = forms.ChoiceField(
        label=_("churn reason"),
        required=False,
        choices=[("", "---------"), *ChurnReason.choices],
        help_text=_("Required for a churn."),
    )

    class Meta:
        model = MrrMovement
        fields = ("account", "kind", "date", "amount", "currency", "churn_reason", "note")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "account": data["account"],
            "kind": data["kind"],
            "date": data["date"],
            "amount": data.get("amount"),
            "currency": (data.get("currency") or "").strip() or None,
            "churn_reason": data.get("churn_reason") or "",
            "note": data.get("note") or "",
        }

    def service_validate(self) -> None:
        service_dry_run(mrr_movement_record, **self.service_kwargs())


class TouchpointAddForm(ServiceModelForm):
    """Log a touchpoint through touchpoint_log, which also moves the account's last touch."""

    class Meta:
        model = Touchpoint
        fields = ("account", "contact", "author", "kind", "occurred_at", "summary")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "account": data["account"],
            "author": data.get("author"),
            "kind": data["kind"],
            "summary": data["summary"],
            "occurred_at": data.get("occurred_at"),
            "contact": data.get("contact"),
        }

    def service_validate(self) -> None:
        service_dry_run(touchpoint_log, **self.service_kwargs())


class TouchpointChangeForm(forms.ModelForm):
    """Edit what was said; the account and time stay as logged (they drive the last touch)."""

    class Meta:
        model = Touchpoint
        fields = ("kind", "contact", "summary")

    def clean_contact(self) -> Contact | None:
        contact = self.cleaned_data.get("contact")
        if contact is not None and contact.account_id != self.instance.account_id:
            raise ValidationError(_("Choose a contact of this account."))
        return contact


class ExchangeRateAdminForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ("currency", "valid_from", "rate")

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
            raise ValidationError(_("Enter a three-letter currency code such as EUR."))
        return currency

    def clean_rate(self):
        rate = self.cleaned_data.get("rate")
        if rate is not None and rate <= 0:
            raise ValidationError(_("Enter a rate above zero."))
        return rate


class ReassignOwnerForm(forms.Form):
    """The intermediate page of the "reassign owner" action."""

    owner = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=User.objects.filter(is_active=True, role__in=[Role.CSM, Role.MANAGER, Role.ADMIN]),
    )
