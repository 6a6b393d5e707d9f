"""Deleting a batch at a time: one batch of ids in memory, one short transaction each."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from m3terpaddle.batches import queryset_delete_in_batches
from ops.models import Heartbeat
from ops.tests.factories import HeartbeatFactory

pytestmark = pytest.mark.django_db


def test_every_selected_row_goes_a_batch_at_a_time():
    HeartbeatFactory.create_batch(5, kind="WORKER")
    kept = HeartbeatFactory(kind="SWEEP")
    batches = []

    with CaptureQueriesContext(connection) as queries:
        deleted = queryset_delete_in_batches(
            Heartbeat.objects.filter(kind="WORKER"), batch_size=2, on_batch=batches.append
        )

    assert (deleted, batches) == (5, [2, 2, 1])
    assert list(Heartbeat.objects.all()) == [kept]
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 4 and all("LIMIT 2" in sql for sql in reads)  # never more ids than 2


def test_nothing_more_is_deleted_once_the_deadline_has_passed():
    HeartbeatFactory.create_batch(3)

    deleted = queryset_delete_in_batches(Heartbeat.objects.all(), deadline=time.monotonic() - 1)

    assert (deleted, Heartbeat.objects.count()) == (0, 3)


def test_a_batch_is_deleted_only_with_what_its_callback_records():
    HeartbeatFactory.create_batch(3)

    def refuse(count):
        raise RuntimeError("the tally could not be written")

    with pytest.raises(RuntimeError):
        queryset_delete_in_batches(Heartbeat.objects.all(), on_batch=refuse)

    assert Heartbeat.objects.count() == 3
