from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "taizhang.exchange"
    label = "exchange"
