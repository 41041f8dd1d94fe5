"""Placeholder until the pages are written."""
from django.http import Http404

from taizhang.accounts.decorators import area_view


@area_view
def home(request):
    raise Http404


org_unit = records = home
