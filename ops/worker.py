"""Inside each qcluster worker process: a daemon thread that records the worker's heartbeat and,
about once a second, puts runs whose retry has come due back on the task queue (retries on time,
not at the next minute's sweep).

django-q2 sends `post_spawn` in every worker process it starts (and restarts), so the thread
lives exactly as long as a process that can take tasks.
"""

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import receiver
from django_q.signals import post_spawn

from ops.models import HeartbeatKind
from ops.services import heartbeat_beat
from runs.services import runs_enqueue_due

logger = logging.getLogger(__name__)


def worker_tick(*, name: str, beat: bool) -> None:
    """One round: the heartbeat when `beat`, then the due runs."""
    if beat:
        heartbeat_beat(kind=HeartbeatKind.WORKER, name=name)
    runs_enqueue_due()


def _worker_loop(name: str) -> None:
    next_beat = 0.0
    while True:
        beat = time.monotonic() >= next_beat
        try:
            worker_tick(name=name, beat=beat)
            if beat:
                next_beat = time.monotonic() + settings.WORKER_HEARTBEAT_SECONDS
        except Exception:  # a database hiccup must not end the loop for good
            logger.exception("The worker's heartbeat or due-runs poll failed; trying again.")
        finally:
            close_old_connections()
        time.sleep(settings.RUN_DUE_POLL_SECONDS)


@receiver(post_spawn, dispatch_uid="ops.worker.loop")
def worker_loop_start(sender, proc_name=None, **kwargs):
    # Inline (sync) tasks "spawn" a worker in the caller's process for every task: no cluster.
    if settings.Q_CLUSTER.get("sync"):
        return
    name = f"{socket.gethostname()}:{os.getpid()}"
    threading.Thread(
        target=_worker_loop,
        args=(name,),
        name=f"heartbeat {proc_name or name}",
        daemon=True,
    ).start()
