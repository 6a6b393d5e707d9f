from django.apps import AppConfig


class M3terSyncConfig(AppConfig):
    name = "m3tersync"
    verbose_name = "Bills in from m3ter"
