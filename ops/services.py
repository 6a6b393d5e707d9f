"""Writes of the operations app: heartbeats."""

import datetime

from django.utils import timezone

from ops.models import Heartbeat, HeartbeatKind

# A worker that stopped beating a day ago is gone; its row only clutters the table.
_FORGET_AFTER = datetime.timedelta(days=1)


def heartbeat_beat(*, kind: str, name: str | None = None) -> None:
    """Record that a process is alive now (one row per process, or one for the sweep)."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name or kind, defaults={"kind": kind, "seen_at": now})
    if kind == HeartbeatKind.SWEEP:
        Heartbeat.objects.filter(seen_at__lt=now - _FORGET_AFTER).delete()
