"""The forms of the ledger pages: returning a filled-in file, and checking people in."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.ledgers.models import SessionKind
from taizhang.register.models import LifeStage


class ReturnForm(forms.Form):
    file = forms.FileField(label=_("Filled-in ledger (.xlsx or .csv)"))
    dry_run = forms.BooleanField(label=_("Check only, record nothing"), required=False)


class CheckInForm(forms.Form):
    kind = forms.ChoiceField(label=_("Session"), choices=SessionKind.choices)
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    stage = forms.ChoiceField(
        label=_("Life stage (education)"),
        choices=[("", "—"), *LifeStage.choices],
        required=False,
    )
    code = forms.CharField(
        label=_("Row key (scan the QR code) or ID number"),
        max_length=120,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "size": 48, "spellcheck": "false"}
        ),
    )


class SessionForm(forms.Form):
    """The session a check-in page shows (its query string)."""

    kind = forms.ChoiceField(choices=SessionKind.choices, required=False)
    date = forms.DateField(required=False)
    stage = forms.ChoiceField(choices=[("", "—"), *LifeStage.choices], required=False)
