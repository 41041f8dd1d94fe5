from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "taizhang.targets"
    label = "targets"
