"""The hub's Prometheus metrics that processes count as things happen (the rest are read from
the database at scrape time, ops.collector).

Counted in the process where they happen, mostly qcluster workers. With PROMETHEUS_MULTIPROC_DIR
set (one directory per host, emptied at start), prometheus-client shares them between the
processes of a host: the web app's /metrics and `manage.py metrics_serve` then show the sum.
This module imports no app of ours, so any app may count here.
"""

import re

from prometheus_client import Counter, Histogram

PADDLE_REQUESTS = Counter(
    "m3terpaddle_paddle_requests",
    "Requests sent to Paddle, by endpoint and status code (0: no answer).",
    ["host", "method", "endpoint", "status"],
)
PADDLE_RATE_LIMITED = Counter(
    "m3terpaddle_paddle_rate_limited",
    "429 answers from Paddle.",
    ["host"],
)
RATE_LIMIT_WAIT = Histogram(
    "m3terpaddle_rate_limit_wait_seconds",
    "Time a request waited for its slot on the shared rate limiter.",
    buckets=(0, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DELIVERY_DURATION = Histogram(
    "m3terpaddle_delivery_duration_seconds",
    "Time one attempt at delivering a run took, by the status it left the run in.",
    ["status"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)

# Paddle ids in paths (txn_01h…, ctm_…, add_…) become {id}, so an endpoint is one label value.
_PADDLE_ID = re.compile(r"/[a-z]{2,5}_[0-9a-z]+")


def paddle_endpoint(path: str) -> str:
    return _PADDLE_ID.sub("/{id}", path) or "/"


def paddle_request_observe(
    *, host: str, method: str, path: str, status: int | None, waited: float
) -> None:
    PADDLE_REQUESTS.labels(host, method, paddle_endpoint(path), str(status or 0)).inc()
    RATE_LIMIT_WAIT.observe(waited)
    if status == 429:
        PADDLE_RATE_LIMITED.labels(host).inc()
