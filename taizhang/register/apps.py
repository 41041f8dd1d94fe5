from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "taizhang.register"
    label = "register"
