from django.urls import path

from taizhang.projection import views

app_name = "projection"

urlpatterns = [
    path("", views.home, name="home"),
]
