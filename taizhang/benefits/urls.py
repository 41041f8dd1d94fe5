from django.urls import path

from taizhang.benefits import views

app_name = "benefits"

urlpatterns = [
    path("", views.home, name="home"),
    path("propose/", views.propose, name="propose"),
    path("enrolments/<int:pk>/", views.enrolment, name="enrolment"),
    path("enrolments/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("enrolments/<int:pk>/reject/", views.reject, name="reject"),
    path("enrolments/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("month/", views.month, name="month"),
    path("month/run/", views.run, name="run"),
    path("payments/<int:pk>/record/", views.record_payment, name="record_payment"),
    path("arrears/", views.arrears, name="arrears"),
    path("report/", views.report, name="report"),
]
