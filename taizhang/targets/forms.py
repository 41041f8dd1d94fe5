"""The forms of the targets page. They only read what was typed; the rules (a known
indicator, a number with at most 2 decimals) are checked by ``taizhang.targets.actions``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scope import org_units_for
from taizhang.indicators.definitions import (
    INDICATORS,
    REGISTER_QUALITY_INDICATORS,
    SERVICE_INDICATORS,
)
from taizhang.targets.models import Direction


class TargetForm(forms.Form):
    indicator = forms.ChoiceField(label=_("Indicator"))
    org = forms.ChoiceField(label=_("Org unit"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    value = forms.CharField(label=_("Target"), max_length=20)
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Default for the indicator")), *Direction.choices],
    )

    def __init__(self, *args, user, indicator_name, **kwargs):
        super().__init__(*args, **kwargs)
        # The indicators of docs/indicators.md (the report forms' breakdowns take no targets).
        self.fields["indicator"].choices = [
            (i.code, f"{i.code} {indicator_name(i)}")
            for i in INDICATORS + SERVICE_INDICATORS + REGISTER_QUALITY_INDICATORS
        ]
        # Targets are set for the county and its townships: the units the league table ranks.
        units = org_units_for(user).filter(level__lte=4).values_list("code", "name")
        self.fields["org"].choices = [(code, f"{name} ({code})") for code, name in units]
