from django import forms
from django.utils.translation import gettext_lazy as _

from team.models import User

from .models import TokenScope


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Integration name"),
        max_length=100,
        help_text=_("Who will use it, e.g. Product usage feed or CRM sync."),
    )
    user = forms.ModelChoiceField(
        label=_("Acts for"),
        queryset=User.objects.none(),
        help_text=_(
            "The token sees and changes what this person may: a CSM's token sees only their accounts."
        ),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        help_text=_("Read only: the token may only read. Read and write: it may also create and change."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            User.objects.filter(is_active=True).exclude(role="").order_by("full_name", "email")
        )
