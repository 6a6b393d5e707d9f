"""django-q2 entry points of the operations app: thin wrappers over its services."""

from ops.services import webhook_events_prune


def webhook_events_prune_task() -> None:
    """Hourly (a schedule installed by ops/migrations/0002)."""
    webhook_events_prune()
