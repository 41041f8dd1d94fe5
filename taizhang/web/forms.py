"""The forms of the web pages: searching the register, recording an event, filtering the audit.

The event form is a thin shell over the importer's own row reader
(``taizhang.imports.events.event_from_values``): its fields carry the column keys of
an events file, every value is checked by the same parsers, and a wrong value shows
the same sentence an import would report for that column. Only what a form adds is
checked here: a new village must lie inside the user's area. A spouse or child named by
an ID number registered outside the user's area is, as in an import by that user, not
known (docs/imports.md, "Writes across areas").
"""

from __future__ import annotations

import datetime as dt
import functools

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.scope import in_area, org_units_for, write_area
from taizhang.imports.events import event_from_values
from taizhang.imports.fields import FieldError
from taizhang.register.timeline import Problem

# ---------------------------------------------------------------------------
# Labels of the register's codes, for people.

KIND_LABELS = {
    "marriage": _("Marriage"),
    "divorce": _("Divorce"),
    "widowhood": _("Widowhood"),
    "pregnancy": _("Pregnancy registered"),
    "outcome": _("Pregnancy outcome"),
    "birth": _("Birth"),
    "death": _("Death"),
    "move_in": _("Move into the county"),
    "move_out": _("Move out of the county"),
    "move_within": _("Move within the county"),
    "method_start": _("Method started"),
    "method_stop": _("Method stopped"),
    "checkup": _("Check-up"),
    "screening": _("Gynaecological screening"),
    "followup": _("Follow-up visit"),
    "education": _("Life-stage education"),
}
METHOD_LABELS = {
    "iud": _("IUD"),
    "implant": _("Implant"),
    "injectable": _("Injectable"),
    "pill": _("Pill"),
    "condom": _("Condom"),
    "female_sterilization": _("Female sterilisation"),
    "male_sterilization": _("Male sterilisation"),
    "other": _("Other method"),
}
OUTCOME_LABELS = {
    "stillbirth": _("Stillbirth"),
    "miscarriage": _("Miscarriage"),
    "induced_abortion": _("Induced abortion"),
}
STAGE_LABELS = {
    "newlywed": _("Newly-wed"),
    "pregnancy": _("Pregnancy"),
    "lactation": _("Lactation"),
    "childrearing": _("Child-rearing"),
    "menopause": _("Menopause"),
}
DELIVERY_LABELS = {"facility": _("In a facility"), "home": _("At home")}
STATUS_LABELS = {
    "resident": _("Resident"),
    "moved_out": _("Moved out"),
    "deceased": _("Deceased"),
    "merged": _("Merged"),
    "retracted": _("Retracted"),
}
SEX_LABELS = {"M": _("Male"), "F": _("Female")}
ACTION_LABELS = {
    "login": _("Logged in"),
    "login_failed": _("Failed login"),
    "login_refused": _("Login refused: account locked"),
    "login_locked": _("Account locked after failed logins"),
    "password_change": _("Changed their password"),
    "password_reset": _("Reset a user's password"),
    "user_create": _("Made an account"),
    "user_deactivate": _("Deactivated an account"),
    "user_reactivate": _("Reactivated an account"),
    "person_view": _("Viewed a person's record"),
    "person_update": _("Updated a person"),
    "event_record": _("Recorded an event"),
    "event_correct": _("Corrected an event"),
    "person_merge": _("Merged a duplicate registration"),
    "correction_request": _("Asked for a correction"),
    "correction_approve": _("Approved a correction"),
    "correction_refuse": _("Refused a correction"),
    "person_unmerge": _("Undid a merge of duplicate registrations"),
    "import": _("Imported a file"),
    "records_view": _("Listed the persons behind a figure"),
    "orgunit_rename": _("Renamed an org unit"),
    "enrolment_view": _("Viewed a benefit enrolment"),
    "benefit_propose": _("Proposed benefit candidates"),
    "benefit_apply": _("Registered a benefit application"),
    "benefit_confirm": _("Confirmed a benefit enrolment"),
    "benefit_confirm_list": _("Confirmed a list of benefit enrolments"),
    "benefit_reject": _("Rejected a benefit candidate"),
    "benefit_end": _("Ended a benefit enrolment"),
    "benefit_run": _("Made a month's benefit payment list"),
    "benefit_payment_paid": _("Recorded a benefit payment"),
    "benefit_payment_returned": _("Recorded a returned benefit payment"),
    "benefit_payment_failed": _("Recorded a failed benefit payment"),
    "benefit_payment_due": _("Reset a benefit payment to due"),
    "benefit_payments_recorded": _("Recorded a benefit payment list"),
    "benefit_import_enrolments": _("Imported benefit enrolments"),
    "benefit_import_payments": _("Imported benefit payments"),
    "case_view": _("Viewed a petitioner's details"),
    "case_receive": _("Registered a petition"),
    "case_accept": _("Accepted a petition"),
    "case_decline": _("Declined a petition"),
    "case_assign": _("Assigned a petition"),
    "case_reply": _("Replied to a petition"),
    "case_return_visit": _("Recorded a return visit"),
    "case_close": _("Closed a petition"),
    "case_reopen": _("Registered a repeat petition"),
    "case_attach": _("Attached a file to a petition"),
    "case_note": _("Added a note to a petition"),
    "case_download": _("Downloaded a petition's attachment"),
}

# Kinds only a woman's record takes (the timeline refuses them for a man anyway).
WOMEN_ONLY_KINDS = frozenset({"pregnancy", "outcome", "birth"})


def _choices(labels: dict, *, blank=_("—")) -> list[tuple[str, str]]:
    return [("", blank), *labels.items()]


# ---------------------------------------------------------------------------
# People search


class PersonSearchForm(forms.Form):
    """What the people page searches by: one box (name, pinyin initials, ID number, phone or
    household number) and three filters. The village filter offers the user's villages."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, pinyin initials, ID number, phone or household number"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_choices(STATUS_LABELS, blank=_("Any status"))
    )
    sex = forms.ChoiceField(
        label=_("Sex"), required=False, choices=_choices(SEX_LABELS, blank=_("Any sex"))
    )
    village = forms.ChoiceField(label=_("Village"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user
        # Read when the filter is drawn or a village is asked for, not before: a search
        # typed in the box (htmx: only the results are sent) needs none of them, and a
        # county's 317 choices cost more to set up than the search itself.
        self.fields["village"].choices = self._village_choices

    @functools.cached_property
    def _villages(self) -> list[tuple[str, str]]:
        villages = org_units_for(self._user).villages().values_list("code", "name")
        return [("", _("All my villages")), *villages]

    def _village_choices(self) -> list[tuple[str, str]]:
        return self._villages

    @property
    def single_village(self) -> bool:
        return len(self._villages) <= 2


# ---------------------------------------------------------------------------
# Recording an event


def _date_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


def _select(label, labels: dict) -> forms.CharField:
    # A CharField, not a ChoiceField: the importer's parser checks the value and says
    # what is wrong in the same words as for a file.
    return forms.CharField(
        label=label, required=False, widget=forms.Select(choices=_choices(labels))
    )


def _text(label, help_text="", max_length=200) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text)


# The columns of an events file (docs/imports.md) each kind takes, in the order shown.
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "marriage": ("date", "spouse_id_number"),
    "divorce": ("date", "spouse_id_number"),
    "widowhood": ("date",),
    "pregnancy": ("date", "lmp_date"),
    "outcome": ("date", "outcome"),
    "birth": (
        "date",
        "child_id_number",
        "child_name",
        "child_sex",
        "delivery_place",
        "birth_weight_g",
    ),
    "death": ("date",),
    "move_in": ("date", "village"),
    "move_out": ("date", "village"),
    "move_within": ("date", "village"),
    "method_start": ("date", "method"),
    "method_stop": ("date", "method", "reason"),
    "checkup": ("date", "findings"),
    "screening": ("date", "findings"),
    "followup": ("date", "findings"),
    "education": ("date", "stage"),
}

# Fields a kind cannot do without; the browser asks for them, the parsers insist.
REQUIRED_BY_KIND: dict[str, frozenset[str]] = {
    kind: frozenset({"date"}) for kind in FIELDS_BY_KIND
} | {
    "marriage": frozenset({"date", "spouse_id_number"}),
    "outcome": frozenset({"date", "outcome"}),
    "birth": frozenset({"date", "child_id_number", "child_sex", "delivery_place"}),
    "move_in": frozenset({"date", "village"}),
    "move_within": frozenset({"date", "village"}),
    "method_start": frozenset({"date", "method"}),
    "education": frozenset({"date", "stage"}),
}


class EventForm(forms.Form):
    """One life event of one person. ``is_valid()`` reads it as the importer reads a row
    (call it inside the transaction that records the event: a new child's id is reserved);
    then ``event`` and ``children`` are ready for ``register.actions.record_events``."""

    def __init__(self, *args, kind: str, person, user, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.person, self.user, self.today = kind, person, user, today
        self.event = None
        self.children: dict = {}
        for key in FIELDS_BY_KIND[kind]:
            field = self._make_field(key)
            if key in REQUIRED_BY_KIND[kind]:
                field.widget.attrs["required"] = True
            self.fields[key] = field

    def _make_field(self, key: str) -> forms.Field:
        kind = self.kind
        if key == "date":
            return _date_field(_("Date"))
        if key == "spouse_id_number":
            return _text(_("Spouse's ID number"), max_length=30)
        if key == "lmp_date":
            return _date_field(_("Last menstrual period"))
        if key == "outcome":
            return _select(_("Outcome"), OUTCOME_LABELS)
        if key == "child_id_number":
            return _text(_("Child's ID number"), max_length=30)
        if key == "child_name":
            return _text(
                _("Child's name"), _("Needed when the child is not yet in the register."), 50
            )
        if key == "child_sex":
            return _select(_("Child's sex"), SEX_LABELS)
        if key == "delivery_place":
            return _select(_("Place of delivery"), DELIVERY_LABELS)
        if key == "birth_weight_g":
            return forms.CharField(
                label=_("Birth weight (grams)"),
                required=False,
                widget=forms.NumberInput(attrs={"min": 300, "max": 7000}),
            )
        if key == "village" and kind == "move_out":
            return _text(_("Destination"), _("Where the person moved to (optional)."))
        if key == "village":
            villages = org_units_for(self.user).villages().values_list("code", "name")
            return forms.CharField(
                label=_("New village"),
                required=False,
                widget=forms.Select(choices=[("", "—"), *((c, f"{n} ({c})") for c, n in villages)]),
            )
        if key == "method":
            return _select(_("Method"), METHOD_LABELS)
        if key == "reason":
            return _text(_("Reason"))
        if key == "findings":
            return _text(_("Findings"), _("Separate several findings with ;"), 1000)
        if key == "stage":
            return _select(_("Life stage"), STAGE_LABELS)
        raise KeyError(key)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        values = {"event": self.kind, **{k: v or "" for k, v in cleaned.items()}}
        try:
            self.event, self.children = event_from_values(
                values, person=self.person.pk, today=self.today, area=write_area(self.user)
            )
        except FieldError as err:
            self.add_error(err.column if err.column in self.fields else None, str(err))
            return cleaned
        if self.kind in ("move_in", "move_within") and not in_area(self.user, self.event.village):
            self.add_error(
                "village",
                _("village %(code)s is outside your area") % {"code": self.event.village},
            )
        return cleaned

    def add_problems(self, problems: list[Problem]) -> None:
        """Show what the register refused, next to the field it concerns."""
        for p in problems:
            self.add_error(p.column if p.column in self.fields else None, p.message)


# ---------------------------------------------------------------------------
# Audit browser


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=30,
        help_text=_("Register number or ID number"),
    )

    def __init__(self, *args, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [
            ("", _("Any action")),
            *((a, ACTION_LABELS.get(a, a)) for a in actions),
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
