from django.urls import path

from taizhang.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("overdue/", views.overdue_page, name="overdue"),
    path("report/", views.report, name="report"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment, name="attachment"),
    path("<int:pk>/<slug:action>/", views.act, name="act"),
]
