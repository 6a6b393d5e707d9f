"""Pruning old webhook events: Paddle's and m3ter's, once they are done with, after
WEBHOOK_EVENT_RETENTION_DAYS, by the hourly schedule; the metrics' counter never goes down."""

import datetime

import pytest
from django.utils import timezone
from django_q.models import Schedule

from m3tersync.models import InboundEvent, InboundEventStatus
from m3tersync.tests.factories import InboundEventFactory
from ops.services import webhook_events_prune
from ops.tasks import webhook_events_prune_task
from paddle_destination.models import PaddleEvent, PaddleEventStatus
from paddle_destination.tests.factories import PaddleEventFactory

pytestmark = pytest.mark.django_db


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def events():
    """Events of both kinds, a day either side of the default 30 days' retention."""
    old, recent = days_ago(31), days_ago(29)
    paddle = {
        "old applied": PaddleEventFactory(received_at=old),
        "old ignored": PaddleEventFactory(received_at=old, status=PaddleEventStatus.IGNORED),
        "old waiting": PaddleEventFactory(received_at=old, status=PaddleEventStatus.RECEIVED),
        "recent": PaddleEventFactory(received_at=recent),
    }
    m3ter = {
        "old processed": InboundEventFactory(received_at=old),
        "old ignored": InboundEventFactory(received_at=old, status=InboundEventStatus.IGNORED),
        "old failed": InboundEventFactory(received_at=old, status=InboundEventStatus.FAILED),
        "old waiting": InboundEventFactory(received_at=old, status=InboundEventStatus.RECEIVED),
        "recent": InboundEventFactory(received_at=recent),
    }
    return paddle, m3ter


def kept(model, named):
    left = set(model.objects.values_list("pk", flat=True))
    return {name for name, event in named.items() if event.pk in left}


def test_events_done_with_are_pruned_after_the_retention_and_waiting_ones_kept(events):
    paddle, m3ter = events

    pruned = webhook_events_prune()

    assert pruned == {"paddle": 2, "m3ter": 3}
    assert kept(PaddleEvent, paddle) == {"old waiting", "recent"}
    assert kept(InboundEvent, m3ter) == {"old waiting", "recent"}


def test_the_retention_is_a_setting_and_zero_keeps_every_event(events, settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 0
    assert webhook_events_prune() == {}

    settings.WEBHOOK_EVENT_RETENTION_DAYS = 28
    assert webhook_events_prune() == {"paddle": 3, "m3ter": 4}
    assert PaddleEvent.objects.count() == InboundEvent.objects.count() == 1  # the waiting ones


def test_the_hourly_schedule_runs_the_pruning(events):
    schedule = Schedule.objects.get(func="ops.tasks.webhook_events_prune_task")

    webhook_events_prune_task()

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 60, -1)
    assert PaddleEvent.objects.count() == InboundEvent.objects.count() == 2


def received_counts(client) -> dict[str, float]:
    lines = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode().splitlines()
    prefix = "m3terpaddle_webhook_events_received_total{status="
    return {
        line[len(prefix) + 1 : line.index('"}')]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith(prefix)
    }


def test_the_count_of_m3ter_events_received_never_goes_down(events, client, settings):
    settings.METRICS_ACCESS = "open"
    before = received_counts(client)

    webhook_events_prune()
    webhook_events_prune()  # nothing more to prune: the tally stays as it is
    InboundEventFactory()

    after = received_counts(client)
    assert before == {"PROCESSED": 2.0, "IGNORED": 1.0, "FAILED": 1.0, "RECEIVED": 1.0}
    assert after == {**before, "PROCESSED": 3.0}
