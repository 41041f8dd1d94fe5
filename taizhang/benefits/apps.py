from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "taizhang.benefits"
    label = "benefits"
