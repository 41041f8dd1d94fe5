from django.urls import path

from taizhang.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("download/", views.download, name="download"),
]
