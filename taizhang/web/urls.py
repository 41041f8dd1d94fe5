"""The web pages. Each view module declares its scoping (taizhang.accounts.decorators)."""

from django.urls import path

from taizhang.web.views import audit, dashboard, duplicates, people

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("org/<str:code>/", dashboard.org_unit, name="orgunit"),
    path(
        "figures/<str:code>/<str:org>/<str:period>/<str:part>/", dashboard.records, name="records"
    ),
    path("people/", people.search, name="people"),
    path("people/duplicates/", duplicates.listing, name="duplicates"),
    path("people/duplicates/merge/", duplicates.merge, name="merge_persons"),
    path("people/duplicates/merges/<int:pk>/undo/", duplicates.unmerge, name="unmerge_persons"),
    path("people/<int:pk>/", people.detail, name="person"),
    path("people/<int:pk>/record/<str:kind>/", people.record_event, name="record_event"),
    path("audit/", audit.entries, name="audit"),
]
