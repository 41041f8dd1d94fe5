"""URL configuration. Every view declares how it is scoped; the rest are refused."""

from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.i18n import set_language

from taizhang.accounts.decorators import public_view

handler500 = "taizhang.web.views.errors.server_error"

urlpatterns = [
    path("accounts/", include("taizhang.accounts.urls")),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("benefits/", include("taizhang.benefits.urls")),
    path("cases/", include("taizhang.cases.urls")),
    path("targets/", include("taizhang.targets.urls")),
    path("reports/", include("taizhang.reports.urls")),
    path("quality/", include("taizhang.quality.urls")),
    path("projection/", include("taizhang.projection.urls")),
    path("ledgers/", include("taizhang.ledgers.urls")),
    path("", include("taizhang.corrections.urls")),
    path("", include("taizhang.web.urls")),
    # The embedded server serves the app's own static files (CSS, htmx, ECharts) itself.
    re_path(r"^static/(?P<path>.*)$", public_view(serve_static), {"insecure": True}),
]
