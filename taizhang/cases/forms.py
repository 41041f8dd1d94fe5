"""The forms of the petition pages. They only read what was typed; the rules (states,
dates, the right handler) are checked by ``taizhang.cases.actions``, whose sentences
the pages show."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scope import org_units_for
from taizhang.cases.actions import handler_may_take
from taizhang.cases.models import Case, Category, Channel, Satisfaction, State
from taizhang.orgunits.models import prefix_range


def _blank(choices, label=_("Any")) -> list[tuple[str, str]]:
    return [("", label), *choices]


def _date(label, required=True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


def _org_choices(user) -> list[tuple[str, str]]:
    return [
        (code, f"{name} ({code})") for code, name in org_units_for(user).values_list("code", "name")
    ]


class CaseFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=_blank(State.choices))
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank(Category.choices)
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=_blank(Channel.choices))
    org = forms.ChoiceField(label=_("Org unit"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    received_from = _date(_("Received from"), required=False)
    received_to = _date(_("Received to"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = _blank(_org_choices(user), _("All my org units"))


class IntakeForm(forms.Form):
    received_on = _date(_("Received on"))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    org = forms.ChoiceField(label=_("Org unit concerned"))
    subject = forms.CharField(label=_("Subject"), widget=forms.Textarea(attrs={"rows": 4}))
    anonymous = forms.BooleanField(label=_("Anonymous petition"), required=False)
    petitioner_name = forms.CharField(label=_("Petitioner's name"), required=False, max_length=50)
    id_number = forms.CharField(label=_("Petitioner's ID number"), required=False, max_length=30)
    phone = forms.CharField(label=_("Petitioner's phone"), required=False, max_length=30)
    attachment = forms.FileField(label=_("Attachment"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = _org_choices(user)


class ReportForm(forms.Form):
    org = forms.ChoiceField(label=_("Org unit"))
    period = forms.CharField(
        label=_("Period"), max_length=8, help_text=_("2026, 2026S1, 2026Q1 or 202601")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = _org_choices(user)


class OverdueForm(forms.Form):
    org = forms.ChoiceField(label=_("Org unit"))
    as_of = _date(_("As of"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].choices = _org_choices(user)


ACTION_LABELS = {
    "accept": _("Accept"),
    "decline": _("Decline"),
    "assign": _("Assign a handler"),
    "reply": _("Reply"),
    "return_visit": _("Return visit"),
    "close": _("Close"),
    "reopen": _("Repeat petition"),
    "note": _("Add a note"),
    "attach": _("Attach a file"),
}


class ActionForm(forms.Form):
    """The fields one named action needs (``action``), for ``case``."""

    def __init__(self, *args, action: str, case: Case, **kwargs):
        kwargs.setdefault("prefix", action)
        super().__init__(*args, **kwargs)
        self.action = action
        self.label = ACTION_LABELS[action]
        for name, field in self._fields(action, case):
            self.fields[name] = field

    @staticmethod
    def _fields(action: str, case: Case):
        if action == "attach":
            yield "file", forms.FileField(label=_("File"))
            return
        if action == "reopen":
            yield "received_on", _date(_("Received on"))
            yield "channel", forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
            yield "subject", forms.CharField(label=_("Subject"), widget=forms.Textarea({"rows": 3}))
            return
        yield "on", _date(_("Date"))
        if action == "decline":
            yield "reason", forms.CharField(label=_("Reason"), max_length=500)
        elif action == "assign":
            yield "handler", forms.ChoiceField(label=_("Handler"), choices=handler_choices(case))
        elif action in ("reply", "note"):
            label = _("Reply") if action == "reply" else _("Note")
            yield "text", forms.CharField(label=label, widget=forms.Textarea({"rows": 3}))
        elif action == "return_visit":
            yield (
                "satisfaction",
                forms.ChoiceField(label=_("Satisfaction"), choices=Satisfaction.choices),
            )
            yield "note", forms.CharField(label=_("Note"), required=False, max_length=500)


def handler_candidates(case: Case):
    """Active accounts working in the right org unit for the case (``handler_may_take``)."""
    low, high = prefix_range(case.org_id[:9])
    users = (
        get_user_model()
        .objects.filter(is_active=True, profile__org_unit__gte=low, profile__org_unit__lt=high)
        .select_related("profile")
        .order_by("username")
    )
    return [u for u in users if handler_may_take(u, case)]


def handler_choices(case: Case) -> list[tuple[str, str]]:
    return [
        (u.username, f"{u.get_full_name() or u.username} ({u.profile.org_unit_id})")
        for u in handler_candidates(case)
    ]
