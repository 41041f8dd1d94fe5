from django.urls import path

from taizhang.ledgers import views

app_name = "ledgers"

urlpatterns = [
    path("", views.home, name="home"),
    path("check-in/", views.check_in, name="check_in"),
    path("handbook/", views.handbook_page, name="handbook"),
    path("handbook.pdf", views.handbook_pdf, name="handbook_pdf"),
    path("<str:village>/<str:month>/", views.village, name="village"),
    path("<str:village>/<str:month>/return/", views.upload_return, name="return"),
    path("<str:village>/<str:month>/<str:kind>/<str:fmt>/", views.download, name="download"),
]
