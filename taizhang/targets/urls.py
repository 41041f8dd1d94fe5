from django.urls import path

from taizhang.targets import views

app_name = "targets"

urlpatterns = [
    path("", views.home, name="home"),
    path("set/", views.set_target, name="set"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
