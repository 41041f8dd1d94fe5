"""The forms of the benefits pages. Org units offered are those of the user's area."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scope import in_area, org_units_for
from taizhang.benefits.models import Channel, EnrolmentState
from taizhang.benefits.schemes import Scheme, UserError, parse_month, schemes
from taizhang.lib.periods import PeriodError, parse

OUTCOME_CHOICES = [("paid", _("Paid")), ("returned", _("Returned")), ("failed", _("Failed"))]


# Date inputs of type "date" need the ISO form, whatever the language's date format.
ISO_DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def scheme_label(s: Scheme, *, short: bool = False) -> str:
    """The scheme's name in the user's language; ``short`` for narrow table columns."""
    zh = (get_language() or "").startswith("zh")
    if short and (label := s.short_name if zh else s.short_name_en):
        return label
    return s.name if zh else s.name_en


def scheme_labels(*, short: bool = False) -> dict[str, str]:
    """Scheme code → its name in the user's language."""
    return {s.code: scheme_label(s, short=short) for s in schemes().values()}


def _scheme_choices(blank=None):
    found = list(scheme_labels().items())
    return [("", blank), *found] if blank else found


class _AreaForm(forms.Form):
    """A form with an ``org`` field limited to the user's area (default: the user's unit)."""

    org = forms.ChoiceField(label=_("Org unit"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        units = org_units_for(user).values_list("code", "name")
        self.fields["org"].choices = [(c, f"{c} {n}") for c, n in units]
        self.root = units[0][0] if units else ""

    def clean_org(self) -> str:
        code = self.cleaned_data.get("org") or self.root
        if not in_area(self.user, code):
            raise forms.ValidationError(_("This org unit is not in your area."))
        return code


class MonthField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_month(value)
        except UserError as e:
            raise forms.ValidationError(str(e)) from None


class EnrolmentFilterForm(_AreaForm):
    scheme = forms.ChoiceField(label=_("Scheme"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Any state")), *EnrolmentState.choices],
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = _scheme_choices(blank=_("Any scheme"))
        self.fields["org"].label = _("Village")


class ProposeForm(_AreaForm):
    scheme = forms.ChoiceField(label=_("Scheme"))
    month = MonthField(label=_("Month (YYYYMM)"), max_length=7)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = _scheme_choices()


class MonthForm(_AreaForm):
    month = MonthField(label=_("Month (YYYYMM)"), max_length=7)


class ArrearsForm(_AreaForm):
    as_of = forms.DateField(label=_("As of"), required=False, widget=ISO_DATE_INPUT)


class ReportForm(_AreaForm):
    period = forms.CharField(label=_("Period"), max_length=7)

    def clean_period(self) -> str:
        code = self.cleaned_data["period"]
        try:
            return parse(code).code
        except PeriodError as e:
            raise forms.ValidationError(str(e)) from None


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea)


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class PaymentForm(forms.Form):
    status = forms.ChoiceField(label=_("Outcome"), choices=OUTCOME_CHOICES)
    date = forms.DateField(label=_("Date"), widget=ISO_DATE_INPUT)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", "—"), *Channel.choices]
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
