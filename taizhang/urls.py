"""URL configuration; the web pages are added app by app."""

urlpatterns: list = []
