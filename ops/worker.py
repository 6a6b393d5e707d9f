"""Inside each qcluster worker process: a daemon thread that records the worker's heartbeat.

django-q2 sends `post_spawn` in every worker process it starts (and restarts), so the heartbeat
lives exactly as long as a process that can take tasks.
"""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import receiver
from django_q.signals import post_spawn

from ops.models import HeartbeatKind
from ops.services import heartbeat_beat

logger = logging.getLogger(__name__)


def _beat_forever(name: str, stop: threading.Event) -> None:
    while True:
        try:
            heartbeat_beat(kind=HeartbeatKind.WORKER, name=name)
        except Exception:  # a database hiccup must not end the heartbeat for good
            logger.exception("Could not record the worker heartbeat.")
        finally:
            close_old_connections()
        if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            return


@receiver(post_spawn, dispatch_uid="ops.worker.heartbeat")
def worker_heartbeat_start(sender, proc_name=None, **kwargs):
    # Inline (sync) tasks "spawn" a worker in the caller's process for every task: no cluster.
    if settings.Q_CLUSTER.get("sync"):
        return
    name = f"{socket.gethostname()}:{os.getpid()}"
    threading.Thread(
        target=_beat_forever,
        args=(name, threading.Event()),
        name=f"heartbeat {proc_name or name}",
        daemon=True,
    ).start()
