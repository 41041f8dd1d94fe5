from django.urls import path

from taizhang.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.home, name="home"),
    path("check/<str:code>/", views.check, name="check"),
    path("download/", views.download, name="download"),
    path("reports/", views.reports, name="reports"),
]
