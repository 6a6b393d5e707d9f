import datetime

import factory
from django.utils import timezone

from ops.models import Heartbeat, HeartbeatKind


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    name = factory.Sequence(lambda n: f"host-{n}:{1000 + n}")
    kind = HeartbeatKind.WORKER
    seen_at = factory.LazyFunction(timezone.now)


def ready_beats(*, worker_age: float = 1, sweep_age: float = 1):
    """A worker heartbeat and a sweep, `*_age` seconds ago."""
    now = timezone.now()
    HeartbeatFactory(seen_at=now - datetime.timedelta(seconds=worker_age))
    HeartbeatFactory(
        name="SWEEP",
        kind=HeartbeatKind.SWEEP,
        seen_at=now - datetime.timedelta(seconds=sweep_age),
    )
