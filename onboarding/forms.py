"""Forms of the onboarding pages: parse and check the shape of input, then hand it to a service
(which holds the rules, e.g. no due date before the contract start) or a selector."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, Language, Segment
from team.models import Role, User

from .models import MAX_DUE_DAY, MAX_WEIGHT, MilestoneStatus, OwnerSide, PlanTemplate
from .selectors import BOARD_SORTS, BoardFilters

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT = {"max_digits": 16, "decimal_places": 2, "required": False}


class RowForm(forms.Form):
    """A form of which a page shows several (one per row): ``row`` prefixes its field names and
    ids, so each row's form posts and labels its own fields."""

    def __init__(self, *args, row: str | None = None, **kwargs):
        if row:
            kwargs["prefix"] = row
        super().__init__(*args, **kwargs)


class StartPlanForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=PlanTemplate.objects.none(),
        required=False,
        empty_label=_("None: an empty plan I build by hand"),
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=DATE, help_text=_("Milestones fall due counting from this day.")
    )

    def __init__(self, *args, account: Account, **kwargs):
        kwargs.setdefault("initial", {"start_date": account.contract_start})
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.filter(is_active=True).order_by("name")


class SwitchTemplateForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Switch to template"), queryset=PlanTemplate.objects.none())

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.filter(is_active=True).order_by("name")
        if templates is not None:  # already fetched for the page
            self.fields["template"].choices = [("", "---------"), *[(t.pk, t.name) for t in templates]]


class ShiftForm(forms.Form):
    start_date = forms.DateField(
        label=_("New start date"),
        widget=DATE,
        help_text=_("Every milestone not done yet moves by the same number of days."),
    )


class ExpectationsForm(forms.Form):
    expectations = forms.CharField(
        label=_("Expectations"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the customer said they want from the product, in their words."),
    )


class MilestoneForm(RowForm):
    name = forms.CharField(label=_("Milestone"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_date = forms.DateField(label=_("Due date"), widget=DATE)
    owner_side = forms.ChoiceField(label=_("Owner side"), choices=OwnerSide.choices, initial=OwnerSide.CSM)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=MAX_WEIGHT, initial=1)
    delivers_value = forms.BooleanField(label=_("Delivers value"), required=False)
    celebrate = forms.BooleanField(label=_("Celebrate with an email"), required=False)


class MilestoneStatusForm(RowForm):
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneStatus.choices)
    done_on = forms.DateField(label=_("Done on"), required=False, widget=DATE)
    blocked_reason = forms.CharField(label=_("Blocked because"), required=False, max_length=500)


class CriterionForm(RowForm):
    metric = forms.CharField(label=_("Metric"), max_length=200)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=30)
    baseline = forms.DecimalField(label=_("Baseline"), **AMOUNT)
    target = forms.DecimalField(label=_("Target"), max_digits=16, decimal_places=2)
    current = forms.DecimalField(label=_("Current value"), **AMOUNT)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DATE)
    achieved = forms.BooleanField(label=_("Achieved"), required=False)


class CriteriaReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Note from the review"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    log_touchpoint = forms.BooleanField(label=_("Log it as a QBR touchpoint"), required=False, initial=True)


class ShareLinkForm(forms.Form):
    contact = forms.ModelChoiceField(
        label=_("For"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("Anyone at the customer"),
        help_text=_("The page is in this contact's language."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        initial=Language.EN,
        help_text=_("When not for a contact."),
    )

    def __init__(self, *args, account: Account, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        field.queryset = Contact.objects.filter(account=account).order_by("name")
        if contacts is not None:  # already fetched for the page
            field.choices = [
                ("", field.empty_label),
                *[(c.pk, f"{c.name} ({c.get_language_display()})") for c in contacts],
            ]


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("Any segment")), *Segment.choices]
    )
    account_plan = forms.CharField(
        label=_("Account plan"),
        required=False,
        max_length=100,
        help_text=_("Only for accounts on this commercial plan; empty for any."),
    )
    auto_assign = forms.BooleanField(
        label=_("Start automatically for new accounts"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TemplateMilestoneForm(RowForm):
    name = forms.CharField(label=_("Milestone"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_day = forms.IntegerField(
        label=_("Due day"),
        min_value=0,
        max_value=MAX_DUE_DAY,
        initial=7,
        help_text=_("Days after the start."),
    )
    owner_side = forms.ChoiceField(label=_("Owner side"), choices=OwnerSide.choices, initial=OwnerSide.CSM)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=MAX_WEIGHT, initial=1)
    delivers_value = forms.BooleanField(label=_("Delivers value"), required=False)
    celebrate = forms.BooleanField(label=_("Celebrate with an email"), required=False)


class BoardFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Account name or domain"), "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("open", _("In onboarding")),
            ("behind", _("Behind schedule")),
            ("on_track", _("On track")),
            ("done", _("Completed")),
            ("all", _("All plans")),
        ],
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), required=False, queryset=User.objects.none(), empty_label=_("All owners")
    )
    template = forms.ModelChoiceField(
        label=_("Template"),
        required=False,
        queryset=PlanTemplate.objects.none(),
        empty_label=_("All templates"),
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("schedule", _("Behind schedule first")),
            ("progress", _("Least progress first")),
            ("-progress", _("Most progress first")),
            ("account", _("Account name")),
            ("-start", _("Newest start first")),
            ("start", _("Oldest start first")),
        ],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = PlanTemplate.objects.order_by("name")
        if user.sees_all_accounts:
            self.fields["owner"].queryset = User.objects.filter(
                is_active=True, role__in=[Role.CSM, Role.MANAGER, Role.ADMIN]
            ).order_by("full_name", "email")
        else:
            del self.fields["owner"]

    def filters(self) -> BoardFilters:
        if not self.is_bound:
            return BoardFilters()
        self.is_valid()  # invalid values are left out of cleaned_data: those filters are ignored
        data = self.cleaned_data
        owner = data.get("owner")
        template = data.get("template")
        sort = data.get("sort") or "schedule"
        return BoardFilters(
            q=(data.get("q") or "").strip(),
            status=data.get("status") or "open",
            segment=data.get("segment") or "",
            owner_id=owner.pk if owner else None,
            template_id=template.pk if template else None,
            sort=sort if sort in BOARD_SORTS else "schedule",
        )

    @property
    def is_filtered(self) -> bool:
        f = self.filters()
        return bool(f.q or f.segment or f.owner_id or f.template_id or f.status != "open")


class FunnelForm(forms.Form):
    funnel = forms.ModelChoiceField(label=_("Template"), queryset=PlanTemplate.objects.none(), required=False)

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funnel"].queryset = PlanTemplate.objects.order_by("name")
        if templates is not None:
            self.fields["funnel"].choices = [(t.pk, t.name) for t in templates]
