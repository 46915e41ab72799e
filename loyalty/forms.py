"""Forms of the loyalty pages: shapes and types only; the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Contact

from .models import AskKind, AskStatus, LinkKind, RedemptionStatus, ReferralStatus, Reward
from .services import MAX_POINTS


class RedemptionRequestForm(forms.Form):
    reward = forms.ModelChoiceField(
        label=_("Reward"), queryset=Reward.objects.none(), empty_label=_("Choose a reward")
    )
    contact = forms.ModelChoiceField(
        label=_("For contact"), queryset=Contact.objects.none(), required=False, empty_label=_("The account")
    )

    def __init__(self, *args, account=None, rewards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward"].queryset = (
            rewards if rewards is not None else Reward.objects.filter(is_active=True)
        )
        self.fields["reward"].label_from_instance = lambda r: (
            f"{r.name} · {r.cost:,} pts" + (f" · {r.stock} left" if r.stock is not None else "")
        )
        if account is not None:
            self.fields["contact"].queryset = account.contacts.order_by("name")
        else:
            del self.fields["contact"]


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Negative to take points away."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.TextInput)

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("Enter a number other than zero."))
        return points


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class FulfilForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if not (data.get("code") or "").strip() and not (data.get("notes") or "").strip():
            self.add_error("code", _("Enter the code, or notes on how it was delivered."))
        return data


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices)
    contact = forms.ModelChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("The whole account"),
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = account.contacts.order_by("name")


class ReferralForm(forms.Form):
    """The public form: as few fields as possible, big and phone-friendly."""

    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    domain = forms.CharField(
        label=_("Company website"),
        max_length=253,
        help_text=_("e.g. example.com"),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocapitalize": "none", "autocomplete": "url"}),
    )
    contact_name = forms.CharField(
        label=_("Who should we talk to?"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_email = forms.EmailField(
        label=_("Their email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )
    note = forms.CharField(
        label=_("Anything we should know? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReferralReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("qualify", _("Qualify")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AskForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Advocate"), queryset=Contact.objects.none())
    kind = forms.ChoiceField(label=_("Ask for"), choices=AskKind.choices)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts if contacts is not None else Contact.objects.none()
        self.fields["contact"].label_from_instance = lambda c: f"{c.name} ({c.account.name})"


class AskUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(value, label) for value, label in AskStatus.choices if value != AskStatus.ASKED],
    )
    link = forms.URLField(
        label=_("Link to the result"), required=False, max_length=200, assume_scheme="https"
    )


class RedemptionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *RedemptionStatus.choices]
    )


class ReferralFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ReferralStatus.choices]
    )


class AskFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *AskStatus.choices]
    )
