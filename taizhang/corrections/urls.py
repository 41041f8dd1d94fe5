from django.urls import path

from taizhang.corrections import views

app_name = "corrections"

urlpatterns = [
    path("corrections/", views.inbox, name="inbox"),
    path("corrections/<int:request_id>/decide/", views.decide, name="decide"),
    path("people/<int:pk>/events/", views.history, name="history"),
    path("people/<int:pk>/events/<int:event_id>/correct/", views.correct, name="correct"),
    path("people/<int:pk>/events/<int:event_id>/retract/", views.retract, name="retract"),
]
