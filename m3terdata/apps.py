from django.apps import AppConfig


class M3terdataConfig(AppConfig):
    name = "m3terdata"
    verbose_name = "m3ter data"
