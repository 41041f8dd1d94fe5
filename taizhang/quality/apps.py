from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "taizhang.quality"
    label = "quality"
