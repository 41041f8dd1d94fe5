from django.urls import path

from taizhang.targets import views

app_name = "targets"

urlpatterns = [path("", views.home, name="home")]
