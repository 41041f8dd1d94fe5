"""The forms of the users page. They only collect values: every check is in ``actions``,
so the page, ``taizhang users`` and the users file refuse the same things in the same words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import Role


class NewPasswordFields(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") != data.get("password1"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserCreateForm(NewPasswordFields):
    field_order = ["username", "role", "org", "password1", "password2"]

    username = forms.CharField(
        label=_("User name"),
        max_length=200,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    org = forms.ChoiceField(label=_("Org unit"))

    def __init__(self, *args, org_units=(), **kwargs):
        super().__init__(*args, **kwargs)
        top = min((u.level for u in org_units), default=0)
        indent = "\u3000"  # a full-width space per level below the top: the tree at a glance
        self.fields["org"].choices = [
            (u.code, f"{indent * (u.level - top)}{u.code} {u.name}") for u in org_units
        ]


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("User name"), required=False)
    inactive = forms.BooleanField(label=_("Show deactivated accounts"), required=False)
