from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "taizhang.operations"
    label = "operations"
