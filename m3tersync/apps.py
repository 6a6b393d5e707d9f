from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_pull_schedule(sender, **kwargs):
    from m3tersync.services import pull_schedule_ensure

    pull_schedule_ensure()


class M3terSyncConfig(AppConfig):
    name = "m3tersync"
    verbose_name = "Bills in from m3ter"

    def ready(self):
        # The pull's schedule is installed (and kept in step with M3TER_PULL_INTERVAL_MINUTES)
        # by every `migrate`, so a fresh deployment pulls without anyone setting it up.
        post_migrate.connect(_ensure_pull_schedule, sender=self)
