from django.urls import path

from taizhang.benefits import views

app_name = "benefits"

urlpatterns = [path("", views.home, name="home")]
