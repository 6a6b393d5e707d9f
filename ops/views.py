"""Probes and metrics for load balancers, orchestrators and Prometheus, and the status page.

The probes and /metrics are served by ops.middleware.ProbeMiddleware ahead of the rest of the
stack: probes arrive with the host's IP as Host (no ALLOWED_HOSTS entry), carry no session and
no CSRF token.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from m3terpaddle.views_common import requires
from ops.collector import DatabaseCollector
from ops.selectors import operations_status, readiness


def healthz(request):
    """The process is alive and serving; nothing else is checked."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    report = readiness()
    return JsonResponse(report, status=200 if report["ready"] else 503)


def _metrics_refusal(request) -> HttpResponse | None:
    mode = settings.METRICS_ACCESS
    if mode == "open":
        return None
    if mode == "token":
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if given and hmac.compare_digest(given.encode(), settings.METRICS_TOKEN.encode()):
            return None
        return HttpResponse(
            "Metrics need the token: send 'Authorization: Bearer <METRICS_TOKEN>'.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": "Bearer"},
        )
    address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "0.0.0.0"))
    if any(address in network for network in settings.METRICS_ALLOWED_NETWORKS):
        return None
    return HttpResponse(
        f"Metrics are not served to {address}: scrape from a network in "
        "METRICS_ALLOWED_NETWORKS.\n",
        status=403,
        content_type="text/plain",
    )


def _process_registry():
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        return registry
    return REGISTRY


def metrics(request):
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    body = generate_latest(_process_registry()) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@requires("runs.view_integrationrun")
def status_view(request):
    """For the people on call: is Paddle answering, is the hub ready, what is waiting."""
    return render(request, "ops/status.html", operations_status())
