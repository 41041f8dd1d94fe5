from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "taizhang.imports"
    label = "imports"
