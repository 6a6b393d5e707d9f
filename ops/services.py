"""Writes of the operations app: heartbeats, and pruning old webhook events."""

import datetime
import logging
import time

from django.conf import settings
from django.utils import timezone

from m3tersync.services import inbound_events_prune
from ops.models import Heartbeat, HeartbeatKind
from paddle_destination.webhooks import paddle_events_prune

logger = logging.getLogger(__name__)

# A worker that stopped beating a day ago is gone; its row only clutters the table.
_FORGET_AFTER = datetime.timedelta(days=1)


def heartbeat_beat(*, kind: str, name: str | None = None) -> None:
    """Record that a process is alive now (one row per process, or one for the sweep)."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name or kind, defaults={"kind": kind, "seen_at": now})
    if kind == HeartbeatKind.SWEEP:
        Heartbeat.objects.filter(seen_at__lt=now - _FORGET_AFTER).delete()


def webhook_events_prune(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete the stored webhook events, Paddle's and m3ter's, received more than
    WEBHOOK_EVENT_RETENTION_DAYS ago and done with (an event still waiting for a worker is
    kept); 0 keeps every event. Deletes for at most half a task's time: what is left waits for
    the next run of the schedule. How many of each were deleted."""
    days = settings.WEBHOOK_EVENT_RETENTION_DAYS
    if days <= 0:
        return {}
    before = (now or timezone.now()) - datetime.timedelta(days=days)
    deadline = time.monotonic() + settings.Q_TIMEOUT / 2
    pruned = {
        "paddle": paddle_events_prune(received_before=before, deadline=deadline),
        "m3ter": inbound_events_prune(received_before=before, deadline=deadline),
    }
    if any(pruned.values()):
        logger.info(
            "Pruned webhook events received before %s: %d from Paddle, %d from m3ter.",
            before.isoformat(),
            pruned["paddle"],
            pruned["m3ter"],
        )
    return pruned
