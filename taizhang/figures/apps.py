from django.apps import AppConfig


class FiguresConfig(AppConfig):
    name = "taizhang.figures"
    label = "figures"
    verbose_name = "Maintained figures"
