"""The report form typed in on the web: one whole number per item, each optional (an
item left empty is not reported). The rules are checked by ``taizhang.quality.actions``."""

from __future__ import annotations

from django import forms

from taizhang.quality.actions import MAX_VALUE
from taizhang.quality.models import Item


class ReportForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for item in Item:
            self.fields[item.value] = forms.IntegerField(
                label=item.label, required=False, min_value=0, max_value=MAX_VALUE
            )
