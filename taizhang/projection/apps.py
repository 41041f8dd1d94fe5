from django.apps import AppConfig


class ProjectionConfig(AppConfig):
    name = "taizhang.projection"
    label = "projection"
