from django.http import HttpResponse

from taizhang.accounts.decorators import area_view


@area_view
def home(request):
    return HttpResponse("")
