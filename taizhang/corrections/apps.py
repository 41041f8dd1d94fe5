from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "taizhang.corrections"
    label = "corrections"
