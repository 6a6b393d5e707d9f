import threading

import pytest

from ops.models import Heartbeat, HeartbeatKind
from ops.selectors import readiness
from ops.tests.factories import ready_beats
from ops.worker import worker_loop_start, worker_tick

pytestmark = pytest.mark.django_db


def test_a_worker_heartbeat_makes_a_stale_deployment_ready_again():
    ready_beats(worker_age=300)
    assert readiness()["ready"] is False

    worker_tick(name="worker-host:4242", beat=True)

    beat = Heartbeat.objects.get(name="worker-host:4242")
    assert beat.kind == HeartbeatKind.WORKER
    assert readiness()["ready"] is True


def test_inline_tasks_start_no_heartbeat():
    before = threading.active_count()
    worker_loop_start(sender="django_q", proc_name="inline")

    assert threading.active_count() == before
