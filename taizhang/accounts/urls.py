from django.urls import path

from taizhang.accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_detail, name="user"),
    path("users/<int:pk>/deactivate/", views.user_active, {"state": "off"}, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_active, {"state": "on"}, name="user_reactivate"),
]
