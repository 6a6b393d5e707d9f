from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What the people on call and their load balancers look at: probes, metrics, logs."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from ops import worker  # noqa: F401  (connects the qcluster worker signal)
