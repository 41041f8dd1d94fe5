from django.apps import AppConfig


class OrgUnitsConfig(AppConfig):
    name = "taizhang.orgunits"
    label = "orgunits"
    verbose_name = "org units"
